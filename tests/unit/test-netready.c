/* SPDX-License-Identifier: MIT */
/* The readiness checks that look at the system (src/init/netready.c) and the
 * supervisor's Ready=network and Ready=socket: kinds, against the real kernel.
 * The process moves into a network namespace of its own, where only lo
 * exists, and builds a veth pair with `ip`; without the privilege for that
 * (or without ip) the whole file is skipped (77). */
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "netready.h"
#include "service.h"
#include "strv.h"
#include "supervise.h"

static char dir[64];

static void sh(const char *cmd) {
        int r = system(cmd);
        if (r != 0)
                fail_msg("'%s' failed (%d)", cmd, r);
}

static int group_setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/berth-netready-XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state) {
        (void) rm_rf(dir);
        return 0;
}

/* Each test starts from a namespace with lo alone, down. */
static int fresh_netns(void **state) {
        return unshare(CLONE_NEWNET) < 0 ? -1 : 0;
}

static void test_empty_namespace_is_not_ready(void **state) {
        NetState s;
        char why[256];

        assert_int_equal(netready_check(&s), 0);
        assert_false(s.has_address);
        assert_false(s.has_default);
        netready_describe(&s, why, sizeof why);
        assert_string_equal(why, "no address on any interface but lo, no default route");

        /* lo with 127.0.0.1 and ::1 up does not count. */
        sh("ip link set lo up");
        assert_int_equal(netready_check(&s), 0);
        assert_false(s.has_address);
}

static void test_address_without_route_is_not_ready(void **state) {
        NetState s;
        char why[256];

        sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
        sh("ip addr add 192.0.2.10/24 dev v0");
        assert_int_equal(netready_check(&s), 0);
        assert_true(s.has_address);
        assert_false(s.has_default);
        /* The kernel's creation stamp of the address, since boot. */
        assert_true(s.address_since > 0);
        netready_describe(&s, why, sizeof why);
        assert_true(strneq(why, "v0 has 192.0.2.10/24 (since ", 28));
        assert_non_null(strstr(why, " s), no default route"));

        sh("ip route add default via 192.0.2.1");
        assert_int_equal(netready_check(&s), 1);
        netready_describe(&s, why, sizeof why);
        assert_non_null(strstr(why, "s), default route via 192.0.2.1 dev v0"));
}

static void test_families_must_match(void **state) {
        NetState s;

        /* An IPv4 address and only an IPv6 default route (an RA that came
         * before the DHCP client added its route) is not ready. */
        sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
        sh("ip addr add 192.0.2.10/24 dev v0");
        sh("ip -6 addr add 2001:db8::10/64 dev v1 nodad");
        sh("ip -6 route add default via 2001:db8::1 dev v1");
        assert_int_equal(netready_check(&s), 1); /* v1 has both of IPv6 */
        sh("ip -6 addr del 2001:db8::10/64 dev v1");
        assert_int_equal(netready_check(&s), 0);
        assert_true(s.has_address);
        assert_true(s.has_default);
        assert_false(s.ready);
        sh("ip route add default via 192.0.2.1");
        assert_int_equal(netready_check(&s), 1);
        assert_string_equal(s.address, "192.0.2.10/24");
        assert_string_equal(s.gateway, "192.0.2.1");
}

static void test_route_in_another_table_does_not_count(void **state) {
        NetState s;

        sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
        sh("ip addr add 192.0.2.10/24 dev v0 && ip route add default via 192.0.2.1 table 100");
        assert_int_equal(netready_check(&s), 0);
        assert_false(s.has_default);
}

static void test_ipv6_only_counts(void **state) {
        NetState s;

        sh("ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up");
        /* nodad: a tentative address must not count, so skip DAD here. */
        sh("ip -6 addr add 2001:db8::10/64 dev v0 nodad");
        sh("ip -6 route add default via 2001:db8::1 dev v0");
        assert_int_equal(netready_check(&s), 1);
        assert_string_equal(s.address, "2001:db8::10/64");
        assert_string_equal(s.gateway, "2001:db8::1");
}

static void test_monitor_wakes_on_a_new_address(void **state) {
        sh("ip link add v0 type veth peer name v1");
        _cleanup_close_ int fd = netready_monitor_open();
        assert_true(fd >= 0);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        netready_monitor_drain(fd);
        assert_int_equal(poll(&p, 1, 0), 0);
        sh("ip addr add 192.0.2.10/24 dev v0");
        assert_int_equal(poll(&p, 1, 1000), 1);
        netready_monitor_drain(fd);
        assert_int_equal(poll(&p, 1, 0), 0);
}

static void test_socket_ready_needs_a_listener(void **state) {
        _cleanup_free_ char *path = path_join(dir, "s.sock");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        (void) unlink(path);

        assert_int_equal(socket_ready_check(path), 0); /* missing */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(socket_ready_check(path), 0); /* exists, nobody listens */
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(socket_ready_check(path), 1);
        (void) unlink(path);

        /* A datagram socket (chronyd's command socket) counts once bound. */
        _cleanup_close_ int dg = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(dg, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(socket_ready_check(path), 1);
        (void) unlink(path);
}

/* ---- the supervisor ---- */

static Service *svc(Service *s, const char *name, const char *script) {
        *s = (Service){
                .ready = SERVICE_READY_STARTED,
                .restart = SERVICE_RESTART_NO,
                .restart_sec = 1,
                .restart_max_sec = 30,
                .stop_signal = SIGTERM,
                .stop_timeout_s = 2,
        };
        snprintf(s->name, sizeof s->name, "%s", name);
        assert_int_equal(strv_extend(&s->argv, "/bin/sh"), 0);
        assert_int_equal(strv_extend(&s->argv, "-c"), 0);
        assert_int_equal(strv_extend(&s->argv, script), 0);
        return s;
}

static pid_t start(Service *services, size_t n) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                ServiceSet set = { .services = services, .n = n };
                SuperviseConfig cfg = { .console_fd = -1, .subreaper = true };
                ShutdownAction a;
                int r = supervise_run(&set, &cfg, &a);
                _exit(r < 0 ? 1 : 0);
        }
        return pid;
}

static void stop(pid_t pid) {
        int status;
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static char *file_in_dir(const char *name) {
        char *p = path_join(dir, name);
        assert_non_null(p);
        (void) unlink(p);
        return p;
}

static bool wait_for(const char *path, unsigned ms) {
        for (unsigned i = 0; i < ms / 20 && access(path, F_OK) < 0; i++)
                usleep(20 * 1000);
        return access(path, F_OK) == 0;
}

static void test_after_network_waits_for_address_and_route(void **state) {
        _cleanup_free_ char *configured = file_in_dir("configured"), *ran = file_in_dir("ran");
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        Service s[2];

        /* The "DHCP client" sets the address, waits, then adds the route. */
        assert_non_null(s1 = strdup_printf(
                                "ip link add v0 type veth peer name v1 && ip link set v0 up && "
                                "ip addr add 192.0.2.10/24 dev v0 && sleep 0.5 && "
                                "touch %s && ip route add default via 192.0.2.1 && exec sleep 100",
                                configured));
        svc(&s[0], "network", s1)->ready = SERVICE_READY_NETWORK;
        s[0].ready_timeout_s = 10;
        /* The dependent records whether the route existed when it started. */
        assert_non_null(s2 = strdup_printf("ip route show default | grep -q 192.0.2.1 && "
                                           "echo route > %s; exec sleep 100",
                                           ran));
        svc(&s[1], "user", s2);
        assert_int_equal(strv_extend(&s[1].after, "network"), 0);

        pid_t pid = start(s, 2);
        assert_true(wait_for(ran, 5000));
        assert_true(access(configured, F_OK) == 0);
        _cleanup_free_ char *text = NULL;
        assert_int_equal(read_full_file(ran, &text, NULL, 0), 0);
        assert_string_equal(text, "route\n");
        stop(pid);
        service_done(&s[0]);
        service_done(&s[1]);
}

static void test_network_never_ready_fails_its_dependents(void **state) {
        _cleanup_free_ char *ran = file_in_dir("ran"), *s2 = NULL;
        Service s[2];

        svc(&s[0], "network", "exec sleep 100")->ready = SERVICE_READY_NETWORK;
        s[0].ready_timeout_s = 1;
        assert_non_null(s2 = strdup_printf("touch %s; exec sleep 100", ran));
        svc(&s[1], "user", s2);
        assert_int_equal(strv_extend(&s[1].after, "network"), 0);

        pid_t pid = start(s, 2);
        usleep(2500 * 1000);
        assert_false(access(ran, F_OK) == 0);
        stop(pid);
        service_done(&s[0]);
        service_done(&s[1]);
}

static void test_after_socket_waits_for_listen(void **state) {
        _cleanup_free_ char *sock = file_in_dir("d.sock"), *ran = file_in_dir("ran");
        _cleanup_free_ char *listening = file_in_dir("listening");
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        Service s[2];

        /* Bound at once (the path exists), listening only 0.5 s later. */
        assert_non_null(
                s1 = strdup_printf("exec python3 -c 'import socket,time,sys; "
                                   "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
                                   "time.sleep(0.5); open(sys.argv[2],\"w\").close(); s.listen(4); "
                                   "time.sleep(100)' %s %s",
                                   sock, listening));
        svc(&s[0], "daemon", s1)->ready = SERVICE_READY_SOCKET;
        assert_non_null(s[0].ready_path = strdup(sock));
        s[0].ready_timeout_s = 10;
        assert_non_null(s2 = strdup_printf("test -e %s && echo listening > %s; exec sleep 100",
                                           listening, ran));
        svc(&s[1], "user", s2);
        assert_int_equal(strv_extend(&s[1].after, "daemon"), 0);

        pid_t pid = start(s, 2);
        assert_true(wait_for(ran, 5000));
        _cleanup_free_ char *text = NULL;
        assert_int_equal(read_full_file(ran, &text, NULL, 0), 0);
        assert_string_equal(text, "listening\n");
        stop(pid);
        service_done(&s[0]);
        service_done(&s[1]);
}

int main(void) {
        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "test-netready: no network namespace (%m), skipped\n");
                return 77;
        }
        if (system("ip link add berthprobe type veth peer name berthprobe1 2>/dev/null && "
                   "ip link del berthprobe") != 0) {
                fprintf(stderr, "test-netready: `ip link add ... type veth` fails, skipped\n");
                return 77;
        }
        if (system("python3 -c '' 2>/dev/null") != 0) {
                fprintf(stderr, "test-netready: python3 is missing, skipped\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_empty_namespace_is_not_ready, fresh_netns),
                cmocka_unit_test_setup(test_address_without_route_is_not_ready, fresh_netns),
                cmocka_unit_test_setup(test_route_in_another_table_does_not_count, fresh_netns),
                cmocka_unit_test_setup(test_families_must_match, fresh_netns),
                cmocka_unit_test_setup(test_ipv6_only_counts, fresh_netns),
                cmocka_unit_test_setup(test_monitor_wakes_on_a_new_address, fresh_netns),
                cmocka_unit_test(test_socket_ready_needs_a_listener),
                cmocka_unit_test_setup(test_after_network_waits_for_address_and_route, fresh_netns),
                cmocka_unit_test_setup(test_network_never_ready_fails_its_dependents, fresh_netns),
                cmocka_unit_test(test_after_socket_waits_for_listen),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
