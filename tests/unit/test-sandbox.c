/* SPDX-License-Identifier: MIT */
/* The service sandbox applied for real in a forked child (needs root): the
 * child then looks at itself through /proc and the kernel's answers. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "sandbox.h"
#include "service.h"
#include "strv.h"

static char dir[] = "/tmp/berth-test-sandbox-XXXXXX";

/* The hex value of a /proc/self/status field, or -1. */
static long long status_field(const char *key) {
        _cleanup_free_ char *data = NULL;
        char want[64];
        if (read_full_file("/proc/self/status", &data, NULL, 0) < 0)
                return -1;
        snprintf(want, sizeof want, "\n%s:", key);
        const char *p = strstr(data, want);
        return p ? strtoll(p + strlen(want), NULL, 16) : -1;
}

/* Runs the sandbox of the service text in a child; the child's checks are
 * bits of its exit status (0: all held). */
static int run_child(const char *text, int (*checks)(void)) {
        _cleanup_(service_done) Service s = {};
        SandboxPlan plan = {};
        int status;

        assert_int_equal(service_parse_string("/t/x.service", "x", text, strlen(text), &s), 0);
        assert_int_equal(sandbox_prepare(&s.sandbox, &plan), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (sandbox_apply(&s.sandbox, &plan) < 0)
                        _exit(100);
                _exit(checks());
        }
        sandbox_plan_done(&plan);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static int nobody_checks(void) {
        int bad = 0;
        char p[PATH_MAX];
        if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534)
                bad |= 1;
        /* Only CAP_NET_BIND_SERVICE (10), as an ambient capability. */
        if (status_field("CapEff") != 0x400 || status_field("CapAmb") != 0x400 ||
            status_field("CapBnd") != 0x400)
                bad |= 2;
        if (status_field("NoNewPrivs") != 1)
                bad |= 4;
        if (status_field("Seccomp") != 2)
                bad |= 8;
        /* The deny list: mkdir fails with EPERM, not EACCES. */
        snprintf(p, sizeof p, "%s/open/new", dir);
        if (mkdir(p, 0755) == 0 || errno != EPERM)
                bad |= 16;
        /* A read-only path refuses writes, even to a file nobody owns. */
        snprintf(p, sizeof p, "%s/ro/file", dir);
        if (write_string_file(p, "x") != -EROFS)
                bad |= 32;
        return bad;
}

static void test_user_capabilities_seccomp_read_only(void **state) {
        if (geteuid() != 0)
                skip_test("needs root (setuid, capabilities, mount namespaces)");
        _cleanup_free_ char *text = strdup_printf(
                "[Service]\nExec=/bin/true\nUser=nobody\nGroup=nogroup\n"
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nSystemCallFilter=~mkdir mkdirat\n"
                "ReadOnlyPaths=%s/ro\n",
                dir);
        _cleanup_free_ char *ro = strdup_printf("%s/ro", dir),
                            *open = strdup_printf("%s/open", dir);
        _cleanup_free_ char *file = strdup_printf("%s/ro/file", dir);
        assert_int_equal(mkdir(ro, 0777), 0);
        assert_int_equal(mkdir(open, 0777), 0);
        assert_int_equal(write_file_atomic(file, "", 0, 0666), 0);
        assert_int_equal(chmod(file, 0666), 0);
        if (!getgrnam("nogroup") || !getpwnam("nobody"))
                skip_test("no nobody/nogroup on this host");
        assert_int_equal(run_child(text, nobody_checks), 0);
        /* Outside the service's mount namespace the path stays writable. */
        assert_int_equal(write_string_file(file, "y"), 0);
}

static int root_checks(void) {
        /* Root with a bounding set: CAP_SYS_MODULE is gone for good. */
        return (status_field("CapBnd") & (1 << 16)) ? 1 : status_field("NoNewPrivs") == 0 ? 0 : 2;
}

static void test_root_bounding_set_without_no_new_privileges(void **state) {
        if (geteuid() != 0)
                skip_test("needs root");
        assert_int_equal(run_child("[Service]\nExec=/bin/true\n"
                                   "CapabilityBoundingSet=~CAP_SYS_MODULE\n",
                                   root_checks),
                         0);
}

static void test_unknown_user_fails_in_the_parent(void **state) {
        _cleanup_(service_done) Service s = {};
        SandboxPlan plan = {};
        const char *t = "[Service]\nExec=/bin/true\nUser=no-such-user-here\n";
        assert_int_equal(service_parse_string("/t/x.service", "x", t, strlen(t), &s), 0);
        assert_int_equal(sandbox_prepare(&s.sandbox, &plan), -ESRCH);
}

static int setup(void **state) {
        /* nobody must reach the files below. */
        return mkdtemp(dir) && chmod(dir, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state) {
        (void) rm_rf(dir);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_user_capabilities_seccomp_read_only),
                cmocka_unit_test(test_root_bounding_set_without_no_new_privileges),
                cmocka_unit_test(test_unknown_user_fails_in_the_parent),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
