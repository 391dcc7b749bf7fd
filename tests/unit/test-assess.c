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
#include <time.h>
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
        return update_health_probe(services, "update", sock, NULL, 0, reason);
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
        assert_int_equal(update_health_probe(none, "update", sock, NULL, 0, &reason), -ENOENT);
}

static int probe_command(char *const *argv, unsigned timeout, char **reason) {
        free(*reason);
        *reason = NULL;
        return update_health_probe(services, "update", sock, argv, timeout, reason);
}

/* HealthCommand=: real programs, run without a shell; non-zero is unhealthy. */
static void test_health_command(void **state) {
        _cleanup_free_ char *reason = NULL;
        char *const yes[] = { (char *) "/bin/true", NULL };
        char *const no[] = { (char *) "/bin/sh", (char *) "-c", (char *) "exit 3", NULL };
        char *const slow[] = { (char *) "/bin/sleep", (char *) "30", NULL };
        char *const missing[] = { (char *) "/nonexistent/health", NULL };
        _cleanup_free_ char *marker = path_join(dir, "ran");
        char *const touch[] = { (char *) "/usr/bin/touch", marker, NULL };

        /* Only the command decides here (no services, no containerd). */
        (void) rm_rf(services);
        assert_int_equal(mkdir_p(services, 0755), 0);
        assert_int_equal(probe_command(yes, 5, &reason), 1);
        assert_null(reason);
        assert_int_equal(probe_command(touch, 5, &reason), 1);
        assert_int_equal(access(marker, F_OK), 0);
        assert_int_equal(probe_command(no, 5, &reason), 0);
        assert_string_equal(reason, "health command /bin/sh exited with status 3");
        assert_int_equal(probe_command(missing, 5, &reason), 0);
        assert_non_null(strstr(reason, "health command /nonexistent/health cannot run"));
        time_t t0 = time(NULL);
        assert_int_equal(probe_command(slow, 1, &reason), 0);
        assert_string_equal(reason, "health command /bin/sleep did not finish in 1s");
        assert_true(time(NULL) - t0 < 10);
        /* An unhealthy service is reported first; the command is not run. */
        (void) unlink(marker);
        put("chrony", "failed");
        assert_int_equal(probe_command(touch, 5, &reason), 0);
        assert_string_equal(reason, "service chrony is failed");
        assert_int_equal(access(marker, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_health),
                cmocka_unit_test(test_no_status_dir),
                cmocka_unit_test(test_health_command),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
