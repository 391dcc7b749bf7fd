/* SPDX-License-Identifier: MIT */
/* berth-netevent's lease handling (src/net/lease.c): dhcpcd's environment in,
 * per-interface state and /etc/resolv.conf text out; what a DHCP server sends
 * is validated before it reaches a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "lease.h"
#include "macro.h"

static char dir[64];

static int setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/berth-lease-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        static const char *const vars[] = { "interface",
                                            "reason",
                                            "if_up",
                                            "if_down",
                                            "new_ip_address",
                                            "new_subnet_cidr",
                                            "new_domain_name_servers",
                                            "new_domain_name",
                                            "new_domain_search",
                                            "new_host_name" };
        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                (void) unsetenv(vars[i]);
        return 0;
}

static int teardown(void **state) {
        (void) rm_rf(dir);
        return 0;
}

static void bound(const char *ifname, const char *servers, const char *domain, const char *host) {
        setenv("interface", ifname, 1);
        setenv("reason", "BOUND", 1);
        setenv("if_up", "true", 1);
        setenv("if_down", "false", 1);
        setenv("new_ip_address", "10.0.2.15", 1);
        setenv("new_subnet_cidr", "24", 1);
        setenv("new_domain_name_servers", servers, 1);
        setenv("new_domain_name", domain, 1);
        setenv("new_host_name", host, 1);
}

static char *render(void) {
        char *t = NULL;
        assert_int_equal(lease_render_resolv(dir, &t), 0);
        return t;
}

static void test_bound_lease_renders_resolv_conf(void **state) {
        Lease l;
        char host[64];

        bound("eth0", "10.0.2.3", "example.test", "node1");
        assert_int_equal(lease_from_env(&l), 0);
        assert_true(l.up);
        assert_false(l.down);
        assert_string_equal(l.address, "10.0.2.15/24");
        assert_int_equal(lease_store(dir, &l), 1);
        assert_int_equal(lease_store(dir, &l), 0); /* a RENEW with the same data */
        _cleanup_free_ char *t = render();
        assert_non_null(strstr(t, "\nnameserver 10.0.2.3\nsearch example.test\n"));
        assert_int_equal(lease_hostname(dir, host, sizeof host), 0);
        assert_string_equal(host, "node1");
}

static void test_interfaces_merge_and_leave(void **state) {
        Lease l;

        bound("eth1", "192.0.2.53 10.0.2.3", "b.test", "");
        assert_int_equal(lease_from_env(&l), 0);
        assert_int_equal(lease_store(dir, &l), 1);
        bound("eth0", "10.0.2.3 2001:db8::53 198.51.100.1", "a.test", "");
        assert_int_equal(lease_from_env(&l), 0);
        assert_int_equal(lease_store(dir, &l), 1);
        {
                /* eth0 first (name order), duplicates once, three servers at most. */
                _cleanup_free_ char *t = render();
                assert_non_null(strstr(t, "\nnameserver 10.0.2.3\nnameserver 2001:db8::53\n"
                                          "nameserver 198.51.100.1\nsearch a.test b.test\n"));
                assert_null(strstr(t, "192.0.2.53"));
        }
        /* eth0's lease expires: eth1's servers remain. */
        setenv("interface", "eth0", 1);
        setenv("reason", "EXPIRE", 1);
        setenv("if_up", "false", 1);
        setenv("if_down", "true", 1);
        assert_int_equal(lease_from_env(&l), 0);
        assert_true(l.down);
        assert_int_equal(lease_store(dir, &l), 1);
        _cleanup_free_ char *t = render();
        assert_non_null(strstr(t, "\nnameserver 192.0.2.53\nnameserver 10.0.2.3\nsearch b.test\n"));
        char host[64];
        assert_int_equal(lease_hostname(dir, host, sizeof host), -ENOENT);
}

static void test_events_without_a_lease_change_nothing(void **state) {
        Lease l;
        setenv("interface", "eth0", 1);
        setenv("reason", "PREINIT", 1);
        setenv("if_up", "false", 1);
        setenv("if_down", "false", 1);
        assert_int_equal(lease_from_env(&l), 0);
        assert_int_equal(lease_store(dir, &l), 0);
        _cleanup_free_ char *t = render();
        assert_null(strstr(t, "nameserver"));
}

static void test_hostile_lease_is_filtered(void **state) {
        Lease l;

        /* Words are split on any white space, each must be an address. */
        bound("eth0", "10.0.2.3 evil\noptions ndots:15 300.1.1.1 ::1", "ok.test bad_domain",
              "x\nsearch evil");
        assert_int_equal(lease_from_env(&l), 0);
        assert_int_equal(l.n_servers, 2);
        assert_int_equal(lease_store(dir, &l), 1);
        _cleanup_free_ char *t = render();
        assert_string_equal(strchr(t, '\n'), "\nnameserver 10.0.2.3\nnameserver ::1\n"
                                             "search ok.test\n");
        char host[64];
        assert_int_equal(lease_hostname(dir, host, sizeof host), -ENOENT);

        setenv("interface", "../etc", 1);
        assert_int_equal(lease_from_env(&l), -EINVAL);
        unsetenv("interface");
        assert_int_equal(lease_from_env(&l), -EINVAL);
}

static void test_domain_rules(void **state) {
        assert_true(lease_valid_domain("a"));
        assert_true(lease_valid_domain("node-1.example.test"));
        assert_false(lease_valid_domain("-a"));
        assert_false(lease_valid_domain("a-"));
        assert_false(lease_valid_domain("a..b"));
        assert_false(lease_valid_domain(".a"));
        assert_false(lease_valid_domain("a b"));
        assert_false(lease_valid_domain(""));
        char label[70];
        memset(label, 'a', 64);
        label[64] = 0;
        assert_false(lease_valid_domain(label));
        assert_true(lease_valid_ifname("eth0"));
        assert_false(lease_valid_ifname("a/b"));
        assert_false(lease_valid_ifname(".."));
        assert_false(lease_valid_ifname("0123456789abcdef"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_bound_lease_renders_resolv_conf, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_interfaces_merge_and_leave, setup, teardown),
                cmocka_unit_test_setup_teardown(test_events_without_a_lease_change_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_hostile_lease_is_filtered, setup, teardown),
                cmocka_unit_test(test_domain_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
