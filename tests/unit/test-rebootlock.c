/* SPDX-License-Identifier: MIT */
/* The fleet reboot semaphore's JSON (src/update/rebootlock.c) and the etcd
 * gateway's answers it reads (src/shared/etcd.c). The semaphore against a
 * real etcd: tests/integration/test-fleet.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "etcd.h"
#include "macro.h"
#include "rebootlock.h"
#include "strv.h"

static void test_base64(void **state) {
        const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        const char *coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                _cleanup_free_ char *e = etcd_base64_encode(plain[i], strlen(plain[i])), *d = NULL;
                size_t n;
                assert_string_equal(e, coded[i]);
                assert_int_equal(etcd_base64_decode(coded[i], &d, &n), 0);
                assert_int_equal(n, strlen(plain[i]));
                assert_memory_equal(d, plain[i], n);
        }
        const char *bad[] = { "Zg=", "Z===", "Zg==Zg==", "Zm9*", "=Zg=" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *d = NULL;
                size_t n;
                assert_int_equal(etcd_base64_decode(bad[i], &d, &n), -EINVAL);
        }
}

/* What etcd 3.4's gateway answered on this machine. */
static void test_parse_range(void **state) {
        const char *found =
                "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"7\","
                "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2JlcnRoL3JlYm9vdC9kZWZhdWx0\","
                "\"create_revision\":\"2\",\"mod_revision\":\"7\",\"version\":\"3\","
                "\"value\":\"eyJob2xkZXJzIjpbXSwibWF4IjoxfQ==\"}],\"count\":\"1\"}";
        const char *none = "{\"header\":{\"cluster_id\":\"1\",\"revision\":\"1\"}}";
        EtcdKv kv = {};

        assert_int_equal(etcd_parse_range(found, strlen(found), "/berth/reboot/default", "t", &kv),
                         1);
        assert_int_equal(kv.mod_revision, 7);
        assert_string_equal(kv.value, "{\"holders\":[],\"max\":1}");
        etcd_kv_done(&kv);
        assert_int_equal(etcd_parse_range(found, strlen(found), "/berth/reboot/other", "t", &kv),
                         0);
        assert_int_equal(etcd_parse_range(none, strlen(none), "/x", "t", &kv), 0);
        const char *bad = "{\"kvs\":[{\"key\":\"L3g=\",\"mod_revision\":\"x\"}]}";
        assert_int_equal(etcd_parse_range(bad, strlen(bad), "/x", "http://e/v3/kv/range", &kv),
                         -EBADMSG);
        assert_string_equal(error_message(-EBADMSG),
                            "http://e/v3/kv/range: field \"mod_revision\": not an integer");
        error_clear();
}

static void test_parse_txn(void **state) {
        const char *ok = "{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":[]}";
        const char *lost = "{\"header\":{\"revision\":\"2\"}}";
        assert_int_equal(etcd_parse_txn(ok, strlen(ok), "t"), 1);
        assert_int_equal(etcd_parse_txn(lost, strlen(lost), "t"), 0);
        assert_int_equal(etcd_parse_txn("{}", 2, "t"), -EBADMSG);
        assert_int_equal(etcd_parse_txn("[", 1, "t"), -EBADMSG);
        error_clear();
}

static void expect_bad(const char *json, const char *msg) {
        RebootSem s = {};
        assert_int_equal(reboot_sem_parse(json, strlen(json), "k", &s), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), msg);
        error_clear();
}

static void test_semaphore(void **state) {
        const char *in = "{\"max\": 2, \"holders\": [\"b\", \"a\"]}";
        _cleanup_free_ char *out = NULL;
        RebootSem s = {};

        assert_int_equal(reboot_sem_parse(in, strlen(in), "k", &s), 0);
        assert_int_equal(s.max, 2);
        assert_int_equal(strv_length(s.holders), 2);
        assert_int_equal(reboot_sem_format(&s, &out), 0);
        /* Holders keep their order (who came first). */
        assert_string_equal(out, "{\"holders\":[\"b\",\"a\"],\"max\":2}");
        reboot_sem_done(&s);

        expect_bad("x", "k: not JSON: line 1 column 1: '[' or '{' expected near 'x'");
        expect_bad("[]", "k: not a JSON object");
        expect_bad("{\"holders\": []}", "k: field \"max\": missing");
        expect_bad("{\"max\": 0, \"holders\": []}",
                   "k: field \"max\": not an integer from 1 to 10000");
        expect_bad("{\"max\": 1}", "k: field \"holders\": missing");
        expect_bad("{\"max\": 1, \"holders\": {}}", "k: field \"holders\": not a list");
        expect_bad("{\"max\": 1, \"holders\": [\"a b\"]}",
                   "k: field \"holders[0]\": not a holder ID");
        expect_bad("{\"max\": 1, \"holders\": [\"a\", \"a\"]}",
                   "k: field \"holders[1]\": \"a\" listed twice");
        expect_bad("{\"max\": 1, \"holders\": [], \"lease\": 5}", "k: unknown field \"lease\"");
        expect_bad("{\"max\": 1, \"holders\": [\"a\"], \"leases\": []}",
                   "k: field \"leases\": not an object");
        expect_bad("{\"max\": 1, \"holders\": [\"a\"], \"leases\": {\"b\": \"5\"}}",
                   "k: field \"leases\": \"b\" is not a holder");
        expect_bad("{\"max\": 1, \"holders\": [\"a\"], \"leases\": {\"a\": 5}}",
                   "k: field \"leases.a\": not a lease ID (a string of digits)");
        expect_bad("{\"max\": 1, \"holders\": [\"a\"], \"leases\": {\"a\": \"-5\"}}",
                   "k: field \"leases.a\": not a lease ID (a string of digits)");
        expect_bad(
                "{\"max\": 1, \"holders\": [\"a\"], \"leases\": {\"a\": \"99999999999999999999\"}}",
                "k: field \"leases.a\": not a lease ID (a string of digits)");
}

/* Holders with and without a lease; removing one keeps the others' leases. */
static void test_semaphore_leases(void **state) {
        const char *in = "{\"max\": 3, \"holders\": [\"a\", \"b\", \"c\"], "
                         "\"leases\": {\"c\": \"7587873546386519043\", \"a\": \"12\"}}";
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        RebootSem s = {};

        assert_int_equal(reboot_sem_parse(in, strlen(in), "k", &s), 0);
        assert_int_equal(reboot_sem_lease(&s, "a"), 12);
        assert_int_equal(reboot_sem_lease(&s, "b"), 0);
        assert_true(reboot_sem_lease(&s, "c") == INT64_C(7587873546386519043));
        assert_int_equal(reboot_sem_lease(&s, "d"), -1);
        assert_int_equal(reboot_sem_format(&s, &out), 0);
        assert_string_equal(out, "{\"holders\":[\"a\",\"b\",\"c\"],\"leases\":{\"a\":\"12\",\"c\":"
                                 "\"7587873546386519043\"},\"max\":3}");
        reboot_sem_remove(&s, "a");
        assert_int_equal(reboot_sem_lease(&s, "a"), -1);
        assert_true(reboot_sem_lease(&s, "c") == INT64_C(7587873546386519043));
        assert_int_equal(reboot_sem_add(&s, "d", 0), 0);
        assert_int_equal(reboot_sem_format(&s, &out2), 0);
        assert_string_equal(out2, "{\"holders\":[\"b\",\"c\",\"d\"],\"leases\":{\"c\":"
                                  "\"7587873546386519043\"},\"max\":3}");
        reboot_sem_done(&s);
}

/* What etcd 3.4's gateway answered on this machine (grant, timetolive of a
 * live and of an expired lease, keepalive of a live and of a revoked one). */
static void test_parse_lease(void **state) {
        const char *grant =
                "{\"header\":{\"cluster_id\":\"15356744194880611388\",\"revision\":\"1\"},"
                "\"ID\":\"2947784188406949894\",\"TTL\":\"2\"}";
        const char *live = "{\"header\":{\"revision\":\"1\"},\"ID\":\"2947784188406949896\","
                           "\"TTL\":\"2\",\"grantedTTL\":\"3\"}";
        const char *gone = "{\"header\":{\"revision\":\"1\"},\"ID\":\"12345\",\"TTL\":\"-1\"}";
        const char *kept =
                "{\"result\":{\"header\":{\"revision\":\"1\"},\"ID\":\"2947784188406949896\","
                "\"TTL\":\"3\"}}\n";
        const char *revoked = "{\"result\":{\"header\":{\"revision\":\"1\"},\"ID\":\"29477841\"}}";
        int64_t id = 0, ttl = 0;
        assert_int_equal(etcd_parse_lease(grant, strlen(grant), "g", &id, &ttl), 0);
        assert_true(id == INT64_C(2947784188406949894));
        assert_int_equal(ttl, 2);
        assert_int_equal(etcd_parse_lease(live, strlen(live), "t", &id, &ttl), 0);
        assert_int_equal(ttl, 2);
        assert_int_equal(etcd_parse_lease(gone, strlen(gone), "t", &id, &ttl), 0);
        assert_int_equal(ttl, -1);
        assert_int_equal(etcd_parse_lease(kept, strlen(kept), "k", &id, &ttl), 0);
        assert_int_equal(ttl, 3);
        assert_int_equal(etcd_parse_lease(revoked, strlen(revoked), "k", &id, &ttl), 0);
        assert_int_equal(ttl, -1);
        assert_int_equal(etcd_parse_lease("{\"result\": 1}", 13, "k", &id, &ttl), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), "k: field \"result\": not an object");
        error_clear();
        assert_int_equal(etcd_parse_lease("{\"header\": {}}", 14, "k", &id, &ttl), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), "k: field \"ID\": missing");
        error_clear();
        assert_int_equal(etcd_parse_lease("{\"ID\": \"1\"}", 11, "k", &id, &ttl), -EBADMSG);
        assert_string_equal(error_message(-EBADMSG), "k: field \"header\": missing");
        error_clear();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64),           cmocka_unit_test(test_parse_range),
                cmocka_unit_test(test_parse_txn),        cmocka_unit_test(test_semaphore),
                cmocka_unit_test(test_semaphore_leases), cmocka_unit_test(test_parse_lease),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
