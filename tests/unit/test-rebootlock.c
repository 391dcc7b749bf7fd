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
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_parse_range),
                cmocka_unit_test(test_parse_txn),
                cmocka_unit_test(test_semaphore),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
