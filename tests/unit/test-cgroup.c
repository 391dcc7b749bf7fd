/* SPDX-License-Identifier: MIT */
/* berth-init's cgroup v2 tree, on a real cgroup2 file system mounted for the
 * test, in a directory of its own so that nothing else on the machine is
 * touched: scopes and service cgroups are created, processes move into them,
 * cgroup.events tells empty from populated, and a kill empties a cgroup. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fileio.h"
#include "initutil.h"
#include "macro.h"

static char mnt[] = "/tmp/berth-test-cgroup-XXXXXX";
static char root[PATH_MAX]; /* our own subtree of the cgroup2 mount */
static bool mounted;

/* The cgroup (relative to the cgroup2 mount) of pid, "" if unknown. */
static void cgroup_of(pid_t pid, char *ret, size_t size) {
        _cleanup_free_ char *p = strdup_printf("/proc/%d/cgroup", (int) pid), *d = NULL;
        ret[0] = 0;
        if (read_full_file(p, &d, NULL, 0) < 0)
                return;
        char *l = strstr(d, "0::");
        if (l) {
                l += 3;
                l[strcspn(l, "\n")] = 0;
                snprintf(ret, size, "%s", l);
        }
}

#define NEED_MOUNT()                                                                               \
        do {                                                                                       \
                if (!mounted)                                                                      \
                        skip_test("cannot mount cgroup2 (needs root)");                            \
        } while (0)

static bool wait_empty(const char *cg) {
        for (int i = 0; i < 500; i++) {
                if (cgroup_is_empty(cg))
                        return true;
                usleep(10 * 1000);
        }
        return false;
}

static void test_usable_only_on_a_writable_cgroup2_mount(void **state) {
        NEED_MOUNT();
        assert_true(cgroup_is_usable(root));
        assert_true(cgroup_is_usable(mnt));
        assert_false(cgroup_is_usable("/tmp"));
        assert_false(cgroup_is_usable("/nonexistent"));
}

static void test_setup_moves_the_caller_into_init_scope(void **state) {
        NEED_MOUNT();
        char want[PATH_MAX], got[PATH_MAX];
        int status;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* A child stands in for PID 1: it stays until it is killed. */
                if (cgroup_setup(root) < 0)
                        _exit(1);
                pause();
                _exit(0);
        }
        _cleanup_free_ char *scope = path_join(root, "init.scope"),
                            *slice = path_join(root, "system.slice");
        for (int i = 0; i < 500 && access(slice, F_OK) < 0; i++)
                usleep(10 * 1000);
        usleep(50 * 1000);
        struct stat st;
        assert_int_equal(stat(scope, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(stat(slice, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        snprintf(want, sizeof want, "%s/init.scope", root + strlen(mnt));
        cgroup_of(pid, got, sizeof got);
        assert_string_equal(got, want);
        assert_false(cgroup_is_empty(scope));

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(wait_empty(scope));
}

static void test_service_cgroup_attach_and_kill(void **state) {
        NEED_MOUNT();
        char cg[PATH_MAX], got[PATH_MAX];
        int pipefd[2], status;
        char c;

        _cleanup_free_ char *slice = path_join(root, "system.slice");
        assert_true(mkdir(slice, 0755) == 0 || errno == EEXIST);
        assert_int_equal(cgroup_create_service(root, "svc", cg, sizeof cg), 0);
        _cleanup_free_ char *want = strdup_printf("%s/system.slice/svc.service", root);
        assert_string_equal(cg, want);
        /* Creating it again is fine. */
        assert_int_equal(cgroup_create_service(root, "svc", cg, sizeof cg), 0);
        assert_true(cgroup_is_empty(cg));

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* As supervise does between fork and exec. */
                if (cgroup_attach_self(cg) < 0)
                        _exit(1);
                /* A grandchild in the same cgroup: the kill must take both. */
                if (fork() == 0) {
                        execl("/bin/sleep", "sleep", "100", NULL);
                        _exit(1);
                }
                if (write(pipefd[1], "x", 1) != 1)
                        _exit(1);
                execl("/bin/sleep", "sleep", "100", NULL);
                _exit(1);
        }
        close(pipefd[1]);
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        cgroup_of(pid, got, sizeof got);
        assert_string_equal(got, cg + strlen(mnt));
        assert_false(cgroup_is_empty(cg));

        _cleanup_free_ char *procs_file = path_join(cg, "cgroup.procs"), *procs = NULL;
        assert_int_equal(read_full_file(procs_file, &procs, NULL, 0), 0);
        size_t n = 0;
        for (char *p = procs; (p = strchr(p, '\n')); p++)
                n++;
        assert_int_equal(n, 2);

        assert_int_equal(cgroup_kill(cg), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        assert_true(wait_empty(cg));
}

static void test_scope_names_and_limits(void **state) {
        NEED_MOUNT();
        char cg[PATH_MAX], small[16];

        assert_int_equal(cgroup_create_scope(root, "payload.scope", cg, sizeof cg), 0);
        _cleanup_free_ char *want = path_join(root, "payload.scope");
        assert_string_equal(cg, want);
        assert_true(cgroup_is_empty(cg));
        assert_int_equal(cgroup_create_scope(root, "payload.scope", small, sizeof small),
                         -ENAMETOOLONG);
        assert_int_equal(cgroup_create_service(root, "x", small, sizeof small), -ENAMETOOLONG);
        /* A service cgroup needs system.slice (cgroup_setup makes it). */
        _cleanup_free_ char *bare = path_join(root, "bare");
        assert_int_equal(mkdir(bare, 0755), 0);
        assert_int_equal(cgroup_create_service(bare, "svc", cg, sizeof cg), -ENOENT);
        assert_int_equal(cgroup_attach_self("/nonexistent"), -ENOENT);
        assert_int_equal(rmdir(bare), 0);
}

static void remove_cgroups(const char *dir) {
        /* cgroup directories go bottom-up with rmdir; their files cannot be removed. */
        static const char *const order[] = { "system.slice/svc.service", "system.slice",
                                             "init.scope", "payload.scope", "bare" };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                _cleanup_free_ char *p = path_join(dir, order[i]);
                (void) rmdir(p);
        }
        (void) rmdir(dir);
}

static int setup(void **state) {
        if (geteuid() != 0 || !mkdtemp(mnt))
                return 0;
        if (mount("none", mnt, "cgroup2", 0, NULL) < 0) {
                (void) rmdir(mnt);
                return 0;
        }
        mounted = true;
        snprintf(root, sizeof root, "%s/berth-test-%d", mnt, (int) getpid());
        return mkdir(root, 0755) < 0 ? -1 : 0;
}

static int teardown(void **state) {
        if (!mounted)
                return 0;
        remove_cgroups(root);
        (void) umount(mnt);
        return rmdir(mnt) < 0 ? -1 : 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_usable_only_on_a_writable_cgroup2_mount),
                cmocka_unit_test(test_setup_moves_the_caller_into_init_scope),
                cmocka_unit_test(test_service_cgroup_attach_and_kill),
                cmocka_unit_test(test_scope_names_and_limits),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
