/* SPDX-License-Identifier: MIT */
#include "vm.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "efivars.h"
#include "error.h"
#include "gpt.h"
#include "partition.h"
#include "qemu.h"
#include "fileio.h"
#include "kvm.h"
#include "log.h"
#include "vmpayload.h"
#include "spawn-util.h"
#include "strv.h"

/* Under KVM a kernel or OVMF writes to the serial console within seconds; if
 * nothing comes this long, KVM is not really working and we retry with TCG. */
#define KVM_SILENCE_S 20

static void workdir_cleanup(char **p) {
        if (*p) {
                (void) rm_rf(*p);
                free(*p);
        }
}

/* OVMF's Secure Boot build (SMM required) and its empty variable store, into
 * which berth vm writes the image's keys (enroll_image_keys); with
 * --setup-mode the store stays empty, the firmware starts in setup mode and
 * the image's systemd-boot enrolls its own keys (loader/keys/auto) and
 * reboots into user mode. */
#define OVMF_SECBOOT_CODE "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define OVMF_SECBOOT_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

static int find_firmware(bool secure_boot, char **ret_code, char **ret_vars) {
        static const char *const pairs[][2] = {
                { "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd" },
                { "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
                { "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
        };
        const char *code = getenv("BERTH_OVMF_CODE"), *vars = getenv("BERTH_OVMF_VARS");

        if (secure_boot && isempty(code)) {
                if (access(OVMF_SECBOOT_CODE, R_OK) < 0 || access(OVMF_SECBOOT_VARS, R_OK) < 0)
                        return error_setf(ENOENT,
                                          "vm: --secure-boot needs %s and %s (install the ovmf "
                                          "package, scripts/deps)",
                                          OVMF_SECBOOT_CODE, OVMF_SECBOOT_VARS);
                code = OVMF_SECBOOT_CODE;
                vars = OVMF_SECBOOT_VARS;
        } else if (!isempty(code) || !isempty(vars)) {
                if (isempty(code) || access(code, R_OK) < 0)
                        return error_setf(ENOENT, "vm: BERTH_OVMF_CODE=%s is not readable",
                                          strempty(code));
                if (!isempty(vars) && access(vars, R_OK) < 0)
                        return error_setf(ENOENT, "vm: BERTH_OVMF_VARS=%s is not readable", vars);
        } else {
                for (size_t i = 0; i < ELEMENTSOF(pairs) && !code; i++)
                        if (access(pairs[i][0], R_OK) == 0 && access(pairs[i][1], R_OK) == 0) {
                                code = pairs[i][0];
                                vars = pairs[i][1];
                        }
                /* A unified image, used as -bios from a writable copy. */
                if (!code && access("/usr/share/ovmf/OVMF.fd", R_OK) == 0)
                        code = "/usr/share/ovmf/OVMF.fd";
                if (!code)
                        return error_setf(ENOENT,
                                          "vm: no UEFI firmware: neither %s nor "
                                          "/usr/share/ovmf/OVMF.fd exists (install the ovmf "
                                          "package, scripts/deps) or boot with --direct",
                                          pairs[0][0]);
        }
        *ret_code = strdup(code);
        *ret_vars = isempty(vars) ? NULL : strdup(vars);
        if (!*ret_code || (!isempty(vars) && !*ret_vars))
                return -ENOMEM;
        return 0;
}

static bool is_qcow2(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char magic[4];
        return fd >= 0 && read(fd, magic, sizeof magic) == (ssize_t) sizeof magic &&
               memcmp(magic, "QFI\xfb", 4) == 0;
}

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* The disk QEMU writes to: an existing --disk-copy as it is (a second boot of
 * the same machine), a new --disk-copy (a full sparse copy if named *.raw, a
 * qcow2 overlay otherwise), or an overlay in the work directory. The image's
 * own disk.raw is never written. */
static int prepare_disk(const VmOptions *o, const char *disk_raw, const char *workdir,
                        char **ret_path, const char **ret_format) {
        _cleanup_free_ char *abs_raw = realpath(disk_raw, NULL), *path = NULL;
        if (!abs_raw)
                return error_wrapf(-errno, "vm: %s", disk_raw);

        if (o->disk_copy && access(o->disk_copy, F_OK) == 0) {
                path = strdup(o->disk_copy);
                if (!path)
                        return -ENOMEM;
                log_info("vm: booting the existing disk copy %s", path);
                *ret_format = is_qcow2(path) ? "qcow2" : "raw";
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        path = o->disk_copy ? strdup(o->disk_copy) : path_join(workdir, "disk.qcow2");
        if (!path)
                return -ENOMEM;
        if (o->disk_copy && endswith(path, ".raw")) {
                char *convert[] = { "qemu-img", "convert", "-f", "raw", "-O",
                                    "raw",      abs_raw,   path, NULL };
                int r = spawn_run(convert, &(SpawnOptions){ .quiet = true }, NULL);
                if (r < 0)
                        return r;
                *ret_format = "raw";
        } else {
                char *create[] = { "qemu-img", "create", "-q",  "-f", "qcow2", "-b",
                                   abs_raw,    "-F",     "raw", path, NULL };
                int r = spawn_run(create, &(SpawnOptions){ .quiet = true }, NULL);
                if (r < 0)
                        return r;
                *ret_format = "qcow2";
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* A per-run copy of the UEFI variable store (kept next to --disk-copy, so a
 * second boot of the same disk sees the same variables). */
/* The image's Secure Boot keys, as its ESP holds them for systemd-boot's
 * enrollment (loader/keys/auto/{PK,KEK,db}.auth), written into the new
 * variable store VARS: the machine starts in user mode, as one whose owner
 * enrolled the keys before its first boot. */
static int enroll_image_keys(const char *disk_raw, const char *vars, const char *workdir) {
        static const char *const names[] = { "PK", "KEK", "db" };
        GptEntry parts[GPT_ENTRIES_MAX];
        const GptEntry *esp = NULL;
        size_t n;
        int r;

        r = gpt_read(disk_raw, parts, &n);
        if (r < 0)
                return error_wrapf(r, "vm: %s", disk_raw);
        for (size_t i = 0; i < n && !esp; i++)
                if (streq(parts[i].type, PART_TYPE_ESP))
                        esp = &parts[i];
        if (!esp)
                return error_setf(ENOENT, "vm: %s has no EFI system partition", disk_raw);

        char *env[] = { (char *) "MTOOLS_SKIP_CHECK=1", (char *) "MTOOLSRC=/dev/null", NULL };
        _cleanup_free_ char *img = strdup_printf("%s@@%" PRIu64, disk_raw, esp->offset);
        char *bufs[ELEMENTSOF(names)] = {};
        EfiAuthData keys[ELEMENTSOF(names)];
        if (!img)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(names) && r >= 0; i++) {
                _cleanup_free_ char *src = strdup_printf("::loader/keys/auto/%s.auth", names[i]),
                                    *dst = strdup_printf("%s/%s.auth", workdir, names[i]);
                size_t len = 0;
                if (!src || !dst) {
                        r = -ENOMEM;
                        break;
                }
                r = spawn_run((char *[]){ (char *) "mcopy", (char *) "-n", (char *) "-i", img, src,
                                          dst, NULL },
                              &(SpawnOptions){ .env_extra = env, .quiet = true }, NULL);
                if (r < 0) {
                        r = error_wrapf(r, "vm: reading %s from the ESP of %s (mcopy, mtools)",
                                        src + 2, disk_raw);
                        break;
                }
                r = read_full_file(dst, &bufs[i], &len, 1024 * 1024);
                if (r < 0) {
                        r = error_wrapf(r, "vm: reading %s", dst);
                        break;
                }
                r = efi_auth_parse(src + 2, (const uint8_t *) bufs[i], len, &keys[i]);
        }
        if (r >= 0)
                r = efivars_enroll(vars, keys);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                free(bufs[i]);
        if (r < 0)
                return error_wrapf(r, "vm: enrolling the image's Secure Boot keys");
        log_info("vm: enrolled the image's PK, KEK and db (its ESP's loader/keys/auto) into the "
                 "new UEFI variable store: the firmware starts in user mode");
        return 0;
}

static int prepare_vars(const VmOptions *o, const VmPlan *p, const char *disk_raw,
                        const char *workdir, char **ret_path) {
        const char *template = p->fw_vars ? p->fw_vars : p->fw_code;
        _cleanup_free_ char *path = o->disk_copy ? strdup_printf("%s.efivars", o->disk_copy)
                                                 : path_join(workdir, "efivars.fd");
        if (!path)
                return -ENOMEM;
        /* A --disk-copy machine keeps its variables (and so its enrolled
         * keys) from one boot to the next. */
        if (!(o->disk_copy && access(path, F_OK) == 0)) {
                int r = copy_file(template, path, 0644);
                if (r < 0)
                        return error_wrapf(r, "vm: copying %s to %s", template, path);
                if (o->secure_boot && !o->setup_mode) {
                        r = enroll_image_keys(disk_raw, path, workdir);
                        if (r < 0) {
                                (void) unlink(path);
                                return r;
                        }
                }
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int read_cmdline(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_full_file(path, &s, NULL, 64 * 1024);
        if (r < 0)
                return error_wrapf(r, "vm: reading %s", path);
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = 0;
        for (char *p = s; *p; p++)
                if (*p == '\n' || *p == '\t' || *p == '\r')
                        *p = ' ';
        *ret = TAKE_PTR(s);
        return 0;
}

static int require_file(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *p = path_join(dir, name);
        if (!p)
                return -ENOMEM;
        if (access(p, R_OK) < 0)
                return error_wrapf(-errno, "vm: %s (is %s the output of `berth build`?)", p, dir);
        *ret = TAKE_PTR(p);
        return 0;
}

static int choose_accel(const char **ret) {
        const char *force = getenv("BERTH_ACCEL"), *why = NULL;
        if (!isempty(force)) {
                if (!streq(force, "kvm") && !streq(force, "tcg"))
                        return error_setf(EINVAL, "vm: BERTH_ACCEL=%s: expected kvm or tcg", force);
                log_info("vm: accelerator %s (BERTH_ACCEL)", force);
                *ret = force;
                return 0;
        }
        if (kvm_probe(&why) > 0) {
                log_info("vm: accelerator kvm");
                *ret = "kvm";
        } else {
                log_info("vm: accelerator tcg (software emulation: %s)", why ? why : "no KVM");
                *ret = "tcg";
        }
        return 0;
}

void vm_plan_done(VmPlan *p) {
        free(p->qemu);
        free(p->disk);
        free(p->fw_code);
        free(p->fw_vars);
        free(p->vars);
        free(p->kernel);
        free(p->initrd);
        free(p->append);
        free(p->payload);
        free(p->cidata);
        free(p->fw_cmdline);
        free(p->tpm_dir);
        free(p->tpm_socket);
        *p = (VmPlan){};
}

static int push(char ***argv, char *s) {
        return s ? strv_push(argv, s) : -ENOMEM;
}

int vm_plan_argv(const VmOptions *o, const VmPlan *p, char ***ret) {
        _cleanup_strv_free_ char **a = NULL;
        int r = 0;

        r |= strv_extend(&a, p->qemu);
        r |= strv_extend(&a, "-name");
        r |= strv_extend(&a, "berth");
        r |= strv_extend(&a, "-machine");
        r |= push(&a, strdup_printf("q35,accel=%s%s", p->accel, o->secure_boot ? ",smm=on" : ""));
        if (o->secure_boot) {
                /* Only SMM code may write the variable store: what makes the
                 * enrolled keys stick. */
                r |= strv_extend(&a, "-global");
                r |= strv_extend(&a, "driver=cfi.pflash01,property=secure,value=on");
                r |= strv_extend(&a, "-global");
                r |= strv_extend(&a, "ICH9-LPC.disable_s3=1");
        }
        if (streq(p->accel, "kvm")) {
                r |= strv_extend(&a, "-cpu");
                r |= strv_extend(&a, "host");
        }
        r |= strv_extend(&a, "-m");
        r |= push(&a, strdup_printf("%u", o->memory_mib));
        r |= strv_extend(&a, "-smp");
        r |= push(&a, strdup_printf("%u", o->cpus));
        r |= strv_extend(&a, "-nodefaults");
        r |= strv_extend(&a, "-no-user-config");
        r |= strv_extend(&a, "-display");
        r |= strv_extend(&a, "none");
        /* The serial console on QEMU's stdout, which is our pipe. */
        r |= strv_extend(&a, "-chardev");
        r |= strv_extend(&a, "stdio,id=console,signal=off");
        r |= strv_extend(&a, "-serial");
        r |= strv_extend(&a, "chardev:console");
        if (o->no_reboot)
                r |= strv_extend(&a, "-no-reboot");

        if (p->kernel) {
                r |= strv_extend(&a, "-kernel");
                r |= strv_extend(&a, p->kernel);
                r |= strv_extend(&a, "-initrd");
                r |= strv_extend(&a, p->initrd);
                r |= strv_extend(&a, "-append");
                r |= strv_extend(&a, p->append);
        }
        if (p->vars) {
                if (p->fw_vars) {
                        r |= strv_extend(&a, "-drive");
                        r |= push(&a,
                                  strdup_printf("if=pflash,format=raw,unit=0,readonly=on,file=%s",
                                                p->fw_code));
                        r |= strv_extend(&a, "-drive");
                        r |= push(&a,
                                  strdup_printf("if=pflash,format=raw,unit=1,file=%s", p->vars));
                } else {
                        r |= strv_extend(&a, "-bios");
                        r |= strv_extend(&a, p->vars);
                }
        }

        r |= strv_extend(&a, "-drive");
        r |= push(&a, strdup_printf("if=none,id=disk0,format=%s,cache=unsafe,discard=unmap,file=%s",
                                    p->disk_format, p->disk));
        r |= strv_extend(&a, "-device");
        r |= strv_extend(&a, "virtio-blk-pci,drive=disk0,bootindex=1");
        if (p->payload) {
                r |= strv_extend(&a, "-drive");
                r |= push(&a, strdup_printf("if=none,id=payload,format=raw,readonly=on,file=%s",
                                            p->payload));
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "virtio-blk-pci,drive=payload");
        }
        if (p->cidata && o->cidata_fs == CIDATA_ISO9660) {
                /* Where clouds and hypervisors put a NoCloud seed: a CD-ROM on
                 * the q35 board's own AHCI controller. */
                r |= strv_extend(&a, "-drive");
                r |= push(&a, strdup_printf("if=none,id=cidata,format=raw,readonly=on,"
                                            "media=cdrom,file=%s",
                                            p->cidata));
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "ide-cd,drive=cidata,bus=ide.2");
        } else if (p->cidata) {
                r |= strv_extend(&a, "-drive");
                r |= push(&a, strdup_printf("if=none,id=cidata,format=raw,readonly=on,file=%s",
                                            p->cidata));
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "virtio-blk-pci,drive=cidata");
        }
        if (o->user_data) {
                r |= strv_extend(&a, "-fw_cfg");
                r |= push(&a, strdup_printf("name=opt/berth/user-data,file=%s", o->user_data));
        }
        if (o->api_socket) {
                /* One byte stream to the guest's berthd-vport, which relays it to
                 * /run/berth/api.sock (src/api/vport.h). */
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "virtio-serial-pci,id=vser0");
                r |= strv_extend(&a, "-chardev");
                r |= push(&a, strdup_printf("socket,id=berthapi,path=%s,server=on,wait=off",
                                            o->api_socket));
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "virtserialport,bus=vser0.0,chardev=berthapi,"
                                     "name=org.berth.api");
        }
        if (p->tpm_socket) {
                r |= strv_extend(&a, "-chardev");
                r |= push(&a, strdup_printf("socket,id=chrtpm,path=%s", p->tpm_socket));
                r |= strv_extend(&a, "-tpmdev");
                r |= strv_extend(&a, "emulator,id=tpm0,chardev=chrtpm");
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "tpm-crb,tpmdev=tpm0");
        }
        if (p->fw_cmdline) {
                r |= strv_extend(&a, "-fw_cfg");
                r |= push(&a, strdup_printf("name=opt/berth/cmdline,file=%s", p->fw_cmdline));
        }
        r |= strv_extend(&a, "-netdev");
        r |= strv_extend(&a, "user,id=net0");
        r |= strv_extend(&a, "-device");
        r |= strv_extend(&a, "virtio-net-pci,netdev=net0");
        r |= strv_extend(&a, "-device");
        r |= strv_extend(&a, "virtio-rng-pci");
        if (o->qmp_socket) {
                r |= strv_extend(&a, "-qmp");
                r |= push(&a, strdup_printf("unix:%s,server=on,wait=off", o->qmp_socket));
                /* q35's root bus takes no hot-plugged devices; a root port does. */
                r |= strv_extend(&a, "-device");
                r |= strv_extend(&a, "pcie-root-port,id=hotplug0,chassis=1");
        }
        if (r < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(a);
        return 0;
}

/* Paths QEMU parses inside a comma-separated option must not contain commas. */
static int check_option_path(const char *what, const char *path) {
        if (path && strchr(path, ','))
                return error_setf(EINVAL, "vm: %s path %s contains a comma, which QEMU cannot take",
                                  what, path);
        return 0;
}

static int check_options(const VmOptions *o) {
        if (isempty(o->image_dir))
                return error_setf(EINVAL, "vm: no image directory given");
        if (o->memory_mib < 128 || o->memory_mib > 1024 * 1024)
                return error_setf(EINVAL, "vm: memory %u MiB is out of range (128..1048576)",
                                  o->memory_mib);
        if (o->cpus < 1 || o->cpus > 256)
                return error_setf(EINVAL, "vm: %u CPUs is out of range (1..256)", o->cpus);
        if (o->run && !o->payload_dir)
                return error_setf(EINVAL, "vm: --run needs --payload DIR");
        if (o->cidata_fs != CIDATA_VFAT && !o->cidata)
                return error_setf(EINVAL, "vm: --cidata-fs needs --cidata FILE|DIR");
        if (o->secure_boot && o->direct)
                return error_setf(EINVAL,
                                  "vm: --secure-boot boots through the firmware; it cannot be "
                                  "combined with --direct");
        if (o->setup_mode && !o->secure_boot)
                return error_setf(EINVAL, "vm: --setup-mode is a mode of --secure-boot");
        return 0;
}

int vm_plan(const VmOptions *o, const char *workdir, VmPlan *p) {
        _cleanup_free_ char *disk_raw = NULL, *cmdline_file = NULL, *cmdline = NULL;
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = check_options(o);
        if (r < 0)
                return r;

        r = require_file(o->image_dir, "disk.raw", &disk_raw);
        if (r < 0)
                return r;
        if (o->direct) {
                r = require_file(o->image_dir, "vmlinuz", &p->kernel);
                if (r < 0)
                        return r;
                r = require_file(o->image_dir, "initrd", &p->initrd);
                if (r < 0)
                        return r;
                r = require_file(o->image_dir, "cmdline", &cmdline_file);
                if (r < 0)
                        return r;
                r = read_cmdline(cmdline_file, &cmdline);
                if (r < 0)
                        return r;
        }

        const char *q = getenv("BERTH_QEMU");
        r = spawn_find_program(isempty(q) ? "qemu-system-x86_64" : q, &p->qemu);
        if (r < 0)
                return error_wrapf(r, "vm: %s not found (install qemu-system-x86, scripts/deps)",
                                   isempty(q) ? "qemu-system-x86_64" : q);
        if (o->secure_boot) {
                /* Only a Secure Boot image boots: its ESP holds the signed
                 * UKI and the keys to enroll. */
                _cleanup_free_ char *uki = NULL;
                r = require_file(o->image_dir, "uki.efi", &uki);
                if (r < 0)
                        return error_setf(ENOENT,
                                          "vm: %s is no Secure Boot image (no uki.efi): build "
                                          "it with `berth build --secure-boot-keys DIR`",
                                          o->image_dir);
        }
        if (o->tpm) {
                r = spawn_find_program("swtpm", &p->tpm_dir);
                free(TAKE_PTR(p->tpm_dir));
                if (r < 0)
                        return error_setf(ENOENT,
                                          "vm: --tpm needs swtpm (install swtpm, scripts/deps)");
                /* Kept next to --disk-copy, like the UEFI variables: a second
                 * boot of the same machine has the same TPM. */
                p->tpm_dir = o->disk_copy ? strdup_printf("%s.tpm", o->disk_copy)
                                          : path_join(workdir, "tpm");
                p->tpm_socket = path_join(workdir, "swtpm.sock");
                if (!p->tpm_dir || !p->tpm_socket)
                        return -ENOMEM;
                r = mkdir_p(p->tpm_dir, 0700);
                if (r < 0)
                        return error_wrapf(r, "vm: creating %s", p->tpm_dir);
        }
        if (!o->direct) {
                r = find_firmware(o->secure_boot, &p->fw_code, &p->fw_vars);
                if (r < 0)
                        return r;
                r = prepare_vars(o, p, disk_raw, workdir, &p->vars);
                if (r < 0)
                        return r;
        }

        r = prepare_disk(o, disk_raw, workdir, &p->disk, &p->disk_format);
        if (r < 0)
                return r;

        if (o->payload_dir) {
                r = vmpayload_make_image(o->payload_dir, o->run, workdir, &p->payload);
                if (r < 0)
                        return r;
                r = strv_extend_words(&words, VM_PAYLOAD_CMDLINE, false);
                if (r < 0)
                        return r;
        }
        if (o->cidata) {
                r = cidata_make_image(o->cidata, o->cidata_fs, workdir, &p->cidata);
                if (r < 0)
                        return r;
        }
        if (!isempty(o->extra_cmdline)) {
                r = strv_extend_words(&words, o->extra_cmdline, false);
                if (r < 0)
                        return r;
        }
        if (words) {
                _cleanup_free_ char *joined = strv_join(words, " ");
                if (!joined)
                        return -ENOMEM;
                /* UEFI: systemd-boot's entry owns the command line, so these words
                 * reach berth-init through fw_cfg; direct boot gets them both ways. */
                p->fw_cmdline = path_join(workdir, "fw-cmdline");
                if (!p->fw_cmdline)
                        return -ENOMEM;
                r = write_file_atomic(p->fw_cmdline, joined, strlen(joined), 0644);
                if (r < 0)
                        return error_wrapf(r, "vm: writing %s", p->fw_cmdline);
                if (o->direct) {
                        char *s = strdup_printf("%s %s", cmdline, joined);
                        if (!s)
                                return -ENOMEM;
                        free(cmdline);
                        cmdline = s;
                }
        }
        if (o->direct)
                p->append = TAKE_PTR(cmdline);
        if (o->user_data && access(o->user_data, R_OK) < 0)
                return error_wrapf(-errno, "vm: --user-data %s", o->user_data);
        if (o->api_socket) {
                struct stat st;
                /* A socket left by an earlier run: QEMU would fail to bind. */
                if (lstat(o->api_socket, &st) == 0 && !S_ISSOCK(st.st_mode))
                        return error_setf(EEXIST, "vm: --api %s exists and is not a socket",
                                          o->api_socket);
                if (lstat(o->api_socket, &st) == 0)
                        (void) unlink(o->api_socket);
        }

        const char *paths[][2] = {
                { "disk", p->disk },
                { "payload", p->payload },
                { "config drive", p->cidata },
                { "firmware", p->fw_code },
                { "UEFI variables", p->vars },
                { "work directory", workdir },
                { "QMP socket", o->qmp_socket },
                { "user data", o->user_data },
                { "API socket", o->api_socket },
                { "TPM state", p->tpm_dir },
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = check_option_path(paths[i][0], paths[i][1]);
                if (r < 0)
                        return r;
        }
        return choose_accel(&p->accel);
}

/* swtpm for --tpm: a TPM 2.0 behind a Unix socket, which QEMU connects to
 * (QEMU resets it on a guest reboot). Returns once the socket exists. */
static int start_swtpm(const VmPlan *p, pid_t *ret_pid) {
        _cleanup_free_ char *state = strdup_printf("dir=%s", p->tpm_dir),
                            *ctrl = strdup_printf("type=unixio,path=%s", p->tpm_socket);
        pid_t pid;
        int r;

        if (!state || !ctrl)
                return -ENOMEM;
        r = spawn_start((char *[]){ (char *) "swtpm", (char *) "socket", (char *) "--tpmstate",
                                    state, (char *) "--ctrl", ctrl, (char *) "--tpm2", NULL },
                        &(SpawnOptions){ .quiet = true }, &pid);
        if (r < 0)
                return error_wrapf(r, "vm: cannot start swtpm");
        for (int i = 0; i < 100 && access(p->tpm_socket, F_OK) < 0; i++) {
                struct timespec ts = { .tv_nsec = 50 * 1000000 };
                (void) nanosleep(&ts, NULL);
        }
        if (access(p->tpm_socket, F_OK) < 0) {
                (void) kill(pid, SIGKILL);
                (void) spawn_wait(pid, NULL);
                return error_setf(ETIMEDOUT, "vm: swtpm did not create %s within 5 s",
                                  p->tpm_socket);
        }
        *ret_pid = pid;
        return 0;
}

static void stop_swtpm(pid_t pid) {
        if (pid <= 0)
                return;
        (void) kill(pid, SIGTERM);
        (void) spawn_wait(pid, NULL);
}

static int run_console(const VmOptions *o, VmPlan *p, QemuResult *res) {
        _cleanup_close_ int log_fd = -EBADF;
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (o->console_log) {
                log_fd = open(o->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (log_fd < 0)
                        return error_wrapf(-errno, "vm: opening console log %s", o->console_log);
        }
        r = vm_plan_argv(o, p, &argv);
        if (r < 0)
                return r;
        if (log_get_max_level() >= LOG_LEVEL_DEBUG) {
                _cleanup_free_ char *line = strv_join(argv, " ");
                log_debug("vm: %s", line ? line : argv[0]);
        }
        QemuRun c = {
                .argv = argv,
                .log_fd = log_fd,
                .timeout_s = o->timeout_s,
                .first_output_s = streq(p->accel, "kvm") ? KVM_SILENCE_S : 0,
        };
        pid_t tpm = 0;
        if (p->tpm_socket) {
                (void) unlink(p->tpm_socket);
                r = start_swtpm(p, &tpm);
                if (r < 0)
                        return r;
        }
        r = qemu_run(&c, res);
        stop_swtpm(tpm);
        return r;
}

int vm_run(const VmOptions *o) {
        _cleanup_(workdir_cleanup) char *workdir = NULL;
        _cleanup_(vm_plan_done) VmPlan p = {};
        QemuResult res;
        int r;

        r = check_options(o);
        if (r < 0)
                return r;

        const char *tmp = getenv("TMPDIR");
        workdir = strdup_printf("%s/berth-vm-XXXXXX", isempty(tmp) ? "/tmp" : tmp);
        if (!workdir)
                return -ENOMEM;
        if (!mkdtemp(workdir)) {
                r = error_wrapf(-errno, "vm: creating %s", workdir);
                free(TAKE_PTR(workdir));
                return r;
        }

        r = vm_plan(o, workdir, &p);
        if (r < 0)
                return r;

        log_info("vm: booting %s (%s%s, %s, %u MiB, %u CPU%s)%s%s", o->image_dir,
                 o->direct ? "direct kernel boot" : "UEFI",
                 o->secure_boot ? (o->tpm ? " Secure Boot, TPM" : " Secure Boot")
                                : (o->tpm ? ", TPM" : ""),
                 p.accel, o->memory_mib, o->cpus, o->cpus == 1 ? "" : "s",
                 o->console_log ? ", console in " : "", strempty(o->console_log));
        r = run_console(o, &p, &res);
        if (streq(p.accel, "kvm") &&
            (r == -ESTALE || (r == 0 && !res.got_output && res.exit_status != 0))) {
                if (r == -ESTALE)
                        log_warning("vm: no console output under KVM in %d s; retrying with TCG",
                                    KVM_SILENCE_S);
                else
                        log_warning("vm: QEMU failed under KVM before any console output; "
                                    "retrying with TCG");
                p.accel = "tcg";
                r = run_console(o, &p, &res);
        }
        /* A payload that reported ran, whatever failed before (a rollback
         * boots the other slot after failed tries). */
        if (r >= 0 && o->payload_dir && res.payload_status >= 0) {
                if (res.failures > 0)
                        log_warning("vm: %u failed boot%s before the payload ran; the first: %s",
                                    res.failures, res.failures == 1 ? "" : "s", res.failure);
                if (res.exit_status != 0)
                        log_error("vm: QEMU exited with status %d", res.exit_status);
                log_info("vm: payload exited with status %d", res.payload_status);
                return res.payload_status;
        }
        /* The failure that kept the guest from its payload or power-off is the
         * message, whether QEMU then ended by itself or at the timeout. */
        if (res.failures > 0 && r != -EINTR && (r >= 0 || r == -ETIMEDOUT || r == -ECANCELED)) {
                if (res.exit_status > 0)
                        log_warning("vm: QEMU exited with status %d", res.exit_status);
                return error_setf(ENOEXEC, "vm: the guest failed to boot%s: %s%s%s",
                                  res.failures > 1 ? " (more than once; the first failure)" : "",
                                  res.failure, o->console_log ? "; console in " : "",
                                  strempty(o->console_log));
        }
        if (r == -ETIMEDOUT)
                return error_setf(ETIMEDOUT, "vm: stopped QEMU after the timeout of %u s%s%s",
                                  o->timeout_s, o->console_log ? "; console in " : "",
                                  strempty(o->console_log));
        if (r == -EINTR)
                return error_setf(EINTR, "vm: interrupted; QEMU stopped");
        if (r < 0)
                return r;

        if (res.exit_status != 0)
                log_error("vm: QEMU exited with status %d", res.exit_status);
        if (!o->payload_dir)
                return res.exit_status;
        return error_setf(EPROTO,
                          "vm: the guest never reached its payload (no 'berth: payload exited "
                          "with status N' on the console%s%s)",
                          o->console_log ? "; console in " : "", strempty(o->console_log));
}
