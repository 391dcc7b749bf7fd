/* SPDX-License-Identifier: MIT */
/* The boot assessment's health probe (src/update/assess.c) against real
 * status files (written as berth-init writes them) and a real listening
 * Unix socket standing in for containerd's. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "initctl.h"
#include "macro.h"
#include "update.h"

static char dir[] = "/tmp/berth-test-assess-XXXXXX";
static char *services, *sock;

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        services = path_join(dir, "services");
        sock = path_join(dir, "containerd.sock");
        return services && sock && mkdir_p(services, 0755) == 0 ? 0 : -1;
}

static int teardown(void **state) {
        free(services);
        free(sock);
        return rm_rf(dir);
}

static void put(const char *name, const char *state) {
        ServiceStatus st = { .exit_status = -1 };
        snprintf(st.name, sizeof st.name, "%s", name);
        snprintf(st.state, sizeof st.state, "%s", state);
        int fd = open(services, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(service_status_write(fd, &st), 0);
        close(fd);
}

static int probe(char **reason) {
        free(*reason);
        *reason = NULL;
        return update_health_probe(services, "update", sock, reason);
}

static void test_health(void **state) {
        _cleanup_free_ char *reason = NULL;

        /* No services: healthy (nothing to wait for). */
        assert_int_equal(probe(&reason), 1);

        put("network", "ready");
        put("oneshot", "exited");
        put("cond", "skipped");
        put("update", "starting"); /* itself: never waited for */
        assert_int_equal(probe(&reason), 1);

        put("chrony", "starting");
        assert_int_equal(probe(&reason), 0);
        assert_string_equal(reason, "service chrony is starting");
        put("chrony", "failed");
        assert_int_equal(probe(&reason), 0);
        assert_string_equal(reason, "service chrony is failed");
        put("chrony", "ready");
        assert_int_equal(probe(&reason), 1);

        /* containerd ready, but its socket does not answer. */
        put("containerd", "ready");
        assert_int_equal(probe(&reason), 0);
        assert_non_null(strstr(reason, "does not answer"));

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(fd >= 0 && strlen(sock) < sizeof sa.sun_path);
        strcpy(sa.sun_path, sock);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        /* Bound, not listening: a socket file left behind does not count. */
        assert_int_equal(probe(&reason), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(probe(&reason), 1);
        close(fd);
        assert_int_equal(probe(&reason), 0);
}

static void test_no_status_dir(void **state) {
        _cleanup_free_ char *reason = NULL, *none = path_join(dir, "none");
        assert_int_equal(update_health_probe(none, "update", sock, &reason), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_health),
                cmocka_unit_test(test_no_status_dir),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
