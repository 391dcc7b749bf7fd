/* SPDX-License-Identifier: MIT */
/* The plan step of `berth vm` (vm_plan): what QEMU would be given, from a fake
 * image directory and fake firmware files, with the real qemu-img and
 * mkfs.ext4 making the overlay, disk copy and payload disk. No guest starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "fileio.h"
#include "gpt.h"
#include "partition.h"
#include "macro.h"
#include "strv.h"
#include "vm.h"
#include "vmpayload.h"

static char dir[] = "/tmp/berth-test-vm-XXXXXX";
static char *image, *work;

static char *p(const char *name) {
        char *s = path_join(dir, name);
        assert_non_null(s);
        return s;
}

static void put(const char *path, const char *s) {
        assert_int_equal(write_file_atomic(path, s, strlen(s), 0644), 0);
}

/* The output of `CMD 'ARG'`, which must succeed. */
static char *run_out(const char *cmd_prefix, const char *arg) {
        _cleanup_free_ char *cmd = strdup_printf("%s '%s'", cmd_prefix, arg);
        FILE *f = popen(cmd, "r");
        char buf[4096];
        size_t n;
        assert_non_null(f);
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        assert_int_equal(pclose(f), 0);
        return strdup(buf);
}

/* The index of the argument after the first `opt`, or -1. */
static int after(char **argv, const char *opt) {
        for (int i = 0; argv[i]; i++)
                if (streq(argv[i], opt) && argv[i + 1])
                        return i + 1;
        return -1;
}

static bool has_arg(char **argv, const char *s) {
        return strv_contains(argv, s);
}

static VmOptions options(void) {
        return (VmOptions){ .image_dir = image, .memory_mib = 512, .cpus = 2 };
}

/* A fresh image directory and work directory for each test. */
static int setup_each(void **state) {
        _cleanup_free_ char *disk = NULL;
        (void) rm_rf(image);
        (void) rm_rf(work);
        assert_int_equal(mkdir_p(image, 0755), 0);
        assert_int_equal(mkdir_p(work, 0755), 0);
        disk = path_join(image, "disk.raw");
        assert_int_equal(write_file_atomic(disk, "berth disk", 10, 0644), 0);
        assert_int_equal(truncate(disk, 8 << 20), 0);
        _cleanup_free_ char *k = path_join(image, "vmlinuz"), *i = path_join(image, "initrd"),
                            *c = path_join(image, "cmdline");
        put(k, "kernel");
        put(i, "initrd");
        put(c, "usrhash=abc berth.slot=a\n\tquiet\n\n");
        setenv("BERTH_ACCEL", "tcg", 1);
        setenv("BERTH_QEMU", "/bin/true", 1);
        unsetenv("BERTH_OVMF_CODE");
        unsetenv("BERTH_OVMF_VARS");
        return 0;
}

static void test_direct_boot_passes_kernel_initrd_and_joined_cmdline(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *fwc = NULL, *info = NULL, *disk = path_join(image, "disk.raw");
        VmOptions o = options();
        o.direct = true;
        o.extra_cmdline = "  berth.debug=1   loglevel=7 ";

        assert_int_equal(vm_plan(&o, work, &plan), 0);
        /* The cmdline file's newlines and tabs become spaces, the extra words
         * follow; the same extra words go to fw_cfg. */
        assert_string_equal(plan.append,
                            "usrhash=abc berth.slot=a  quiet berth.debug=1 loglevel=7");
        assert_non_null(plan.fw_cmdline);
        assert_int_equal(read_full_file(plan.fw_cmdline, &fwc, NULL, 0), 0);
        assert_string_equal(fwc, "berth.debug=1 loglevel=7");
        assert_null(plan.vars);

        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        assert_string_equal(argv[0], "/bin/true");
        assert_string_equal(argv[after(argv, "-kernel")], plan.kernel);
        assert_true(strstr(plan.kernel, "/vmlinuz") != NULL);
        assert_string_equal(argv[after(argv, "-append")], plan.append);
        assert_string_equal(argv[after(argv, "-machine")], "q35,accel=tcg");
        assert_string_equal(argv[after(argv, "-m")], "512");
        assert_string_equal(argv[after(argv, "-smp")], "2");
        assert_false(has_arg(argv, "-cpu")); /* -cpu host only under KVM */
        assert_int_equal(after(argv, "-bios"), -1);
        assert_false(has_arg(argv, "-no-reboot"));

        /* QEMU writes a qcow2 overlay in the work directory backed by the
         * image's disk.raw, which is never written. */
        assert_string_equal(plan.disk_format, "qcow2");
        assert_true(strncmp(plan.disk, work, strlen(work)) == 0);
        info = run_out("qemu-img info --output=json", plan.disk);
        assert_non_null(strstr(info, "\"format\": \"qcow2\""));
        assert_non_null(strstr(info, "\"backing-filename-format\": \"raw\""));
        assert_non_null(strstr(info, disk));
        _cleanup_free_ char *d = strdup_printf(
                "if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap,file=%s", plan.disk);
        assert_true(has_arg(argv, d));
}

static void test_uefi_uses_a_copy_of_the_variable_store(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *code = p("OVMF_CODE.fd"), *vars = p("OVMF_VARS.fd"), *copy = NULL,
                            *want0 = NULL, *want1 = NULL;
        VmOptions o = options();
        o.no_reboot = true;

        put(code, "code");
        put(vars, "variables template");
        setenv("BERTH_OVMF_CODE", code, 1);
        setenv("BERTH_OVMF_VARS", vars, 1);
        setenv("BERTH_ACCEL", "kvm", 1);

        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_null(plan.kernel);
        assert_null(plan.append);
        assert_null(plan.fw_cmdline); /* no extra words, no payload */
        assert_string_equal(plan.accel, "kvm");
        assert_non_null(plan.vars);
        assert_string_not_equal(plan.vars, vars);
        assert_int_equal(read_full_file(plan.vars, &copy, NULL, 0), 0);
        assert_string_equal(copy, "variables template");

        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        want0 = strdup_printf("if=pflash,format=raw,unit=0,readonly=on,file=%s", code);
        want1 = strdup_printf("if=pflash,format=raw,unit=1,file=%s", plan.vars);
        assert_true(has_arg(argv, want0));
        assert_true(has_arg(argv, want1));
        assert_int_equal(after(argv, "-kernel"), -1);
        assert_string_equal(argv[after(argv, "-cpu")], "host");
        assert_string_equal(argv[after(argv, "-machine")], "q35,accel=kvm");
        assert_true(has_arg(argv, "-no-reboot"));
}

static void test_unified_firmware_boots_from_a_writable_bios_copy(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *code = p("OVMF.fd"), *copy = NULL;
        VmOptions o = options();

        put(code, "unified");
        setenv("BERTH_OVMF_CODE", code, 1);
        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_null(plan.fw_vars);
        assert_int_equal(read_full_file(plan.vars, &copy, NULL, 0), 0);
        assert_string_equal(copy, "unified");
        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        assert_string_equal(argv[after(argv, "-bios")], plan.vars);
}

static void test_disk_copy_raw_is_a_full_copy_and_is_reused(void **state) {
        _cleanup_free_ char *copy = p("machine.raw"), *data = NULL, *efivars = NULL;
        VmOptions o = options();
        o.direct = true;
        o.disk_copy = copy;
        (void) unlink(copy);

        {
                _cleanup_(vm_plan_done) VmPlan plan = {};
                assert_int_equal(vm_plan(&o, work, &plan), 0);
                assert_string_equal(plan.disk, copy);
                assert_string_equal(plan.disk_format, "raw");
        }
        struct stat st;
        assert_int_equal(stat(copy, &st), 0);
        assert_int_equal(st.st_size, 8 << 20);
        assert_int_equal(read_full_file(copy, &data, NULL, 0), 0);
        assert_memory_equal(data, "berth disk", 10);

        /* A second boot of the same machine boots the existing copy as it is. */
        put(copy, "changed by the guest");
        {
                _cleanup_(vm_plan_done) VmPlan plan = {};
                assert_int_equal(vm_plan(&o, work, &plan), 0);
                assert_string_equal(plan.disk_format, "raw");
        }
        free(data);
        data = NULL;
        assert_int_equal(read_full_file(copy, &data, NULL, 0), 0);
        assert_string_equal(data, "changed by the guest");

        /* A qcow2 copy is recognised by its magic, whatever its name. */
        _cleanup_free_ char *q = p("machine.img");
        (void) unlink(q);
        o.disk_copy = q;
        {
                _cleanup_(vm_plan_done) VmPlan plan = {};
                assert_int_equal(vm_plan(&o, work, &plan), 0);
                assert_string_equal(plan.disk_format, "qcow2");
        }
        {
                _cleanup_(vm_plan_done) VmPlan plan = {};
                assert_int_equal(vm_plan(&o, work, &plan), 0);
                assert_string_equal(plan.disk_format, "qcow2");
        }
}

static void test_payload_becomes_a_labelled_ext4_disk_and_cmdline_words(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *pay = p("payload"), *run = p("payload/run"), *fwc = NULL,
                            *label = NULL, *want = NULL;
        VmOptions o = options();
        o.direct = true;
        o.payload_dir = pay;

        assert_int_equal(mkdir_p(pay, 0755), 0);
        put(run, "#!/bin/sh\necho hi\n");
        assert_int_equal(chmod(run, 0755), 0);

        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_non_null(plan.payload);
        label = run_out("blkid -o value -s LABEL", plan.payload);
        assert_string_equal(label, VM_PAYLOAD_LABEL "\n");
        assert_int_equal(read_full_file(plan.fw_cmdline, &fwc, NULL, 0), 0);
        assert_string_equal(fwc, VM_PAYLOAD_CMDLINE);
        assert_non_null(strstr(plan.append, " " VM_PAYLOAD_CMDLINE));

        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        want = strdup_printf("if=none,id=payload,format=raw,readonly=on,file=%s", plan.payload);
        assert_true(has_arg(argv, want));
        _cleanup_free_ char *fw = strdup_printf("name=opt/berth/cmdline,file=%s", plan.fw_cmdline);
        assert_string_equal(argv[after(argv, "-fw_cfg")], fw);
}

static void test_user_data_goes_to_fw_cfg_and_the_api_to_a_virtio_serial_port(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *ud = p("user-data.json"), *sock = p("api.sock"), *want = NULL,
                            *chardev = NULL, *notsock = p("plain");
        VmOptions o = options();
        o.direct = true;
        o.user_data = ud;
        o.api_socket = sock;

        /* Missing user data is refused before QEMU runs. */
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
        plan = (VmPlan){};
        put(ud, "{}");
        /* A socket left by an earlier run is removed. */
        assert_int_equal(mknod(sock, S_IFSOCK | 0600, 0), 0);
        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_int_equal(access(sock, F_OK), -1);
        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        want = strdup_printf("name=opt/berth/user-data,file=%s", ud);
        assert_true(has_arg(argv, want));
        assert_true(has_arg(argv, "virtio-serial-pci,id=vser0"));
        chardev = strdup_printf("socket,id=berthapi,path=%s,server=on,wait=off", sock);
        assert_true(has_arg(argv, chardev));
        assert_true(has_arg(argv, "virtserialport,bus=vser0.0,chardev=berthapi,"
                                  "name=org.berth.api"));
        vm_plan_done(&plan);
        plan = (VmPlan){};
        /* Anything else at the socket path is not touched. */
        put(notsock, "keep");
        o.api_socket = notsock;
        assert_int_equal(vm_plan(&o, work, &plan), -EEXIST);
        assert_int_equal(access(notsock, F_OK), 0);
}

/* --cidata: a vfat volume on a read-only virtio disk, an iso9660 one on a
 * CD-ROM, both labelled CIDATA with user-data (and meta-data) at the top;
 * mtools and xorriso read them back. */
static void test_cidata_makes_a_labelled_config_drive(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *ud = p("ud.json"), *seed = p("seed"), *sub = p("seed/sub"),
                            *md = p("seed/meta-data"), *sud = p("seed/user-data"), *label = NULL,
                            *content = NULL, *want = NULL, *cmd = NULL;
        VmOptions o = options();
        o.direct = true;
        o.cidata = ud;

        put(ud, "{\"network\": {}}\n");
        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_non_null(plan.cidata);
        label = run_out("blkid -o value -s LABEL", plan.cidata);
        assert_string_equal(label, "CIDATA\n");
        cmd = strdup_printf("mtype -i '%s' ::/user-data; mdir -b -i", plan.cidata);
        content = run_out(cmd, plan.cidata);
        assert_string_equal(content, "{\"network\": {}}\n::/user-data\n::/meta-data\n");
        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        want = strdup_printf("if=none,id=cidata,format=raw,readonly=on,file=%s", plan.cidata);
        assert_true(has_arg(argv, want));
        assert_true(has_arg(argv, "virtio-blk-pci,drive=cidata"));
        vm_plan_done(&plan);
        plan = (VmPlan){};
        argv = strv_free(argv);

        /* A directory: its files; iso9660 needs xorriso. */
        assert_int_equal(mkdir_p(seed, 0755), 0);
        put(sud, "{}");
        put(md, "instance-id: x\n");
        o.cidata = seed;
        o.cidata_fs = CIDATA_ISO9660;
        if (system("command -v xorriso >/dev/null") == 0) {
                free(label);
                assert_int_equal(vm_plan(&o, work, &plan), 0);
                label = run_out("blkid -o value -s LABEL", plan.cidata);
                assert_string_equal(label, "CIDATA\n");
                free(content);
                free(cmd);
                cmd = strdup_printf("xorriso -indev '%s' -find / -type f 2>/dev/null; :",
                                    plan.cidata);
                content = run_out(cmd, "");
                assert_non_null(strstr(content, "'/user-data'"));
                assert_non_null(strstr(content, "'/meta-data'"));
                assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
                free(want);
                want = strdup_printf("if=none,id=cidata,format=raw,readonly=on,media=cdrom,"
                                     "file=%s",
                                     plan.cidata);
                assert_true(has_arg(argv, want));
                assert_true(has_arg(argv, "ide-cd,drive=cidata,bus=ide.2"));
                vm_plan_done(&plan);
                plan = (VmPlan){};
        }
        /* The NoCloud layout is flat. */
        assert_int_equal(mkdir_p(sub, 0755), 0);
        o.cidata_fs = CIDATA_VFAT;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        vm_plan_done(&plan);
        plan = (VmPlan){};
        /* --cidata-fs alone, a missing source. */
        o.cidata = NULL;
        o.cidata_fs = CIDATA_ISO9660;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        o.cidata = p("nothing");
        o.cidata_fs = CIDATA_VFAT;
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        free((char *) o.cidata);
        assert_int_equal(cidata_fs_from_string("iso9660"), CIDATA_ISO9660);
        assert_int_equal(cidata_fs_from_string("ext4"), _CIDATA_FS_INVALID);
}

static void test_bad_options_and_missing_files_are_refused(void **state) {
        _cleanup_free_ char *k = path_join(image, "vmlinuz"), *comma = p("a,b"),
                            *disk = path_join(image, "disk.raw");
        VmOptions o = options();
        VmPlan plan = {};

        o.memory_mib = 64;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        o = options();
        o.cpus = 0;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        o = options();
        o.run = "echo hi"; /* --run without --payload */
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        o = options();
        o.image_dir = "";
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);

        /* An unknown accelerator name. */
        o = options();
        o.direct = true;
        setenv("BERTH_ACCEL", "hvf", 1);
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        vm_plan_done(&plan);
        setenv("BERTH_ACCEL", "tcg", 1);

        /* No QEMU. */
        setenv("BERTH_QEMU", "/nonexistent/qemu", 1);
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
        setenv("BERTH_QEMU", "/bin/true", 1);

        /* UEFI firmware named but not there. */
        o.direct = false;
        setenv("BERTH_OVMF_CODE", "/nonexistent/OVMF_CODE.fd", 1);
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
        unsetenv("BERTH_OVMF_CODE");

        /* A comma in a path QEMU parses inside an option. */
        o = options();
        o.direct = true;
        o.disk_copy = comma;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        vm_plan_done(&plan);

        /* Direct boot without a kernel; any boot without a disk. */
        o = options();
        o.direct = true;
        assert_int_equal(unlink(k), 0);
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
        assert_int_equal(unlink(disk), 0);
        o.direct = false;
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
}

/* Replaces the fake image's disk.raw with a GPT disk whose ESP is an empty
 * FAT file system. -1 (the case is left out) without mkfs.vfat. */
static int esp_disk_without_keys(void) {
        _cleanup_free_ char *disk = path_join(image, "disk.raw"),
                            *cmd = strdup_printf(
                                    "mkfs.vfat --offset=2048 '%s' 6144 >/dev/null 2>&1", disk);
        GptPartition esp = { .label = "esp",
                             .type = PART_TYPE_ESP,
                             .uuid = "0d3b9a8e-6a43-4f4a-9d86-6c3bd0c1e001",
                             .offset = 1 << 20,
                             .size = 6 << 20 };
        if (system("command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null") != 0)
                return -1;
        assert_int_equal(truncate(disk, 8 << 20), 0);
        assert_int_equal(gpt_write(disk, "0d3b9a8e-6a43-4f4a-9d86-6c3bd0c1e000", &esp, 1), 0);
        return system(cmd) == 0 ? 0 : -1;
}

/* --secure-boot takes OVMF's Secure Boot build with SMM and a Secure Boot
 * image (uki.efi); --tpm adds swtpm's socket as a tpm-crb device. */
static void test_secure_boot_and_tpm(void **state) {
        _cleanup_(vm_plan_done) VmPlan plan = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *uki = path_join(image, "uki.efi"), *chardev = NULL;
        VmOptions o = options();

        if (access("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", R_OK) < 0 ||
            system("command -v swtpm >/dev/null") != 0) {
                skip_test("no OVMF Secure Boot build or no swtpm");
                return;
        }
        o.secure_boot = true;
        o.tpm = true;
        /* not a Secure Boot image */
        assert_int_equal(vm_plan(&o, work, &plan), -ENOENT);
        vm_plan_done(&plan);
        /* no direct kernel boot under Secure Boot */
        o.direct = true;
        assert_int_equal(vm_plan(&o, work, &plan), -EINVAL);
        vm_plan_done(&plan);
        o.direct = false;

        put(uki, "signed uki");
        /* The keys come from the image's ESP: a disk without a GPT has none. */
        assert_int_equal(vm_plan(&o, work, &plan), -ENOMEDIUM);
        assert_non_null(strstr(error_message(-ENOMEDIUM), "disk.raw"));
        vm_plan_done(&plan);
        /* An ESP without loader/keys/auto: the missing file is named. */
        if (esp_disk_without_keys() == 0) {
                int r = vm_plan(&o, work, &plan);
                assert_true(r < 0);
                assert_non_null(strstr(error_message(r), "loader/keys/auto/PK.auth"));
                vm_plan_done(&plan);
        }
        /* --setup-mode: an empty store, systemd-boot enrolls. */
        o.setup_mode = true;
        assert_int_equal(vm_plan(&o, work, &plan), 0);
        assert_string_equal(plan.fw_code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
        assert_string_equal(plan.fw_vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        assert_non_null(plan.tpm_socket);
        assert_int_equal(vm_plan_argv(&o, &plan, &argv), 0);
        assert_string_equal(argv[after(argv, "-machine")], "q35,accel=tcg,smm=on");
        assert_true(has_arg(argv, "driver=cfi.pflash01,property=secure,value=on"));
        assert_true(has_arg(argv, "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/"
                                  "OVMF_CODE_4M.secboot.fd"));
        chardev = strdup_printf("socket,id=chrtpm,path=%s", plan.tpm_socket);
        assert_true(has_arg(argv, chardev));
        assert_true(has_arg(argv, "emulator,id=tpm0,chardev=chrtpm"));
        assert_true(has_arg(argv, "tpm-crb,tpmdev=tpm0"));
}

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        image = path_join(dir, "image");
        work = path_join(dir, "work");
        return image && work ? 0 : -1;
}

static int teardown(void **state) {
        free(image);
        free(work);
        return rm_rf(dir);
}

int main(void) {
        if (system("command -v qemu-img >/dev/null && command -v blkid >/dev/null && "
                   "command -v mtype >/dev/null && "
                   "PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4 >/dev/null && "
                   "PATH=$PATH:/usr/sbin:/sbin command -v mkfs.vfat >/dev/null") != 0) {
                fprintf(stderr, "qemu-img, blkid, mtools, mkfs.ext4 or mkfs.vfat missing, "
                                "skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_direct_boot_passes_kernel_initrd_and_joined_cmdline,
                                       setup_each),
                cmocka_unit_test_setup(test_uefi_uses_a_copy_of_the_variable_store, setup_each),
                cmocka_unit_test_setup(test_unified_firmware_boots_from_a_writable_bios_copy,
                                       setup_each),
                cmocka_unit_test_setup(test_disk_copy_raw_is_a_full_copy_and_is_reused, setup_each),
                cmocka_unit_test_setup(test_payload_becomes_a_labelled_ext4_disk_and_cmdline_words,
                                       setup_each),
                cmocka_unit_test_setup(
                        test_user_data_goes_to_fw_cfg_and_the_api_to_a_virtio_serial_port,
                        setup_each),
                cmocka_unit_test_setup(test_cidata_makes_a_labelled_config_drive, setup_each),
                cmocka_unit_test_setup(test_bad_options_and_missing_files_are_refused, setup_each),
                cmocka_unit_test_setup(test_secure_boot_and_tpm, setup_each),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
