/* SPDX-License-Identifier: MIT */
/* berth-init: PID 1. In the initramfs (PID 1 and /etc/initrd-release) it runs
 * stage 1; as PID 1 in the real root, the supervisor; with --supervise DIR, the
 * supervisor as an ordinary process for tests (no mounts, no reboot).
 *
 * Built twice (src/init/meson.build): berth-stage1, the initramfs's /init,
 * with stage 1 (BERTH_INIT_STAGE1=1), and berth-init, the real root's PID 1,
 * without it, so that stage 1's libraries (libfdisk, libkmod and what it
 * brings: libcrypto, libzstd, liblzma) are never mapped into the process that
 * lives as long as the machine (docs/init.md, "Memory"). */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "error.h"
#include "fileio.h"
#include "initutil.h"
#include "log.h"
#include "modules.h"
#include "firstboot.h"
#include "payload.h"
#include "service.h"
#if BERTH_INIT_STAGE1
#include "stage1.h"
#endif
#include "supervise.h"
#include "sysinit.h"

#define SERVICES_DIR "/usr/lib/berth/services"
#define NOTIFY_PATH "/run/berth/notify"
#define LOG_DIR "/var/log/berth"

static int open_console(void) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        (void) dup2(fd, i);
        log_set_fd(fd);
        return fd;
}

static ServiceSet *load_services(const char *dir) {
        ServiceSet *set = NULL;
        int r = service_set_load(dir, &set);
        if (r < 0) {
                log_error("cannot load the services of %s, starting none: %s", dir,
                          error_message(r));
                set = calloc(1, sizeof *set);
        }
        return set;
}

#define BERTHD_PATH "/usr/lib/berth/berthd"
/* berthd --boot's exit status for invalid user data (EX_DATAERR). */
#define BERTHD_BOOT_INVALID 65

/* The module work (modload.h) runs in another program, berth-stage1
 * --modules WHAT, in a child: the module indexes and their heap never become
 * PID 1's memory, and liblzma (for .ko.xz) is not even mapped into it. Returns the child's pid, or
 * -1 if fork failed (then that work is not done, logged). A child nobody waits for is reaped by the
 * supervisor. */
#define STAGE1_BINARY "/usr/lib/berth/berth-stage1"

static pid_t start_child(const char *what) {
        pid_t pid = fork();
        if (pid == 0) {
                execl(STAGE1_BINARY, STAGE1_BINARY, "--modules", what, (char *) NULL);
                log_error_errno(errno, "cannot execute " STAGE1_BINARY ", modules (%s) not loaded",
                                what);
                _exit(127);
        }
        if (pid < 0)
                log_error_errno(errno, "cannot fork, modules (%s) not loaded", what);
        return pid;
}

static void wait_child(pid_t pid) {
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
}

static void in_child(const char *what) {
        wait_child(start_child(what));
}

#if BERTH_INIT_STAGE1
/* Under QEMU the fw_cfg driver comes first: berth vm passes switches and
 * user data through it (initutil.c, berthd --boot). */
static void load_fw_cfg(void) {
        if (access("/sys/bus/acpi/devices/QEMU0002:00", F_OK) == 0)
                (void) modules_load((const char *const[]){ "qemu_fw_cfg", NULL });
}

static void load_image_modules(void) {
        (void) modules_load_dir("/usr/lib/modules-load.d");
}

static void load_settings_modules(void) {
        (void) modules_load_dir("/etc/modules-load.d");
}

/* Hardware random number generators (virtio-rng, ...) and NICs, by where
 * their modules lie in the module tree. */
static const char *const early_drivers[] = { "/kernel/drivers/char/hw_random/",
                                             "/kernel/drivers/net/", NULL };

static void coldplug_early(void) {
        (void) prctl(PR_SET_NAME, "berth-coldplug");
        (void) modules_coldplug(early_drivers);
}

/* Behind the services on a busy or single CPU (it stays in the root cgroup,
 * where nice 10 weighs about a tenth of a service's cgroup): drivers
 * arrive a little later, containerd is not slowed down. */
static void coldplug_rest(void) {
        (void) prctl(PR_SET_NAME, "berth-coldplug");
        (void) !nice(10);
        (void) modules_coldplug(NULL);
}

/* berth-stage1 --modules WHAT, for berth-init (start_child). */
static int modules_main(const char *what) {
        static const struct {
                const char *what;
                void (*run)(void);
        } table[] = {
                { "fw-cfg", load_fw_cfg },
                { "image", load_image_modules },
                { "settings", load_settings_modules },
                { "coldplug-early", coldplug_early },
                { "coldplug", coldplug_rest },
        };
        log_set_prefix("berth");
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(what, table[i].what)) {
                        table[i].run();
                        return 0;
                }
        return log_error_code(EINVAL,
                              "--modules: '%s' is not fw-cfg, image, settings, coldplug-early or "
                              "coldplug",
                              what);
}
#endif

/* berthd --boot (docs/api.md "At boot"): first-boot user data, then /etc
 * rendered from the factory files and the current settings generation.
 * Returns false if the boot must stop (invalid user data: berthd printed the
 * line naming the field and wrote the report to the ESP). */
static bool render_etc(pid_t image_modules) {
        int status = 0;
        pid_t pid;

        if (access(BERTHD_PATH, X_OK) < 0) {
                wait_child(image_modules);
                return true;
        }
        pid = fork();
        if (pid == 0) {
                execl(BERTHD_PATH, BERTHD_PATH, "--boot", (char *) NULL);
                log_error_errno(errno, "cannot run " BERTHD_PATH);
                _exit(EXIT_FAILURE);
        }
        if (pid < 0) {
                log_error_errno(errno, "cannot fork to run " BERTHD_PATH " --boot");
                wait_child(image_modules);
                return true;
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        /* The sysctls below may name what the image's modules add
         * (net.bridge.* with br_netfilter). */
        wait_child(image_modules);
        if (WIFEXITED(status) && WEXITSTATUS(status) == BERTHD_BOOT_INVALID)
                return false;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                log_error(BERTHD_PATH " --boot failed (status %d): /etc may lack the settings",
                          status);
        /* What sysinit took from the factory /etc, again from the rendered one. */
        sysinit_set_hostname();
        sysinit_apply_sysctl();
        timeline("etc-rendered");
        return true;
}

/* Coldplug of hardware RNGs and NICs starts first, beside the image's module
 * lists and berthd --boot: the RNG seeds the kernel's random pool, which
 * berthd --boot (GnuTLS initialises its generator at load) otherwise waits
 * for, 1-1.5 s under emulation without RDRAND, while the kernel makes
 * entropy from timer jitter; the NIC is there when dhcpcd starts (the
 * sysctls of the rendered /etc reach it all the same: sysinit.c writes a
 * changed default to the interfaces that exist). The image's lists
 * (overlay, netfilter: containerd needs them at start) load beside berthd
 * --boot, which needs only fw_cfg, and are waited for before the sysctls of
 * the rendered /etc; then the settings' modules. Then coldplug of every
 * other device; the services cope with devices that appear later (dhcpcd
 * picks up interfaces as they come). */
static bool load_modules(void) {
        (void) start_child("coldplug-early");
        in_child("fw-cfg");
        bool go_on = render_etc(start_child("image"));
        if (!go_on)
                return false;
        in_child("settings");
        timeline("modules-loaded");
        (void) start_child("coldplug");
        return true;
}

_noreturn_ static void pid1_main(void) {
        ShutdownAction action = SHUTDOWN_REBOOT;
        int console = open_console();
        int r;

        log_set_prefix("berth");
        sysinit_setup();
        /* Drivers for the hardware present, then what the image asks for
         * (overlay, netfilter, ...): the initramfs loaded only storage. A child
         * does it, so the module indexes never become PID 1's memory. */
        if (!load_modules()) {
                log_error("boot stopped before any service: invalid user data");
                sysinit_final(proc_cmdline_get_bool("berth.debug.noreboot") ? SHUTDOWN_HALT
                                                                            : SHUTDOWN_POWEROFF);
        }
        sysinit_mount_efivarfs();

        SuperviseConfig cfg = {
                .log_dir = LOG_DIR,
                .notify_path = NOTIFY_PATH,
                .status_dir = INITCTL_STATUS_DIR,
                .control_path = INITCTL_SOCKET,
                .first_boot = access(FIRSTBOOT_FLAG, F_OK) == 0,
                .console_fd = console,
        };
        char audit[8] = "";
        /* audit=0 on the command line turns the audit trail off. */
        cfg.kernel_audit =
                !(proc_cmdline_get("audit", audit, sizeof audit) > 0 && streq(audit, "0"));
        if (cgroup_is_usable(CGROUP_ROOT) && cgroup_setup(CGROUP_ROOT) >= 0)
                cfg.cgroup_root = CGROUP_ROOT;
        else
                log_warning("no usable cgroup2 at %s, services share PID 1's cgroup", CGROUP_ROOT);
        if (proc_cmdline_get_bool("berth.payload") && access(PAYLOAD_MARKER, F_OK) < 0)
                /* A production image: whoever can add a word to the kernel
                 * command line must not get a root shell from a USB stick. */
                log_notice("berth.payload ignored: this image has no test payload hook");
        else if (proc_cmdline_get_bool("berth.payload")) {
                cfg.payload_dir = PAYLOAD_DIR;
                cfg.payload_mount = true;
                cfg.payload_poweroff = proc_cmdline_get_bool("berth.payload.poweroff");
        }

        _cleanup_(service_set_freep) ServiceSet *set = load_services(SERVICES_DIR);
        if (set) {
                r = supervise_run(set, &cfg, &action);
                if (r < 0)
                        log_error_errno(r, "the supervisor failed");
        }
        if (!set || r < 0) {
                action = proc_cmdline_get_bool("berth.debug.noreboot") ? SHUTDOWN_HALT
                                                                       : SHUTDOWN_REBOOT;
                sleep(5);
        }
        sysinit_final(action);
}

static int supervise_main(const char *dir, const char *cgroup_root, const char *payload) {
        char base[PATH_MAX], real[PATH_MAX];
        _cleanup_free_ char *log_dir = NULL, *notify = NULL, *status = NULL, *control = NULL;
        ShutdownAction action;
        int r;

        if (!realpath(dir, real))
                return log_error_errno(negative_errno(), "%s", dir);
        snprintf(base, sizeof base, "%s", real);
        const char *parent = dirname(base);
        log_dir = path_join(parent, "log");
        notify = path_join(parent, "notify");
        status = path_join(parent, "services");
        control = path_join(parent, "init.sock");
        if (!log_dir || !notify || !status || !control)
                return log_oom();
        r = mkdir_p(log_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s", log_dir);

        _cleanup_(service_set_freep) ServiceSet *set = NULL;
        r = service_set_load(real, &set);
        if (r < 0)
                return log_error_code(-r, "cannot load the services of %s: %s", real,
                                      error_message(r));

        SuperviseConfig cfg = {
                .log_dir = log_dir,
                .notify_path = notify,
                .status_dir = status,
                .control_path = control,
                .cgroup_root = cgroup_root,
                .payload_dir = payload,
                .console_fd = -1,
                .subreaper = true,
        };
        if (cgroup_root && !cgroup_is_usable(cgroup_root))
                return log_error_code(EINVAL, "%s is not a writable cgroup2 directory",
                                      cgroup_root);
        r = supervise_run(set, &cfg, &action);
        if (r < 0)
                return log_error_errno(r, "the supervisor failed");
        log_info("all services stopped (%s requested)", shutdown_action_to_string(action));
        return 0;
}

static void help(void) {
        printf("berth-init: berth's PID 1\n\n"
               "  berth-init                        as PID 1: initramfs stage or supervisor\n"
               "  berth-init --supervise DIR        run the services of DIR as an ordinary\n"
               "                                    process (tests); logs in DIR/../log\n"
               "      [--cgroup-root PATH]          put services into cgroups under PATH\n"
               "      [--payload DIR]               run DIR/run once all services settled\n"
               "  berth-init --version\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_SUPERVISE = 0x100, ARG_CGROUP_ROOT, ARG_PAYLOAD, ARG_VERSION, ARG_MODULES };
        static const struct option options[] = {
                { "supervise", required_argument, NULL, ARG_SUPERVISE },
                { "cgroup-root", required_argument, NULL, ARG_CGROUP_ROOT },
                { "payload", required_argument, NULL, ARG_PAYLOAD },
                { "version", no_argument, NULL, ARG_VERSION },
#if BERTH_INIT_STAGE1
                { "modules", required_argument, NULL, ARG_MODULES },
#endif
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *dir = NULL, *cgroup_root = NULL, *payload = NULL;

        if (getpid() == 1) {
                if (access("/etc/initrd-release", F_OK) == 0) {
#if BERTH_INIT_STAGE1
                        stage1_main();
#else
                        (void) open_console();
                        log_set_prefix("berth");
                        log_error("error: this berth-init has no initramfs stage (the initramfs "
                                  "runs berth-stage1) — rebooting");
                        sleep(5);
                        sysinit_final(SHUTDOWN_REBOOT);
#endif
                }
                pid1_main();
        }

        log_set_prefix("berth-init");
        for (int c; (c = getopt_long(argc, argv, "h", options, NULL)) >= 0;) {
                switch (c) {
                case ARG_SUPERVISE:
                        dir = optarg;
                        break;
                case ARG_CGROUP_ROOT:
                        cgroup_root = optarg;
                        break;
                case ARG_PAYLOAD:
                        payload = optarg;
                        break;
                case ARG_VERSION:
                        printf("berth-init %s\n", BERTH_VERSION);
                        return 0;
#if BERTH_INIT_STAGE1
                case ARG_MODULES:
                        return modules_main(optarg) < 0 ? 1 : 0;
#endif
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        }
        if (!dir) {
                help();
                return 2;
        }
        return supervise_main(dir, cgroup_root, payload) < 0 ? 1 : 0;
}
