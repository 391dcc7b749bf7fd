/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "service.h"
#include "strv.h"

static int parse(const char *name, const char *text, Service *ret) {
        return service_parse_string("/t/x.service", name, text, strlen(text), ret);
}

static void assert_strv(char **l, const char *joined) {
        _cleanup_free_ char *j = strv_join(l, "|");
        assert_non_null(j);
        assert_string_equal(j, joined);
}

static void test_all_keys_parse_into_fields(void **state) {
        _cleanup_(service_done) Service s = {};
        const char *t = "[Service]\n"
                        "Description=containerd\n"
                        "Exec=/usr/bin/containerd --config /etc/containerd/config.toml\n"
                        "After=network chrony\n"
                        "After=foo\n"
                        "Wants=bar\n"
                        "Ready=path:/run/containerd/containerd.sock\n"
                        "ReadyTimeout=60\n"
                        "Restart=always\n"
                        "RestartSec=2\n"
                        "RestartMaxSec=20\n"
                        "Environment=A=1 B=two\n"
                        "Environment=A=3\n"
                        "WorkingDirectory=/var/lib/containerd\n"
                        "StopSignal=SIGQUIT\n"
                        "StopTimeout=15\n"
                        "LimitNOFILE=1048576\n"
                        "OOMScoreAdjust=-999\n"
                        "LogMaxSize=256K\n"
                        "LogKeep=0\n"
                        "ConditionKernelCmdline=berth.payload=1\n"
                        "ConditionFirstBoot=yes\n";

        assert_int_equal(parse("containerd", t, &s), 0);
        assert_string_equal(s.name, "containerd");
        assert_string_equal(s.description, "containerd");
        assert_strv(s.argv, "/usr/bin/containerd|--config|/etc/containerd/config.toml");
        assert_strv(s.after, "network|chrony|foo");
        assert_strv(s.wants, "bar");
        assert_int_equal(s.ready, SERVICE_READY_PATH);
        assert_string_equal(s.ready_path, "/run/containerd/containerd.sock");
        assert_int_equal(s.ready_timeout_s, 60);
        assert_int_equal(s.restart, SERVICE_RESTART_ALWAYS);
        assert_int_equal(s.restart_sec, 2);
        assert_int_equal(s.restart_max_sec, 20);
        /* A later value for a key replaces the earlier one in place. */
        assert_strv(s.environment, "A=3|B=two");
        assert_string_equal(s.working_directory, "/var/lib/containerd");
        assert_int_equal(s.stop_signal, SIGQUIT);
        assert_int_equal(s.stop_timeout_s, 15);
        assert_int_equal(s.limit_nofile, 1048576);
        assert_int_equal(s.oom_score_adjust, -999);
        assert_true(s.oom_score_adjust_set);
        assert_int_equal(s.log_max_size, 256 * 1024);
        assert_int_equal(s.log_keep, 0);
        assert_true(s.log_keep_set);
        assert_string_equal(s.condition_cmdline, "berth.payload=1");
        assert_true(s.condition_first_boot_set);
        assert_true(s.condition_first_boot);
}

static void test_sandbox_keys(void **state) {
        _cleanup_(service_done) Service s = {}, d = {};
        const char *t = "[Service]\n"
                        "Exec=/usr/sbin/chronyd\n"
                        "User=_chrony\n"
                        "Group=_chrony\n"
                        "CapabilityBoundingSet=CAP_SYS_TIME net_bind_service\n"
                        "NoNewPrivileges=yes\n"
                        "SystemCallFilter=read write exit_group\n"
                        "ReadOnlyPaths=/etc\n"
                        "ReadOnlyPaths=/var/lib/berth /usr\n";

        assert_int_equal(parse("chrony", t, &s), 0);
        assert_string_equal(s.sandbox.user, "_chrony");
        assert_string_equal(s.sandbox.group, "_chrony");
        assert_true(s.sandbox.cap_bounding_set);
        assert_true(s.sandbox.cap_bounding == ((UINT64_C(1) << 25) | (UINT64_C(1) << 10)));
        assert_true(s.sandbox.no_new_privileges);
        assert_strv(s.sandbox.syscalls, "read|write|exit_group");
        assert_false(s.sandbox.syscalls_deny);
        assert_strv(s.sandbox.read_only_paths, "/etc|/var/lib/berth|/usr");

        /* "~": all but these. */
        assert_int_equal(parse("d",
                               "[Service]\nExec=/x\nCapabilityBoundingSet=~CAP_SYS_MODULE\n"
                               "SystemCallFilter=~mkdir\n",
                               &d),
                         0);
        assert_true(d.sandbox.cap_bounding == ~(UINT64_C(1) << 16));
        assert_true(d.sandbox.syscalls_deny);
        assert_strv(d.sandbox.syscalls, "mkdir");
}

/* The services the images ship parse, and keep their sandboxes. */
static void test_shipped_services_parse(void **state) {
        _cleanup_(service_set_freep) ServiceSet *set = NULL;
        const char *src = getenv("BERTH_SOURCE_ROOT");
        if (!src)
                skip_test("BERTH_SOURCE_ROOT is not set");
        _cleanup_free_ char *dir = strdup_printf("%s/data/services", src);
        assert_int_equal(service_set_load(dir, &set), 0);
        for (size_t i = 0; i < set->n; i++) {
                const Service *s = &set->services[i];
                if (streq(s->name, "chrony")) {
                        assert_true(s->sandbox.cap_bounding_set);
                        assert_true(s->sandbox.cap_bounding & (UINT64_C(1) << 25));  /* SYS_TIME */
                        assert_false(s->sandbox.cap_bounding & (UINT64_C(1) << 21)); /* SYS_ADMIN */
                        assert_true(s->sandbox.no_new_privileges);
                }
                if (streq(s->name, "network")) {
                        assert_false(s->sandbox.cap_bounding & (UINT64_C(1) << 16)); /* MODULE */
                        assert_true(s->sandbox.cap_bounding & (UINT64_C(1) << 12));  /* NET_ADMIN */
                        assert_true(s->sandbox.no_new_privileges);
                }
        }
}

static void test_defaults_apply_when_keys_are_absent(void **state) {
        _cleanup_(service_done) Service s = {};
        assert_int_equal(parse("x", "[Service]\nExec=/bin/x\n", &s), 0);
        assert_int_equal(s.ready, SERVICE_READY_STARTED);
        assert_null(s.ready_path);
        assert_int_equal(s.restart, SERVICE_RESTART_NO);
        assert_int_equal(s.restart_sec, 1);
        assert_int_equal(s.restart_max_sec, 30);
        assert_int_equal(s.stop_signal, SIGTERM);
        assert_int_equal(s.stop_timeout_s, 10);
        assert_int_equal(s.limit_nofile, 0);
        assert_false(s.oom_score_adjust_set);
        assert_false(s.condition_first_boot_set);
        assert_null(s.after);
        assert_null(s.environment);
}

static void test_exec_quotes_group_words_and_escape(void **state) {
        _cleanup_(service_done) Service s = {};
        const char *t = "[Service]\n"
                        "Exec=/bin/sh -c \"echo \\\"hi there\\\" \\\\ \\n\" --opt=\"a b\" \"\" x\n";
        assert_int_equal(parse("x", t, &s), 0);
        assert_int_equal(strv_length(s.argv), 6);
        assert_string_equal(s.argv[0], "/bin/sh");
        assert_string_equal(s.argv[1], "-c");
        assert_string_equal(s.argv[2], "echo \"hi there\" \\ \\n");
        assert_string_equal(s.argv[3], "--opt=a b");
        assert_string_equal(s.argv[4], "");
        assert_string_equal(s.argv[5], "x");
}

static void test_ready_and_signal_forms(void **state) {
        _cleanup_(service_done) Service a = {}, b = {};
        assert_int_equal(parse("x", "[Service]\nExec=/x\nReady=notify\nStopSignal=9\n", &a), 0);
        assert_int_equal(a.ready, SERVICE_READY_NOTIFY);
        assert_int_equal(a.stop_signal, 9);
        assert_int_equal(parse("x",
                               "[Service]\nExec=/x\nReady=path:/a\nReady=started\n"
                               "StopSignal=SIGUSR2\nRestart=on-failure\n",
                               &b),
                         0);
        assert_int_equal(b.ready, SERVICE_READY_STARTED);
        assert_null(b.ready_path);
        assert_int_equal(b.stop_signal, SIGUSR2);
        assert_int_equal(b.restart, SERVICE_RESTART_ON_FAILURE);
}

static void assert_rejected(const char *name, const char *text) {
        Service s = {};
        int r = parse(name, text, &s);
        if (r >= 0)
                fail_msg("expected an error for:\n%s", text);
        assert_null(s.argv);
}

static void test_ready_network_and_socket(void **state) {
        _cleanup_(service_done) Service a = {}, b = {};
        assert_int_equal(parse("x", "[Service]\nExec=/x\nReady=socket:/run/x.sock\n", &a), 0);
        assert_int_equal(a.ready, SERVICE_READY_SOCKET);
        assert_string_equal(a.ready_path, "/run/x.sock");
        assert_int_equal(parse("x", "[Service]\nExec=/x\nReady=socket:/a\nReady=network\n", &b), 0);
        assert_int_equal(b.ready, SERVICE_READY_NETWORK);
        assert_null(b.ready_path);
        assert_rejected("x", "[Service]\nExec=/x\nReady=socket:relative\n");
        assert_rejected("x", "[Service]\nExec=/x\nReady=networks\n");
}

static void test_listen_and_schedule_keys(void **state) {
        _cleanup_(service_done) Service a = {}, b = {}, c = {};
        assert_int_equal(parse("x", "[Service]\nExec=/x\nListenStream=/run/berth/api.sock\n", &a),
                         0);
        assert_string_equal(a.listen_stream, "/run/berth/api.sock");
        assert_int_equal(a.start_every_s, 0);
        assert_int_equal(parse("x", "[Service]\nExec=/x\nStartEvery=21600\nStartJitter=3600\n", &b),
                         0);
        assert_null(b.listen_stream);
        assert_int_equal(b.start_every_s, 21600);
        assert_int_equal(b.start_jitter_s, 3600);
        /* Empty resets, so a later file or line can take it back. */
        assert_int_equal(parse("x", "[Service]\nExec=/x\nListenStream=/a\nListenStream=\n", &c), 0);
        assert_null(c.listen_stream);
        assert_rejected("x", "[Service]\nExec=/x\nListenStream=run/api.sock\n");
        assert_rejected("x", "[Service]\nExec=/x\nListenStream=/a b\n");
        assert_rejected(
                "x",
                "[Service]\nExec=/x\nListenStream=/"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
        assert_rejected("x", "[Service]\nExec=/x\nStartEvery=604801\n");
        assert_rejected("x", "[Service]\nExec=/x\nStartEvery=1h\n");
        assert_rejected("x", "[Service]\nExec=/x\nStartEvery=60\nStartJitter=86401\n");
        assert_rejected("x", "[Service]\nExec=/x\nStartJitter=60\n");
        assert_rejected("x", "[Service]\nExec=/x\nListenStream=/a\nStartEvery=60\n");
        assert_rejected("x", "[Service]\nExec=/x\nListenStream=/a\nReady=socket:/a\n");
}

static void test_bad_input_is_rejected(void **state) {
        assert_rejected("x", "[Unit]\nExec=/x\n");
        assert_rejected("x", "[Service]\nExec=/x\nExecStart=/x\n");
        assert_rejected("x", "[Service]\nDescription=no exec\n");
        assert_rejected("x", "[Service]\nExec=relative\n");
        assert_rejected("x", "[Service]\nExec=\n");
        assert_rejected("x", "[Service]\nExec=/x \"unterminated\n");
        assert_rejected("x", "[Service]\nExec=/x\nReady=socket\n");
        assert_rejected("x", "[Service]\nExec=/x\nReady=path:relative\n");
        assert_rejected("x", "[Service]\nExec=/x\nRestart=sometimes\n");
        assert_rejected("x", "[Service]\nExec=/x\nStopSignal=SIGSEGV\n");
        assert_rejected("x", "[Service]\nExec=/x\nStopSignal=0\n");
        assert_rejected("x", "[Service]\nExec=/x\nStopSignal=65\n");
        assert_rejected("x", "[Service]\nExec=/x\nReadyTimeout=-1\n");
        assert_rejected("x", "[Service]\nExec=/x\nReadyTimeout=86401\n");
        assert_rejected("x", "[Service]\nExec=/x\nRestartSec=1s\n");
        assert_rejected("x", "[Service]\nExec=/x\nRestartSec=10\nRestartMaxSec=5\n");
        assert_rejected("x", "[Service]\nExec=/x\nLimitNOFILE=0\n");
        assert_rejected("x", "[Service]\nExec=/x\nLimitNOFILE=99999999999999999999999\n");
        assert_rejected("x", "[Service]\nExec=/x\nOOMScoreAdjust=-1001\n");
        assert_rejected("x", "[Service]\nExec=/x\nOOMScoreAdjust=1001\n");
        assert_rejected("x", "[Service]\nExec=/x\nLogMaxSize=1K\n");
        assert_rejected("x", "[Service]\nExec=/x\nLogMaxSize=2G\n");
        assert_rejected("x", "[Service]\nExec=/x\nLogMaxSize=1T\n");
        assert_rejected("x", "[Service]\nExec=/x\nLogMaxSize=M\n");
        assert_rejected("x", "[Service]\nExec=/x\nLogKeep=17\n");
        assert_rejected("x", "[Service]\nExec=/x\nEnvironment=1A=x\n");
        assert_rejected("x", "[Service]\nExec=/x\nEnvironment=NOEQUALS\n");
        assert_rejected("x", "[Service]\nExec=/x\nEnvironment=A-B=x\n");
        assert_rejected("x", "[Service]\nExec=/x\nWorkingDirectory=var\n");
        assert_rejected("x", "[Service]\nExec=/x\nAfter=../evil\n");
        assert_rejected("x", "[Service]\nExec=/x\nConditionKernelCmdline=a b\n");
        assert_rejected("x", "[Service]\nExec=/x\nConditionFirstBoot=maybe\n");
        assert_rejected("x", "[Service]\nExec=/x\nUser=Root\n");
        assert_rejected("x", "[Service]\nExec=/x\nUser=a:b\n");
        assert_rejected("x", "[Service]\nExec=/x\nGroup=../x\n");
        assert_rejected("x", "[Service]\nExec=/x\nCapabilityBoundingSet=CAP_NO_SUCH\n");
        assert_rejected("x", "[Service]\nExec=/x\nNoNewPrivileges=perhaps\n");
        assert_rejected("x", "[Service]\nExec=/x\nSystemCallFilter=read no_such_call\n");
        assert_rejected("x", "[Service]\nExec=/x\nReadOnlyPaths=etc\n");
        assert_rejected("x", "[Service]\nExec=/x\nReadOnlyPaths=/etc/../root\n");
        assert_rejected("", "[Service]\nExec=/x\n");
        assert_rejected("a/b", "[Service]\nExec=/x\n");
}

/* Builds a set from NULL-terminated (name, After=, Wants=) triples. */
static ServiceSet *make_set(const char *const *defs) {
        ServiceSet *set = calloc(1, sizeof(ServiceSet));
        assert_non_null(set);
        for (size_t i = 0; defs[i]; i += 3) {
                _cleanup_free_ char *text = strdup_printf("[Service]\nExec=/bin/%s\n"
                                                          "After=%s\nWants=%s\n",
                                                          defs[i], defs[i + 1], defs[i + 2]);
                Service *n = realloc(set->services, (set->n + 1) * sizeof(Service));
                assert_non_null(n);
                set->services = n;
                assert_int_equal(parse(defs[i], text, &set->services[set->n]), 0);
                set->n++;
        }
        return set;
}

static void assert_order(ServiceSet *set, const char *expected) {
        _cleanup_free_ char *got = strdup("");
        for (size_t i = 0; i < set->n; i++) {
                char *n = strdup_printf("%s%s%s", got, i ? " " : "", set->services[i].name);
                free(got);
                got = n;
        }
        assert_string_equal(got, expected);
}

static void test_order_puts_dependencies_first_and_ties_by_name(void **state) {
        const char *const defs[] = {
                "zeta",       "",        "",           /* independent */
                "containerd", "network", "chrony",     /* */
                "chrony",     "network", "",           /* */
                "network",    "",        "",           /* */
                "alpha",      "",        "missing",    /* Wants= of a missing one is fine */
                "berthd",     "",        "containerd", /* */
                NULL,
        };
        _cleanup_(service_set_freep) ServiceSet *set = make_set(defs);
        assert_int_equal(service_set_order(set), 0);
        assert_order(set, "alpha network chrony containerd berthd zeta");
        /* Ordering an ordered set changes nothing. */
        assert_int_equal(service_set_order(set), 0);
        assert_order(set, "alpha network chrony containerd berthd zeta");
}

static void test_order_missing_after_is_error(void **state) {
        const char *const defs[] = { "a", "", "", "b", "a nothere", "", NULL };
        _cleanup_(service_set_freep) ServiceSet *set = make_set(defs);
        assert_int_equal(service_set_order(set), -ENOENT);
        assert_order(set, "a b");
}

static void test_order_cycle_is_error(void **state) {
        const char *const defs[] = {
                "a", "", "", "b", "d", "", "c", "b", "", "d", "", "c", "e", "b", "", NULL,
        };
        _cleanup_(service_set_freep) ServiceSet *set = make_set(defs);
        assert_int_equal(service_set_order(set), -ELOOP);
}

static void test_order_self_dependency_is_cycle(void **state) {
        const char *const defs[] = { "a", "a", "", NULL };
        _cleanup_(service_set_freep) ServiceSet *set = make_set(defs);
        assert_int_equal(service_set_order(set), -ELOOP);
}

static void write_file(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        assert_non_null(p);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void test_load_reads_service_files_sorted_and_ordered(void **state) {
        char dir[] = "/tmp/test-service-XXXXXX";
        _cleanup_free_ char *sub = NULL;
        ServiceSet *set = NULL;

        assert_non_null(mkdtemp(dir));
        write_file(dir, "b.service", "[Service]\nExec=/b\n");
        write_file(dir, "a.service", "[Service]\nExec=/a\nAfter=c\n");
        write_file(dir, "c.service", "[Service]\nExec=/c\n");
        write_file(dir, "README", "not a service");
        write_file(dir, "d.service.bak", "[Nope]\n");
        sub = path_join(dir, "e.service");
        assert_int_equal(mkdir_p(sub, 0755), 0);

        assert_int_equal(service_set_load(dir, &set), 0);
        assert_order(set, "b c a");
        assert_string_equal(set->services[2].argv[0], "/a");
        set = service_set_free(set);

        write_file(dir, "f.service", "[Service]\nExec=/f\nBogus=1\n");
        assert_int_equal(service_set_load(dir, &set), -EBADMSG);
        assert_null(set);
        assert_int_equal(rm_rf(dir), 0);
        assert_int_equal(service_set_load(dir, &set), -ENOENT);
}

static void test_parse_file_takes_name_from_file_name(void **state) {
        char dir[] = "/tmp/test-service-XXXXXX";
        _cleanup_free_ char *p = NULL;
        _cleanup_(service_done) Service s = {};

        assert_non_null(mkdtemp(dir));
        write_file(dir, "chrony.service", "[Service]\nExec=/usr/sbin/chronyd -d\n");
        p = path_join(dir, "chrony.service");
        assert_int_equal(service_parse_file(p, &s), 0);
        assert_string_equal(s.name, "chrony");
        assert_int_equal(service_parse_file("/tmp/no.conf", &s), -EINVAL);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_keys_parse_into_fields),
                cmocka_unit_test(test_defaults_apply_when_keys_are_absent),
                cmocka_unit_test(test_sandbox_keys),
                cmocka_unit_test(test_shipped_services_parse),
                cmocka_unit_test(test_exec_quotes_group_words_and_escape),
                cmocka_unit_test(test_ready_and_signal_forms),
                cmocka_unit_test(test_ready_network_and_socket),
                cmocka_unit_test(test_listen_and_schedule_keys),
                cmocka_unit_test(test_bad_input_is_rejected),
                cmocka_unit_test(test_order_puts_dependencies_first_and_ties_by_name),
                cmocka_unit_test(test_order_missing_after_is_error),
                cmocka_unit_test(test_order_cycle_is_error),
                cmocka_unit_test(test_order_self_dependency_is_cycle),
                cmocka_unit_test(test_load_reads_service_files_sorted_and_ordered),
                cmocka_unit_test(test_parse_file_takes_name_from_file_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
