/* SPDX-License-Identifier: MIT */
/* Service status files and control requests (initctl.c): the text PID 1
 * writes reads back the same, the writer replaces files atomically, and the
 * request parser takes exactly "VERB NAME" and nothing else. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fileio.h"
#include "initctl.h"
#include "macro.h"

static void test_status_round_trip(void **state) {
        ServiceStatus in = {
                .name = "containerd",
                .state = "ready",
                .pid = 4242,
                .restarts = 3,
                .ready_usec = 12345678,
                .exit_status = -1,
                .exit_signal = SIGKILL,
        }, out;
        char buf[SERVICE_STATUS_TEXT_MAX];

        int n = service_status_format(&in, buf, sizeof buf);
        assert_true(n > 0);
        assert_string_equal(buf, "name=containerd\nstate=ready\npid=4242\nrestarts=3\n"
                                 "ready_time=12.345\nlast_exit_status=\nlast_exit_signal=KILL\n");
        assert_int_equal(service_status_parse(buf, (size_t) n, &out), 0);
        assert_string_equal(out.name, "containerd");
        assert_string_equal(out.state, "ready");
        assert_int_equal(out.pid, 4242);
        assert_int_equal(out.restarts, 3);
        assert_int_equal(out.ready_usec, 12345000); /* milliseconds are kept */
        assert_int_equal(out.exit_status, -1);
        assert_int_equal(out.exit_signal, SIGKILL);
}

static void test_status_never_ready_and_exit_status(void **state) {
        ServiceStatus in = { .name = "once", .state = "exited", .exit_status = 0 }, out;
        char buf[SERVICE_STATUS_TEXT_MAX];

        int n = service_status_format(&in, buf, sizeof buf);
        assert_true(n > 0);
        assert_non_null(strstr(buf, "\nready_time=\n"));
        assert_non_null(strstr(buf, "\nlast_exit_status=0\n"));
        assert_int_equal(service_status_parse(buf, (size_t) n, &out), 0);
        assert_int_equal(out.ready_usec, 0);
        assert_int_equal(out.exit_status, 0);
        assert_int_equal(out.exit_signal, 0);
}

static void test_status_format_refuses_small_buffer(void **state) {
        ServiceStatus in = { .name = "a", .state = "ready", .exit_status = -1 };
        char buf[16];
        assert_int_equal(service_status_format(&in, buf, sizeof buf), -ENOBUFS);
}

static void test_status_parse_skips_unknown_keys_refuses_bad_values(void **state) {
        ServiceStatus out;
        static const char ok[] = "name=a\nstate=ready\nfuture_key=whatever\npid=7\n";
        assert_int_equal(service_status_parse(ok, strlen(ok), &out), 0);
        assert_int_equal(out.pid, 7);

        static const char *const bad[] = {
                "name=a\nstate=ready\npid=-1\n",
                "name=a\nstate=ready\npid=99999999999\n",
                "name=a\nstate=ready\nrestarts=1x\n",
                "name=a\nstate=ready\nready_time=12\n",
                "name=a\nstate=ready\nready_time=1.2345\n",
                "name=a\nstate=ready\nlast_exit_status=256\n",
                "name=a\nstate=ready\nlast_exit_signal=NOPE\n",
                "name=a\nstate=ready\nno equals sign\n",
                "name=../etc\nstate=ready\n",
                "state=ready\n",
                "name=a\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(service_status_parse(bad[i], strlen(bad[i]), &out), -EBADMSG);

        char big[SERVICE_STATUS_TEXT_MAX + 2];
        memset(big, 'x', sizeof big);
        assert_int_equal(service_status_parse(big, sizeof big, &out), -EBADMSG);
        assert_int_equal(service_status_parse("name=a\0", 7, &out), -EBADMSG);
}

static void test_status_write_replaces_atomically(void **state) {
        char dir[] = "/tmp/berth-initctl-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);

        ServiceStatus st = { .name = "chrony", .state = "starting", .pid = 10, .exit_status = -1 };
        ServiceStatus back;
        assert_int_equal(service_status_write(fd, &st), 0);
        assert_int_equal(service_status_read(dir, "chrony", &back), 0);
        assert_string_equal(back.state, "starting");

        struct stat before, after;
        _cleanup_free_ char *p = path_join(dir, "chrony");
        assert_int_equal(stat(p, &before), 0);
        snprintf(st.state, sizeof st.state, "ready");
        st.restarts = 1;
        assert_int_equal(service_status_write(fd, &st), 0);
        assert_int_equal(stat(p, &after), 0);
        /* A new inode: readers see the old file or the new one, never half. */
        assert_true(before.st_ino != after.st_ino);
        assert_int_equal(after.st_mode & 07777, 0644);
        assert_int_equal(service_status_read(dir, "chrony", &back), 0);
        assert_string_equal(back.state, "ready");
        assert_int_equal(back.restarts, 1);
        /* No temporary file left behind. */
        _cleanup_free_ char *tmp = path_join(dir, ".chrony.tmp");
        assert_int_equal(access(tmp, F_OK), -1);

        ServiceStatus evil = { .name = "../x", .state = "ready" };
        assert_int_equal(service_status_write(fd, &evil), -EINVAL);
        assert_int_equal(service_status_read(dir, "../x", &back), -EINVAL);
        assert_int_equal(service_status_read(dir, "absent", &back), -ENOENT);
        (void) close(fd);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_request_parser(void **state) {
        char name[SERVICE_NAME_MAX];
        InitCtlVerb v;

        assert_int_equal(initctl_parse_request("restart chrony\n", 15, &v, name), 0);
        assert_int_equal(v, INITCTL_RESTART);
        assert_string_equal(name, "chrony");
        assert_int_equal(initctl_parse_request("stop getty@tty1", 15, &v, name), 0);
        assert_int_equal(v, INITCTL_STOP);
        assert_string_equal(name, "getty@tty1");
        assert_int_equal(initctl_parse_request("start a", 7, &v, name), 0);
        assert_int_equal(v, INITCTL_START);

        static const char *const bad[] = {
                "",
                "\n",
                "restart",
                "restart ",
                "restart  chrony",
                " restart chrony",
                "restart chrony extra",
                "reload chrony",
                "RESTART chrony",
                "restart ../../x",
                "restart chrony\n\n",
                "restart chr\nony",
                "restart -x",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(initctl_parse_request(bad[i], strlen(bad[i]), &v, name), -EBADMSG);
        assert_int_equal(initctl_parse_request("start a\0b", 9, &v, name), -EBADMSG);

        char longreq[INITCTL_LINE_MAX + 8];
        memset(longreq, 'a', sizeof longreq);
        memcpy(longreq, "start ", 6);
        assert_int_equal(initctl_parse_request(longreq, sizeof longreq, &v, name), -EBADMSG);
        /* A name one byte too long for SERVICE_NAME_MAX. */
        char toolong[6 + SERVICE_NAME_MAX + 1];
        memset(toolong, 'a', sizeof toolong);
        memcpy(toolong, "start ", 6);
        assert_int_equal(initctl_parse_request(toolong, sizeof toolong, &v, name), -EBADMSG);
}

static void test_request_without_pid1_fails_cleanly(void **state) {
        char reply[64];
        assert_int_equal(initctl_request("/nonexistent/init.sock", INITCTL_START, "a", 100, reply,
                                         sizeof reply),
                         -ENOENT);
        assert_int_equal(initctl_request("/nonexistent/init.sock", INITCTL_START, "../a", 100,
                                         reply, sizeof reply),
                         -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_round_trip),
                cmocka_unit_test(test_status_never_ready_and_exit_status),
                cmocka_unit_test(test_status_format_refuses_small_buffer),
                cmocka_unit_test(test_status_parse_skips_unknown_keys_refuses_bad_values),
                cmocka_unit_test(test_status_write_replaces_atomically),
                cmocka_unit_test(test_request_parser),
                cmocka_unit_test(test_request_without_pid1_fails_cleanly),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
