/* SPDX-License-Identifier: MIT */
#include "sysinit.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "fileio.h"
#include "initutil.h"
#include "log.h"
#include "strv.h"

const char *shutdown_action_to_string(ShutdownAction a) {
        static const char *const table[_SHUTDOWN_MAX] = {
                [SHUTDOWN_NONE] = "none",
                [SHUTDOWN_REBOOT] = "reboot",
                [SHUTDOWN_POWEROFF] = "poweroff",
                [SHUTDOWN_HALT] = "halt",
        };
        return a >= 0 && a < _SHUTDOWN_MAX ? table[a] : NULL;
}

static bool is_mount_point(const char *path) {
        char parent[PATH_MAX];
        struct stat a, b;
        snprintf(parent, sizeof parent, "%s/..", path);
        if (stat(path, &a) < 0 || stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

static const struct {
        const char *what, *where, *type, *data;
        unsigned long flags;
        mode_t mode;
} api_mounts[] = {
        { "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555 },
        { "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555 },
        { "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID, 0755 },
        { "tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV, 0755 },
        { "devpts", "/dev/pts", "devpts", "mode=0620,gid=5,ptmxmode=0666", MS_NOSUID | MS_NOEXEC,
          0755 },
        /* Scratch space is never a place to run programs from, and is bounded
         * (CIS 1.1.2-1.1.5, 1.1.8-1.1.10). */
        { "tmpfs", "/dev/shm", "tmpfs", "mode=1777,size=" SYSINIT_SHM_SIZE,
          MS_NOSUID | MS_NODEV | MS_NOEXEC, 01777 },
        { "mqueue", "/dev/mqueue", "mqueue", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0755 },
        { "tmpfs", "/tmp", "tmpfs", "mode=1777,size=" SYSINIT_TMP_SIZE,
          MS_NOSUID | MS_NODEV | MS_NOEXEC, 01777 },
        /* LSM interfaces: AppArmor's policy (containerd confines containers
         * only where it sees /sys/kernel/security/apparmor), lockdown, the TPM's
         * event log, IMA. */
        { "securityfs", "/sys/kernel/security", "securityfs", NULL,
          MS_NOSUID | MS_NODEV | MS_NOEXEC, 0755 },
        { "cgroup2", CGROUP_ROOT, "cgroup2", "nsdelegate,memory_recursiveprot",
          MS_NOSUID | MS_NODEV | MS_NOEXEC, 0755 },
};

static void mount_api(void) {
        for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++) {
                const char *where = api_mounts[i].where;
                if (is_mount_point(where))
                        continue;
                (void) mkdir(where, api_mounts[i].mode);
                if (mount(api_mounts[i].what, where, api_mounts[i].type, api_mounts[i].flags,
                          api_mounts[i].data) < 0)
                        log_warning_errno(negative_errno(), "cannot mount %s on %s",
                                          api_mounts[i].type, where);
        }

        static const char *const links[][2] = {
                { "/proc/self/fd", "/dev/fd" },
                { "/proc/self/fd/0", "/dev/stdin" },
                { "/proc/self/fd/1", "/dev/stdout" },
                { "/proc/self/fd/2", "/dev/stderr" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
                        log_debug_errno(negative_errno(), "cannot link %s", links[i][1]);
}

void sysinit_set_hostname(void) {
        _cleanup_free_ char *name = NULL;
        if (read_full_file("/etc/hostname", &name, NULL, 256) < 0)
                return;
        name[strcspn(name, " \t\r\n")] = 0;
        if (isempty(name))
                return;
        if (sethostname(name, strlen(name)) < 0)
                log_warning_errno(negative_errno(), "cannot set hostname %s", name);
}

/* A NIC copies net.ipv4.conf.default and net.ipv6.conf.default when it
 * appears. Coldplug may bring the NIC before /etc is rendered, so a default
 * the node's settings change is written to the interfaces that exist too
 * (lo aside, which exists from the start), as if they had appeared after it. */
static void propagate_default(const char *key, const char *value) {
        static const char *const families[] = { "net/ipv4/conf/", "net/ipv6/conf/" };
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                size_t n = strlen(families[i]);
                if (!strneq(key, families[i], n) || !strneq(key + n, "default/", 8))
                        continue;
                char dir[PATH_MAX];
                snprintf(dir, sizeof dir, "/proc/sys/%s", families[i]);
                _cleanup_(closedirp) DIR *d = opendir(dir);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        if (de->d_name[0] == '.' || streq(de->d_name, "all") ||
                            streq(de->d_name, "default") || streq(de->d_name, "lo"))
                                continue;
                        _cleanup_free_ char *file =
                                strdup_printf("%s%s/%s", dir, de->d_name, key + n + 8);
                        if (file)
                                (void) write_string_file(file, value);
                }
        }
}

static void apply_sysctl_line(const char *path, unsigned line, char *s) {
        bool ignore_fail = false;
        char key[PATH_MAX], file[PATH_MAX + 16];

        s += strspn(s, " \t");
        if (*s == '#' || *s == ';' || *s == 0)
                return;
        if (*s == '-') {
                ignore_fail = true;
                s++;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
                log_warning("%s:%u: no '=', ignoring", path, line);
                return;
        }
        *eq = 0;
        char *value = eq + 1;
        value += strspn(value, " \t");
        value[strcspn(value, "\r")] = 0;
        for (size_t n = strlen(value); n > 0 && strchr(" \t", value[n - 1]); n--)
                value[n - 1] = 0;
        size_t klen = strcspn(s, " \t");
        snprintf(key, sizeof key, "%.*s", (int) klen, s);
        if (isempty(key) || strstr(key, ".."))
                return;

        /* As sysctl.d(5): dots separate levels unless the first separator is a slash. */
        size_t first = strcspn(key, "./");
        if (key[first] == '.')
                for (char *c = key; *c; c++)
                        *c = *c == '.' ? '/' : *c == '/' ? '.' : *c;
        snprintf(file, sizeof file, "/proc/sys/%s", key);
        int r = write_string_file(file, value);
        if (r < 0 && !ignore_fail)
                log_warning_errno(r, "%s:%u: cannot set %s", path, line, key);
        if (r >= 0)
                propagate_default(key, value);
}

static void apply_sysctl_file(const char *path) {
        _cleanup_free_ char *data = NULL;
        if (read_full_file(path, &data, NULL, 0) < 0)
                return;
        unsigned line = 1;
        for (char *p = data; p && *p; line++) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl = 0;
                apply_sysctl_line(path, line, p);
                p = nl ? nl + 1 : NULL;
        }
}

/* As sysctl.d(5): the *.conf names of both directories in one order by file
 * name, and a name in /etc replaces the same name in /usr/lib. So the image's
 * hardened defaults (/etc/sysctl.d/10-berth-defaults.conf) come first, the
 * spec's [Sysctl] (/usr/lib/sysctl.d/50-berth-spec.conf) after them and wins,
 * and the node's settings (/etc/sysctl.d/60-berth-settings.conf) last. */
int sysinit_sysctl_files(char ***ret) {
        static const char *const dirs[] = { "/etc/sysctl.d", "/usr/lib/sysctl.d" };
        _cleanup_strv_free_ char **names = NULL, **paths = NULL;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_(closedirp) DIR *d = opendir(dirs[i]);
                struct dirent *de;
                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        if (n <= 5 || !streq(de->d_name + n - 5, ".conf") ||
                            strv_contains(names, de->d_name))
                                continue; /* not a .conf, or masked by /etc */
                        if (strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
                }
        }
        strv_sort(names);
        STRV_FOREACH(n, names)
                for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                        _cleanup_free_ char *p = path_join(dirs[i], *n);
                        if (!p)
                                return -ENOMEM;
                        if (access(p, F_OK) < 0)
                                continue;
                        if (strv_push(&paths, TAKE_PTR(p)) < 0)
                                return -ENOMEM;
                        break;
                }
        *ret = TAKE_PTR(paths);
        return 0;
}

void sysinit_apply_sysctl(void) {
        _cleanup_strv_free_ char **files = NULL;
        if (sysinit_sysctl_files(&files) < 0) {
                log_warning("sysctl.d: out of memory");
                return;
        }
        STRV_FOREACH(f, files)
                apply_sysctl_file(*f);
}

static void loopback_up(void) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {};
        if (fd < 0)
                return;
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                goto fail;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                goto fail;
        return;
fail:
        log_warning_errno(negative_errno(), "cannot bring up lo");
}

/* Directories services need that belong to their own users. */
static void service_dirs(void) {
        static const struct {
                const char *path, *user;
                mode_t mode;
        } dirs[] = {
                { "/run/berth", NULL, 0755 },
                { "/var/log/berth", NULL, 0755 },
                { "/var/lib/chrony", "_chrony", 0750 },
                { "/var/lib/dhcpcd", NULL, 0755 },
        };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (mkdir_p(dirs[i].path, dirs[i].mode) < 0) {
                        log_warning_errno(negative_errno(), "cannot create %s", dirs[i].path);
                        continue;
                }
                if (!dirs[i].user)
                        continue;
                struct passwd *pw = getpwnam(dirs[i].user);
                if (pw && chown(dirs[i].path, pw->pw_uid, pw->pw_gid) < 0)
                        log_warning_errno(negative_errno(), "cannot chown %s", dirs[i].path);
        }
}

void sysinit_mount_efivarfs(void) {
        /* The kernel makes this directory only when it booted through UEFI. */
        if (access(EFIVARS_PATH, F_OK) < 0 || is_mount_point(EFIVARS_PATH))
                return;
        if (mount("efivarfs", EFIVARS_PATH, "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                log_warning_errno(negative_errno(), "cannot mount efivarfs on %s", EFIVARS_PATH);
}

void sysinit_setup(void) {
        umask(0022);
        mount_api();
        sysinit_set_hostname();
        sysinit_apply_sysctl();
        loopback_up();
        service_dirs();
        /* ctrl-alt-del sends SIGINT to PID 1 instead of an immediate reboot. */
        (void) reboot(RB_DISABLE_CAD);
}

static void reap_until(usec_t deadline) {
        for (;;) {
                pid_t pid = waitpid(-1, NULL, WNOHANG);
                if (pid < 0 && errno == ECHILD)
                        return;
                if (pid > 0)
                        continue;
                if (now_usec() > deadline)
                        return;
                (void) usleep(20 * 1000);
        }
}

static void unmount_all(void) {
        /* Deepest mounts last in mountinfo come first; a few passes take what
         * became free. Errors are expected for / and busy mounts. */
        for (int pass = 0; pass < 4; pass++) {
                _cleanup_strv_free_ char **points = NULL;
                FILE *f = fopen("/proc/self/mountinfo", "re");
                char line[4096];
                if (!f)
                        break;
                while (fgets(line, sizeof line, f)) {
                        char mp[PATH_MAX];
                        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !streq(mp, "/"))
                                (void) strv_extend(&points, mp);
                }
                fclose(f);
                size_t n = strv_length(points), done = 0;
                for (size_t i = n; i > 0; i--) {
                        const char *mp = points[i - 1];
                        /* The API file systems stay: the kernel needs nothing from them. */
                        if (streq(mp, "/proc") || streq(mp, "/sys") || streq(mp, "/dev"))
                                continue;
                        if (umount2(mp, 0) >= 0)
                                done++;
                        else
                                (void) umount2(mp, MNT_DETACH);
                }
                if (done == 0)
                        break;
        }
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
                log_warning_errno(negative_errno(), "cannot remount / read-only");
}

_noreturn_ void sysinit_final(ShutdownAction action) {
        log_notice("%s: killing remaining processes", shutdown_action_to_string(action));
        (void) kill(-1, SIGTERM);
        (void) kill(-1, SIGCONT);
        reap_until(now_usec() + 5 * USEC_PER_SEC);
        (void) kill(-1, SIGKILL);
        reap_until(now_usec() + 2 * USEC_PER_SEC);

        sync();
        unmount_all();
        sync();

        int cmd = action == SHUTDOWN_POWEROFF ? RB_POWER_OFF
                  : action == SHUTDOWN_HALT   ? RB_HALT_SYSTEM
                                              : RB_AUTOBOOT;
        log_notice("%s", shutdown_action_to_string(action));
        for (;;) {
                (void) reboot(cmd);
                /* Only reachable if the reboot call itself failed. */
                log_error_errno(negative_errno(), "reboot() failed");
                sleep(10);
        }
}
