/* SPDX-License-Identifier: MIT */
/* The settings model (src/api/settings.c), its generations on disk
 * (settings-store.c) and the /etc renderer (settings-render.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "settings-render.h"
#include "settings-store.h"
#include "settings.h"
#include "strv.h"

static char dir[] = "/tmp/berth-test-settings-XXXXXX";

static const char full[] =
        "{\"network\": {\"hostname\": \"node-1.example\", \"interface\": \"eth0\","
        " \"mode\": \"static\", \"address\": \"10.0.0.2/24\", \"gateway\": \"10.0.0.1\","
        " \"dns\": [\"10.0.0.1\", \"2001:db8::1\"]},"
        " \"time\": {\"servers\": [\"ntp.example\", \"192.0.2.7\"]},"
        " \"kernel\": {\"sysctl\": {\"net.ipv4.ip_forward\": 1, \"vm.swappiness\": \"10\"},"
        "  \"modules\": [\"br_netfilter\"], \"cmdline\": [\"quiet\", \"console=ttyS0\"]},"
        " \"containerd\": {\"registry-mirrors\": {\"docker.io\": [\"https://m1.example\","
        "  \"http://10.0.0.5:5000\"], \"ghcr.io\": [\"https://m2.example\"]}},"
        " \"update\": {\"channel\": \"stable\"}}";

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

static void test_parse_full(void **state) {
        _cleanup_(settings_freep) Settings *s = NULL;
        json_t *j = NULL;
        char *text;

        assert_int_equal(settings_parse(full, strlen(full), &s), 0);
        assert_string_equal(s->hostname, "node-1.example");
        assert_string_equal(s->net_address, "10.0.0.2/24");
        assert_int_equal(strv_length(s->net_dns), 2);
        assert_int_equal(strv_length(s->sysctl), 4);
        assert_string_equal(s->sysctl[0], "net.ipv4.ip_forward");
        assert_string_equal(s->sysctl[1], "1");
        assert_int_equal(strv_length(s->mirrors), 6);
        assert_string_equal(s->update_channel, "stable");

        /* Round trip: the JSON form parses back to the same JSON. */
        assert_int_equal(settings_to_json(s, &j), 0);
        text = json_dumps(j, JSON_SORT_KEYS);
        assert_non_null(text);
        {
                _cleanup_(settings_freep) Settings *back = NULL;
                json_t *j2 = NULL;
                char *text2;

                assert_int_equal(settings_parse(text, strlen(text), &back), 0);
                assert_int_equal(settings_to_json(back, &j2), 0);
                text2 = json_dumps(j2, JSON_SORT_KEYS);
                assert_string_equal(text, text2);
                free(text2);
                json_decref(j2);
        }
        free(text);
        json_decref(j);
}

static void expect_error(const char *json, const char *message) {
        _cleanup_(settings_freep) Settings *s = NULL;
        int r = settings_parse(json, strlen(json), &s);

        assert_int_equal(r, -EINVAL);
        assert_null(s);
        assert_string_equal(error_message(r), message);
}

static void test_errors(void **state) {
        expect_error("{\"network\": {\"dns\": [\"1.1.1.1\", \"::1\", \"x\"]}}",
                     "network.dns[2]: not an IP address");
        expect_error("{\"network\": {\"hostnam\": \"a\"}}", "network.hostnam: unknown setting");
        expect_error("{\"netwrk\": {}}", "netwrk: unknown setting");
        expect_error("{\"network\": 3}", "network: not an object");
        expect_error("[]", "settings: not a JSON object");
        expect_error("{\"network\": {\"hostname\": \"-a\"}}", "network.hostname: not a host name");
        expect_error("{\"network\": {\"hostname\": 7}}", "network.hostname: not a string");
        expect_error("{\"network\": {\"mode\": \"static\", \"interface\": \"eth0\"}}",
                     "network.address: needed with network.mode \"static\"");
        expect_error("{\"network\": {\"address\": \"10.0.0.2/24\"}}",
                     "network.address: only with network.mode \"static\"");
        expect_error("{\"network\": {\"mode\": \"static\", \"interface\": \"eth0\","
                     " \"address\": \"10.0.0.2/33\"}}",
                     "network.address: not an address with prefix length (10.0.0.2/24)");
        expect_error("{\"kernel\": {\"sysctl\": {\"net..x\": 1}}}",
                     "kernel.sysctl.\"net..x\": not a sysctl name");
        expect_error("{\"kernel\": {\"sysctl\": {\"vm.swappiness\": \"1\\n2\"}}}",
                     "kernel.sysctl.\"vm.swappiness\": not a sysctl value (1 to 256 printable "
                     "characters)");
        expect_error("{\"kernel\": {\"sysctl\": {\"vm.swappiness\": true}}}",
                     "kernel.sysctl.\"vm.swappiness\": not a string or integer");
        expect_error("{\"kernel\": {\"cmdline\": [\"usrhash=00\"]}}",
                     "kernel.cmdline[0]: reserved for berth's own boot (usrhash=, berth.*, root=, "
                     "init=, ...)");
        expect_error("{\"kernel\": {\"modules\": [\"a/b\"]}}",
                     "kernel.modules[0]: not a kernel module name");
        expect_error("{\"kernel\": {\"modules\": [\"a\", \"a\"]}}",
                     "kernel.modules[1]: listed twice");
        expect_error("{\"containerd\": {\"registry-mirrors\": {\"docker.io\": [\"ftp://x\"]}}}",
                     "containerd.registry-mirrors.\"docker.io\"[0]: not an http or https URL");
        expect_error("{\"containerd\": {\"registry-mirrors\": {\"a b\": [\"https://x\"]}}}",
                     "containerd.registry-mirrors.\"a b\": not a registry host[:port]");
        expect_error("{\"update\": {\"channel\": \"Stable\"}}",
                     "update.channel: not a channel name");
        expect_error("{\"update\": {\"reboot-coordination\": \"locksmith\"}}",
                     "update.reboot-coordination: not \"off\" or \"etcd\"");
        expect_error("{\"update\": {\"etcd-endpoints\": [\"10.0.0.1:2379\"]}}",
                     "update.etcd-endpoints[0]: not an http or https URL");
        expect_error("{\"update\": {\"max-unavailable\": 0}}",
                     "update.max-unavailable: not an integer from 1 to 10000");
        expect_error("{\"update\": {\"max-unavailable\": \"2\"}}",
                     "update.max-unavailable: not an integer from 1 to 10000");
        expect_error("{\"update\": {\"reboot-window\": \"Mon-Fry 02:00-04:00\"}}",
                     "update.reboot-window: 'Fry': not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
        expect_error("{\"update\": {\"reboot-window\": \"02:00-25:00\"}}",
                     "update.reboot-window: '25:00': not a time HH:MM (00:00 to 23:59, or 24:00 "
                     "as the end)");
        expect_error("{\"update\": {\"reboot-window\": 2}}", "update.reboot-window: not a string");
        expect_error("{\"update\": {\"reboot-lease-ttl\": 86401}}",
                     "update.reboot-lease-ttl: not an integer from 0 to 86400");
        expect_error("{\"network\": {\"hostname\": \"a\", \"hostname\": \"b\"}}",
                     "settings: line 1 column 40: duplicate object key near '\"hostname\"'");
}

static void test_limits(void **state) {
        _cleanup_free_ char *deep = NULL, *many = NULL;
        _cleanup_(settings_freep) Settings *s = NULL;
        int r;

        /* Deeper than JSON_DEPTH_MAX. */
        deep = calloc(1, 64);
        for (int i = 0; i < 30; i++)
                deep[i] = '[';
        r = settings_parse(deep, strlen(deep), &s);
        assert_int_equal(r, -EINVAL);
        assert_null(s);

        many = strdup("{\"time\": {\"servers\": [");
        for (int i = 0; i < SETTINGS_LIST_MAX + 1; i++) {
                char *n = strdup_printf("%s%s\"s%d.example\"", many, i ? ", " : "", i);
                free(many);
                many = n;
        }
        char *n = strdup_printf("%s]}}", many);
        free(many);
        many = n;
        r = settings_parse(many, strlen(many), &s);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r), "time.servers: more than 64 entries");
}

static void test_null_unsets(void **state) {
        const char *body = "{\"network\": {\"hostname\": null}, \"time\": null}";
        _cleanup_(settings_freep) Settings *s = NULL;

        assert_int_equal(settings_parse(body, strlen(body), &s), 0);
        assert_null(s->hostname);
        assert_null(s->time_servers);
}

static char *read_gen(const char *d, const char *name) {
        _cleanup_free_ char *p = path_join(d, name);
        char *data = NULL;

        if (read_full_file(p, &data, NULL, 0) < 0)
                return NULL;
        return data;
}

static int patch(const char *d, const char *body) {
        return settings_store_patch(d, body, strlen(body), NULL);
}

static void test_store(void **state) {
        _cleanup_free_ char *d = path_join(dir, "store");
        unsigned gen = 99;
        json_t *j = NULL;
        char *text;
        int r;

        assert_int_equal(settings_store_current(d, &gen, &j), 0);
        assert_int_equal(gen, 0);
        assert_int_equal(json_object_size(j), 0);
        json_decref(j);

        r = settings_store_commit(d, &gen);
        assert_int_equal(r, -ENOENT);
        assert_string_equal(error_message(r), "no pending settings transaction");

        /* A bad patch writes nothing. */
        r = patch(d, "{\"network\": {\"dns\": [\"x\"]}}");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r), "network.dns[0]: not an IP address");
        assert_int_equal(settings_store_pending(d, &j), -ENOENT);
        r = patch(d, "{\"network\": ");
        assert_int_equal(r, -EINVAL);

        assert_int_equal(patch(d, "{\"time\": {\"servers\": [\"a.example\"]}}"), 0);
        assert_int_equal(patch(d, "{\"network\": {\"hostname\": \"n1\"}}"), 0);
        assert_int_equal(settings_store_commit(d, &gen), 0);
        assert_int_equal(gen, 1);
        /* Committed twice: the transaction is closed. */
        assert_int_equal(settings_store_commit(d, &gen), -ENOENT);

        /* Generation 2 starts from 1: a merge patch removes a key with null. */
        assert_int_equal(patch(d, "{\"time\": {\"servers\": null}}"), 0);
        assert_int_equal(settings_store_commit(d, &gen), 0);
        assert_int_equal(gen, 2);
        text = read_gen(d, "2.json");
        assert_non_null(text);
        assert_null(strstr(text, "a.example"));
        assert_non_null(strstr(text, "\"n1\""));
        free(text);
        text = read_gen(d, "current");
        assert_string_equal(text, "2\n");
        free(text);

        assert_int_equal(settings_store_revert(d, &gen), 0);
        assert_int_equal(gen, 1);
        assert_int_equal(settings_store_current(d, &gen, &j), 0);
        assert_int_equal(gen, 1);
        assert_string_equal(json_string_value(json_array_get(
                                    json_object_get(json_object_get(j, "time"), "servers"), 0)),
                            "a.example");
        json_decref(j);
        r = settings_store_revert(d, &gen);
        assert_int_equal(r, -ENOENT);
        assert_string_equal(error_message(r), "no settings generation before 1");

        /* A commit after a revert is a new generation, never an overwrite. */
        assert_int_equal(patch(d, "{\"update\": {\"channel\": \"beta\"}}"), 0);
        assert_int_equal(settings_store_commit(d, &gen), 0);
        assert_int_equal(gen, 3);
        assert_int_equal(settings_store_set_current(d, 2), 0);
        assert_int_equal(settings_store_set_current(d, 9), -ENOENT);

        /* A torn or corrupt pointer is an error naming the file, not a silent reset. */
        assert_int_equal(write_file_atomic(text = path_join(d, "current"), "x\n", 2, 0600), 0);
        free(text);
        r = settings_store_current(d, &gen, NULL);
        assert_int_equal(r, -EBADMSG);
        assert_non_null(strstr(error_message(r), "current: not a generation number"));
}

static char *etc_file(const char *etc, const char *f) {
        _cleanup_free_ char *p = path_join(etc, f);
        char *data = NULL;

        return read_full_file(p, &data, NULL, 0) < 0 ? NULL : data;
}

/* The fleet reboot settings reach update.conf as the agent reads them. */
static void test_render_reboot(void **state) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **files = NULL, **services = NULL;
        _cleanup_free_ char *etc = path_join(dir, "etc-reboot"), *text = NULL, *dump = NULL;
        const char *in = "{\"update\": {\"reboot-coordination\": \"etcd\", \"etcd-endpoints\": "
                         "[\"https://10.0.0.1:2379\", \"http://10.0.0.2:2379\"], "
                         "\"reboot-group\": \"workers\", \"max-unavailable\": 2, "
                         "\"reboot-window\": \"Mon-Fri 02:00-04:00\", \"reboot-lease-ttl\": 0}}";
        json_t *j = NULL;

        assert_int_equal(mkdir_p(etc, 0755), 0);
        assert_int_equal(settings_parse(in, strlen(in), &s), 0);
        assert_int_equal(settings_render(s, etc, etc, &files, &services), 0);
        text = etc_file(etc, "berth/update.conf");
        assert_string_equal(text, "# berth settings (update.*)\nRebootCoordination=etcd\n"
                                  "EtcdEndpoints=https://10.0.0.1:2379,http://10.0.0.2:2379\n"
                                  "RebootGroup=workers\nMaxUnavailable=2\n"
                                  "RebootWindow=Mon-Fri 02:00-04:00\nRebootLeaseTTL=0\n");
        assert_int_equal(settings_to_json(s, &j), 0);
        dump = json_dumps(json_object_get(j, "update"), JSON_SORT_KEYS | JSON_COMPACT);
        assert_string_equal(dump, "{\"etcd-endpoints\":[\"https://10.0.0.1:2379\",\"http://"
                                  "10.0.0.2:2379\"],\"max-unavailable\":2,\"reboot-coordination\":"
                                  "\"etcd\",\"reboot-group\":\"workers\",\"reboot-lease-ttl\":0,"
                                  "\"reboot-window\":\"Mon-Fri 02:00-04:00\"}");
        json_decref(j);
}

static void test_render(void **state) {
        _cleanup_free_ char *factory = path_join(dir, "factory"), *etc = path_join(dir, "etc");
        _cleanup_free_ char *p = NULL;
        char *text;
        _cleanup_(settings_freep) Settings *s = NULL, *s2 = NULL;
        _cleanup_strv_free_ char **files = NULL, **services = NULL;
        const char *two =
                "{\"containerd\": {\"registry-mirrors\": {\"ghcr.io\": [\"https://m3.example\"]}}}";

        assert_int_equal(mkdir_p(factory, 0755), 0);
        assert_int_equal(mkdir_p(etc, 0755), 0);
        p = path_join(factory, "chrony/chrony.conf");
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, "pool x.pool iburst\ncmdport 0\n", 29, 0644), 0);
        free(p);
        p = path_join(factory, "hostname");
        assert_int_equal(write_file_atomic(p, "berth\n", 6, 0644), 0);

        assert_int_equal(settings_parse(full, strlen(full), &s), 0);
        assert_int_equal(settings_render(s, factory, etc, &files, &services), 0);
        assert_int_equal(strv_length(files), 8);
        text = strv_join(services, ",");
        assert_string_equal(text, "chrony,containerd,network");
        free(text);
        text = etc_file(etc, "chrony/chrony.conf");
        assert_string_equal(text, "cmdport 0\n# berth settings (time.servers)\n"
                                  "server ntp.example iburst\nserver 192.0.2.7 iburst\n");
        free(text);
        text = etc_file(etc, "hostname");
        assert_string_equal(text, "node-1.example\n");
        free(text);
        text = etc_file(etc, "sysctl.d/60-berth-settings.conf");
        assert_string_equal(text, "# berth settings (kernel.sysctl)\n"
                                  "net.ipv4.ip_forward = 1\nvm.swappiness = 10\n");
        free(text);
        text = etc_file(etc, "dhcpcd.conf");
        assert_non_null(strstr(text, "interface eth0\nstatic ip_address=10.0.0.2/24\n"
                                     "static routers=10.0.0.1\n"
                                     "static domain_name_servers=10.0.0.1 2001:db8::1\n"));
        free(text);
        text = etc_file(etc, "containerd/certs.d/docker.io/hosts.toml");
        assert_string_equal(
                text,
                "# berth settings (containerd.registry-mirrors)\n"
                "server = \"https://registry-1.docker.io\"\n\n"
                "[host.\"https://m1.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n\n"
                "[host.\"http://10.0.0.5:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
        free(text);
        files = strv_free(files);
        services = strv_free(services);

        /* The same settings again: nothing changes, nothing restarts. */
        assert_int_equal(settings_render(s, factory, etc, &files, &services), 0);
        assert_true(strv_isempty(files));
        assert_true(strv_isempty(services));

        /* Only a mirror set: the others go back to factory (or away), the
         * docker.io mirror file the last render wrote is removed. */
        assert_int_equal(settings_parse(two, strlen(two), &s2), 0);
        assert_int_equal(settings_render(s2, factory, etc, &files, &services), 0);
        text = strv_join(services, ",");
        assert_string_equal(text, "chrony,containerd,network");
        free(text);
        text = etc_file(etc, "hostname");
        assert_string_equal(text, "berth\n");
        free(text);
        assert_null(etc_file(etc, "sysctl.d/60-berth-settings.conf"));
        assert_null(etc_file(etc, "containerd/certs.d/docker.io/hosts.toml"));
        text = etc_file(etc, "containerd/certs.d/ghcr.io/hosts.toml");
        assert_non_null(strstr(text, "m3.example"));
        free(text);

        assert_true(settings_need_reboot(s, s2));
        assert_false(settings_need_reboot(s, s));
        assert_false(settings_need_reboot(s2, NULL));
        assert_string_equal(settings_file_service("containerd/certs.d/x/hosts.toml"), "containerd");
        assert_null(settings_file_service("hostname"));
}

/* docs/api.md lists every setting of the table, with its file and service. */
static void put(const char *base, const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *p = path_join(base, rel);

        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, text, strlen(text), mode), 0);
}

static int check_sysctl(const char *proc, const char *json) {
        _cleanup_(settings_freep) Settings *s = NULL;

        assert_int_equal(settings_parse(json, strlen(json), &s), 0);
        return settings_check_sysctl(s, proc);
}

/* sysctl values against a kernel's /proc/sys (a directory shaped like it). */
static void test_check_sysctl(void **state) {
        _cleanup_free_ char *proc = path_join(dir, "proc-sys"), *store = path_join(dir, "store2");
        int r;

        put(proc, "vm/swappiness", "60\n", 0644);
        put(proc, "net/ipv4/tcp_rmem", "4096\t131072\t6291456\n", 0644);
        put(proc, "kernel/core_pattern", "core\n", 0644);
        put(proc, "kernel/ngroups_max", "65536\n", 0444);
        put(proc, "fs/file-max", "-1\n", 0644);

        assert_int_equal(check_sysctl(proc, "{\"kernel\": {\"sysctl\": {\"vm.swappiness\": 10, "
                                            "\"net.ipv4.tcp_rmem\": \"4096 87380 16777216\", "
                                            "\"kernel.core_pattern\": \"|/bin/false %p\", "
                                            "\"fs.file-max\": \"-1\", "
                                            "\"net.bridge.bridge-nf-call-iptables\": 1}}}"),
                         0);
        r = check_sysctl(proc, "{\"kernel\": {\"sysctl\": {\"vm.swappiness\": \"many\"}}}");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r),
                            "kernel.sysctl.\"vm.swappiness\": \"many\" is not an integer (this "
                            "kernel's value: 60)");
        r = check_sysctl(proc, "{\"kernel\": {\"sysctl\": {\"net.ipv4.tcp_rmem\": 4096}}}");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r),
                            "kernel.sysctl.\"net.ipv4.tcp_rmem\": \"4096\" is not 3 integers "
                            "(this kernel's value: 4096\t131072\t6291456)");
        r = check_sysctl(proc, "{\"kernel\": {\"sysctl\": {\"kernel.ngroups_max\": 1}}}");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r),
                            "kernel.sysctl.\"kernel.ngroups_max\": read-only in this kernel");
        r = check_sysctl(proc, "{\"kernel\": {\"sysctl\": {\"net.ipv4\": 1}}}");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(error_message(r), "kernel.sysctl.\"net.ipv4\": not a sysctl (a "
                                              "directory of them in this kernel)");
        assert_int_equal(check_sysctl(NULL, "{\"kernel\": {\"sysctl\": {\"vm.swappiness\": "
                                            "\"many\"}}}"),
                         0);

        /* Through the store: a refused patch writes nothing. */
        const char *bad = "{\"kernel\": {\"sysctl\": {\"vm.swappiness\": \"many\"}}}";
        assert_int_equal(settings_store_patch(store, bad, strlen(bad), proc), -EINVAL);
        assert_int_equal(settings_store_pending(store, &(json_t *){ NULL }), -ENOENT);
        error_clear();
}

static void test_docs_match_table(void **state) {
        const char *root = getenv("BERTH_SOURCE_ROOT");
        _cleanup_free_ char *p = NULL, *doc = NULL;

        if (!root)
                skip_test("BERTH_SOURCE_ROOT not set");
        p = path_join(root, "docs/api.md");
        assert_int_equal(read_full_file(p, &doc, NULL, 0), 0);
        for (size_t i = 0; i < settings_table_size; i++) {
                const SettingInfo *info = &settings_table[i];
                _cleanup_free_ char *row = strdup_printf(
                        "| `%s` | %s | %s%s%s | %s | %s |", info->path, info->type,
                        info->file ? "`/etc/" : "", info->file ?: "none", info->file ? "`" : "",
                        info->service ?: "none", info->reboot ? "yes" : "no");
                if (!strstr(doc, row))
                        fail_msg("docs/api.md lacks the row\n%s", row);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_full),    cmocka_unit_test(test_errors),
                cmocka_unit_test(test_limits),        cmocka_unit_test(test_null_unsets),
                cmocka_unit_test(test_store),         cmocka_unit_test(test_render),
                cmocka_unit_test(test_render_reboot), cmocka_unit_test(test_docs_match_table),
                cmocka_unit_test(test_check_sysctl),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
