/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "fileio.h"
#include "log.h"

static const char *const controllers[] = { "cpu", "memory", "pids", "io", "cpuset" };

bool cgroup_is_usable(const char *root) {
        struct statfs sfs;
        if (statfs(root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return false;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", root);
        return access(p, W_OK) == 0;
}

static void enable_controllers(const char *cg) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", cg);
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                char w[32];
                snprintf(w, sizeof w, "+%s", controllers[i]);
                int r = write_string_file(p, w);
                if (r < 0)
                        log_debug_errno(r, "cannot enable %s controller in %s", controllers[i], cg);
        }
}

int cgroup_setup(const char *root) {
        char p[PATH_MAX];
        int r;

        r = cgroup_create_scope(root, "init.scope", p, sizeof p);
        if (r < 0)
                return r;
        r = cgroup_attach_self(p);
        if (r < 0)
                return log_error_errno(r, "cannot move PID 1 into %s", p);
        enable_controllers(root);

        snprintf(p, sizeof p, "%s/system.slice", root);
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return log_error_errno(negative_errno(), "cannot create %s", p);
        enable_controllers(p);
        return 0;
}

int cgroup_create_service(const char *root, const char *name, char *ret, size_t size) {
        if ((size_t) snprintf(ret, size, "%s/system.slice/%s.service", root, name) >= size)
                return -ENAMETOOLONG;
        if (mkdir(ret, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int cgroup_create_scope(const char *root, const char *name, char *ret, size_t size) {
        if ((size_t) snprintf(ret, size, "%s/%s", root, name) >= size)
                return -ENAMETOOLONG;
        if (mkdir(ret, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int cgroup_attach_self(const char *path) {
        char p[PATH_MAX];
        if ((size_t) snprintf(p, sizeof p, "%s/cgroup.procs", path) >= sizeof p)
                return -ENAMETOOLONG;
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write(fd, "0", 1) == 1 ? 0 : negative_errno();
        (void) close(fd);
        return r;
}

int cgroup_kill(const char *path) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.kill", path);
        if (write_string_file(p, "1") >= 0)
                return 0;

        /* Older kernels: kill what is listed, a few rounds for forks racing us. */
        snprintf(p, sizeof p, "%s/cgroup.procs", path);
        for (int round = 0; round < 3; round++) {
                FILE *f = fopen(p, "re");
                int pid, n = 0;
                if (!f)
                        return -errno;
                while (fscanf(f, "%d", &pid) == 1) {
                        (void) kill(pid, SIGKILL);
                        n++;
                }
                fclose(f);
                if (n == 0)
                        break;
        }
        return 0;
}

bool cgroup_is_empty(const char *path) {
        char p[PATH_MAX], buf[256];
        snprintf(p, sizeof p, "%s/cgroup.events", path);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return true;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        (void) close(fd);
        if (k <= 0)
                return true;
        buf[k] = 0;
        return strstr(buf, "populated 0") != NULL;
}
