/* SPDX-License-Identifier: MIT */
/* What berth-init does in the real root before the first service and after
 * the last, run for real: as PID 1 of new PID, mount, UTS, network and IPC
 * namespaces, chrooted into a tmpfs, so that the mounts, the hostname, the
 * sysctls (network ones only: they are per namespace), the loopback device and
 * the final kill/remount/power-off touch nothing outside the test. */
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "sysinit.h"

static char dir[] = "/tmp/berth-test-sysinit-XXXXXX";

/* In the namespaced children: report the first failed check and exit with its line. */
#define CHECK(expr)                                                                                \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "sysinit check failed, line %d: %s\n", __LINE__, #expr);   \
                        _exit(__LINE__ % 200 + 2);                                                 \
                }                                                                                  \
        } while (0)

static void put(const char *root, const char *rel, const char *s) {
        _cleanup_free_ char *p = path_join(root, rel);
        CHECK(p && mkdir_parents(p, 0755) >= 0);
        CHECK(write_file_atomic(p, s, strlen(s), 0644) >= 0);
}

static bool fs_is(const char *path, long magic) {
        struct statfs s;
        return statfs(path, &s) == 0 && s.f_type == magic;
}

static bool mount_has_flags(const char *path, unsigned long flags) {
        struct statvfs sv;
        return statvfs(path, &sv) == 0 && (sv.f_flag & flags) == flags;
}

static bool file_is(const char *path, const char *want) {
        _cleanup_free_ char *d = NULL;
        if (read_full_file(path, &d, NULL, 0) < 0)
                return false;
        d[strcspn(d, "\n")] = 0;
        return streq(d, want);
}

/* New namespaces, a private tmpfs at dir, and a child that is PID 1 there
 * and chrooted into it. Returns that child's wait status. */
static int run_as_pid1(void (*prepare)(const char *root), void (*pid1)(void),
                       void (*after)(const char *root, int status)) {
        int status;
        pid_t c = fork();
        assert_true(c >= 0);
        if (c == 0) {
                CHECK(unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWIPC |
                              CLONE_NEWPID) == 0);
                CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
                CHECK(mount("tmpfs", dir, "tmpfs", 0, "mode=0755") == 0);
                prepare(dir);
                pid_t g = fork();
                CHECK(g >= 0);
                if (g == 0) {
                        CHECK(chroot(dir) == 0 && chdir("/") == 0);
                        /* Never run any of this outside the sandbox. */
                        CHECK(getpid() == 1);
                        CHECK(fs_is("/", TMPFS_MAGIC));
                        pid1();
                        _exit(0);
                }
                CHECK(waitpid(g, &status, 0) == g);
                after(dir, status);
                _exit(0);
        }
        assert_int_equal(waitpid(c, &status, 0), c);
        return status;
}

static void prepare_root(const char *root) {
        put(root, "etc/hostname", "berth-test-node\n");
        put(root, "etc/nsswitch.conf", "passwd: files\ngroup: files\n");
        put(root, "etc/passwd",
            "root:x:0:0::/root:/bin/sh\n_chrony:x:101:102::/var/lib/chrony:/bin/false\n");
        put(root, "etc/group", "root:x:0:\n_chrony:x:102:\n");
        put(root, "usr/lib/sysctl.d/10-net.conf",
            "# comment\n"
            "; also a comment\n"
            "net.core.somaxconn = 1000\n"
            "net.ipv4.ip_forward=1\n"
            "net/ipv4/conf/lo/forwarding = 1\n"
            "this line has no equals sign\n");
        /* /etc comes after /usr/lib: its value wins. */
        put(root, "etc/sysctl.d/20-override.conf",
            "net.core.somaxconn = 2000  \n"
            "-net.ipv4.no_such_key = 1\n"
            "../../run/escaped = 1\n"
            "net/../../run/escaped2 = 1\n");
        put(root, "etc/sysctl.d/README", "not a .conf file: ignored\n");
        /* The image's layout (sysctl.d(5) order by file name, /etc masks the
         * same name in /usr/lib): hardened defaults in /etc first, the spec
         * in /usr/lib after them wins, even though /etc is the later
         * directory. This was the bug the review found (kptr_restrict). */
        put(root, "etc/sysctl.d/10-berth-defaults.conf",
            "net.ipv4.tcp_syncookies = 0\nnet.ipv4.tcp_fin_timeout = 33\n");
        put(root, "usr/lib/sysctl.d/50-berth-spec.conf", "net.ipv4.tcp_syncookies = 1\n");
        /* Same name in both: /etc's file replaces /usr/lib's whole. */
        put(root, "usr/lib/sysctl.d/30-masked.conf", "net.ipv4.tcp_fin_timeout = 44\n");
        put(root, "etc/sysctl.d/30-masked.conf", "# masked\n");
}

static void setup_and_check(void) {
        struct utsname u;
        struct stat st;
        struct ifreq ifr = {};

        sysinit_setup();

        /* API file systems. */
        CHECK(fs_is("/proc", PROC_SUPER_MAGIC));
        CHECK(fs_is("/sys", SYSFS_MAGIC));
        CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(fs_is("/run", TMPFS_MAGIC));
        CHECK(fs_is("/tmp", TMPFS_MAGIC));
        CHECK(fs_is("/dev/shm", TMPFS_MAGIC));
        /* CIS: scratch space is nosuid, nodev, noexec. */
        CHECK(mount_has_flags("/tmp", ST_NOSUID | ST_NODEV | ST_NOEXEC));
        CHECK(mount_has_flags("/dev/shm", ST_NOSUID | ST_NODEV | ST_NOEXEC));
        CHECK(fs_is("/dev/pts", DEVPTS_SUPER_MAGIC));
        CHECK(fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC));
        CHECK(lstat("/dev/fd", &st) == 0 && S_ISLNK(st.st_mode));
        CHECK(access("/dev/stdout", F_OK) == 0);

        /* Hostname from /etc/hostname. */
        CHECK(uname(&u) == 0 && streq(u.nodename, "berth-test-node"));

        /* sysctl.d: both directories, /etc last, both key spellings; a key
         * with ".." is never written. */
        CHECK(file_is("/proc/sys/net/core/somaxconn", "2000"));
        CHECK(file_is("/proc/sys/net/ipv4/ip_forward", "1"));
        CHECK(file_is("/proc/sys/net/ipv4/conf/lo/forwarding", "1"));
        CHECK(access("/run/escaped", F_OK) < 0 && access("/run/escaped2", F_OK) < 0);
        CHECK(file_is("/proc/sys/net/ipv4/tcp_syncookies", "1"));
        CHECK(file_is("/proc/sys/net/ipv4/tcp_fin_timeout", "33"));

        /* Loopback up. */
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        CHECK(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP));
        close(fd);

        /* Service directories, chrony's owned by its user. */
        CHECK(stat("/run/berth", &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(stat("/var/log/berth", &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(stat("/var/lib/dhcpcd", &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(stat("/var/lib/chrony", &st) == 0 && st.st_uid == 101 && st.st_gid == 102 &&
              (st.st_mode & 07777) == 0750);
}

static void no_after(const char *root, int status) {
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_setup_mounts_names_tunes_and_prepares_the_root(void **state) {
        int status = run_as_pid1(prepare_root, setup_and_check, no_after);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void prepare_empty(const char *root) {
}

static void on_term(int sig) {
        int fd = open("/got-term", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
        _exit(0);
}

static void final_poweroff(void) {
        int p[2];
        char c;
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                /* A service that shuts down cleanly on SIGTERM. */
                signal(SIGTERM, on_term);
                if (write(p[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        CHECK(read(p[0], &c, 1) == 1);
        sysinit_final(SHUTDOWN_POWEROFF);
}

static void after_final(const char *root, int status) {
        struct statvfs v;
        _cleanup_free_ char *term = path_join(root, "got-term");
        /* reboot(RB_POWER_OFF) in a PID namespace ends its PID 1 with SIGINT. */
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
        /* The service got SIGTERM before the SIGKILL round. */
        CHECK(access(term, F_OK) == 0);
        /* The root file system was remounted read-only. */
        CHECK(statvfs(root, &v) == 0 && (v.f_flag & ST_RDONLY));
}

static void test_final_terms_remounts_read_only_and_powers_off(void **state) {
        int status = run_as_pid1(prepare_empty, final_poweroff, after_final);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_shutdown_action_names(void **state) {
        assert_string_equal(shutdown_action_to_string(SHUTDOWN_NONE), "none");
        assert_string_equal(shutdown_action_to_string(SHUTDOWN_REBOOT), "reboot");
        assert_string_equal(shutdown_action_to_string(SHUTDOWN_POWEROFF), "poweroff");
        assert_string_equal(shutdown_action_to_string(SHUTDOWN_HALT), "halt");
        assert_null(shutdown_action_to_string(_SHUTDOWN_MAX));
        assert_null(shutdown_action_to_string(_SHUTDOWN_INVALID));
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rmdir(dir) < 0 ? -1 : 0;
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "needs root (namespaces, mounts), skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shutdown_action_names),
                cmocka_unit_test(test_setup_mounts_names_tunes_and_prepares_the_root),
                cmocka_unit_test(test_final_terms_remounts_read_only_and_powers_off),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
