/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "spawn-util.h"

static void test_run_captures_output_and_environment(void **state) {
        _cleanup_free_ char *out = NULL;
        assert_int_equal(
                spawn_run((char *[]){ "sh", "-c", "echo $BERTH_T; echo err >&2", NULL },
                          &(SpawnOptions){ .env_extra = (char *[]){ "BERTH_T=hello", NULL } },
                          &out),
                0);
        assert_string_equal(out, "hello\nerr\n");
}

static void test_run_maps_exit_status(void **state) {
        log_set_max_level(0); /* the failures below are expected */
        assert_int_equal(spawn_run((char *[]){ "sh", "-c", "exit 3", NULL }, NULL, NULL), -EPROTO);
        assert_int_equal(spawn_run((char *[]){ "no-such-program-berth", NULL }, NULL, NULL),
                         -ENOENT);
        assert_int_equal(spawn_run((char *[]){ "sh", "-c", "kill -9 $$", NULL }, NULL, NULL),
                         -EPROTO);
}

static void test_start_wait_with_fds(void **state) {
        char path[] = "/tmp/test-spawn.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        int in = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        pid_t pid;
        /* stdin from a file, stdout and fd 3 into another. */
        assert_int_equal(
                spawn_start((char *[]){ "sh", "-c", "echo three >&3; cat >/dev/null", NULL },
                            &(SpawnOptions){ .in_fd = in >= 0 ? in : 0, .fd3 = fd }, &pid),
                0);
        int status;
        assert_int_equal(spawn_wait(pid, &status), 0);
        _cleanup_free_ char *data = NULL;
        assert_int_equal(read_full_file(path, &data, NULL, 0), 0);
        assert_string_equal(data, "three\n");
        if (in >= 0)
                close(in);
        close(fd);
        unlink(path);
}

static void test_find_program_searches_sbin(void **state) {
        _cleanup_free_ char *p = NULL;
        assert_int_equal(spawn_find_program("sh", &p), 0);
        assert_non_null(strchr(p, '/'));
        _cleanup_free_ char *q = NULL;
        assert_int_equal(spawn_find_program("no-such-program-berth", &q), -ENOENT);
        assert_int_equal(spawn_find_program("", &q), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_captures_output_and_environment),
                cmocka_unit_test(test_run_maps_exit_status),
                cmocka_unit_test(test_start_wait_with_fds),
                cmocka_unit_test(test_find_program_searches_sbin),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
