/* SPDX-License-Identifier: MIT */
/* canonical JSON, Ed25519 and TUF metadata (src/shared/canonical-json.c,
 * digest.c, tuf.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "canonical-json.h"
#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"
#include "tuf.h"

static char *canon_of(const char *text) {
        json_error_t err;
        json_t *j = json_loads(text, 0, &err);
        char *out = NULL;
        assert_non_null(j);
        int r = json_canonical(j, &out, NULL);
        json_decref(j);
        return r < 0 ? NULL : out;
}

static void test_canonical_json_sorts_keys_and_escapes_only_quote_and_backslash(void **state) {
        _cleanup_free_ char *a = canon_of("{ \"b\": [1, \"q\\\"b\\\\\", false], \"a\": {\"z\": "
                                          "true, \"y\": null, \"x\": -3}, \"\": \"\\n\" }");
        assert_string_equal(a, "{\"\":\"\n\",\"a\":{\"x\":-3,\"y\":null,\"z\":true},"
                               "\"b\":[1,\"q\\\"b\\\\\",false]}");
        /* byte order, not locale order: "B" < "a" */
        _cleanup_free_ char *b = canon_of("{\"a\":1,\"B\":2,\"aa\":3}");
        assert_string_equal(b, "{\"B\":2,\"a\":1,\"aa\":3}");
}

static void test_canonical_json_refuses_real_numbers(void **state) {
        assert_null(canon_of("{\"a\": 1.5}"));
        assert_int_equal(error_code(), EINVAL);
}

/* RFC 8032, section 7.1, test 1 (empty message) and test 2. */
static void test_ed25519_rfc8032_vectors(void **state) {
        uint8_t priv[32], pub[32], want_pub[32], sig[64], want_sig[64], msg = 0x72;

        assert_int_equal(
                hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", priv,
                           32),
                0);
        assert_int_equal(
                hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                           want_pub, 32),
                0);
        assert_int_equal(
                hex_decode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
                           "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                           want_sig, 64),
                0);
        assert_int_equal(ed25519_public_key(priv, pub), 0);
        assert_memory_equal(pub, want_pub, 32);
        assert_int_equal(ed25519_sign(priv, "", 0, sig), 0);
        assert_memory_equal(sig, want_sig, 64);
        assert_int_equal(ed25519_verify(pub, "", 0, sig), 0);
        assert_int_equal(ed25519_verify(pub, &msg, 1, sig), -EKEYREJECTED);
        sig[10] ^= 1;
        assert_int_equal(ed25519_verify(pub, "", 0, sig), -EKEYREJECTED);
}

static void test_time_round_trip_and_bad_times(void **state) {
        int64_t t;
        char buf[21];
        assert_int_equal(tuf_parse_time("2030-01-02T03:04:05Z", &t), 0);
        assert_int_equal(t, 1893553445);
        assert_int_equal(tuf_format_time(t, buf), 0);
        assert_string_equal(buf, "2030-01-02T03:04:05Z");
        assert_int_equal(tuf_parse_time("2030-01-02 03:04:05Z", &t), -EINVAL);
        assert_int_equal(tuf_parse_time("2030-01-02T03:04:05", &t), -EINVAL);
        assert_int_equal(tuf_parse_time("2030-13-02T03:04:05Z", &t), -EINVAL);
        assert_int_equal(tuf_parse_time("2030-01-02T03:04:05+01", &t), -EINVAL);
}

/* A root with `n` keys per role and threshold `threshold`, signed by the
 * first `n_sign` root keys. */
static char *make_root(TufSigner *keys, size_t n, unsigned threshold, size_t n_sign,
                       const char *expires) {
        json_t *jkeys = json_object(), *roles = json_object(), *root;
        char *text = NULL;
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(json_set(jkeys, keys[i].keyid, tuf_key_json(keys[i].public_key)),
                                 0);
        }
        for (TufRole r = 0; r < _TUF_ROLE_MAX; r++) {
                json_t *ids = json_array();
                for (size_t i = 0; i < n; i++)
                        assert_int_equal(json_append(ids, json_string(keys[i].keyid)), 0);
                assert_int_equal(json_set(roles, tuf_role_to_string(r),
                                          json_pack("{s:o, s:i}", "keyids", ids, "threshold",
                                                    (int) threshold)),
                                 0);
        }
        root = json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:o}", "_type", "root", "spec_version",
                         "1.0.31", "version", 1, "expires", expires, "consistent_snapshot", 1,
                         "keys", jkeys, "roles", roles);
        assert_non_null(root);
        assert_int_equal(tuf_sign(root, keys, n_sign, &text, NULL), 0);
        json_decref(root);
        return text;
}

static void test_root_signatures_and_thresholds(void **state) {
        TufSigner k[4];
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(tuf_signer_generate(&k[i]), 0);

        _cleanup_free_ char *one = make_root(k, 2, 2, 2, "2099-01-01T00:00:00Z");
        _cleanup_(tuf_metadata_freep) TufMetadata *m = NULL;
        assert_int_equal(tuf_parse(one, strlen(one), TUF_ROOT, "root.json", &m), 0);
        assert_int_equal(m->version, 1);
        assert_true(m->consistent_snapshot);
        assert_int_equal(m->n_keys, 2);
        assert_int_equal(m->roles[TUF_TARGETS].threshold, 2);
        assert_int_equal(tuf_verify(m, m, TUF_ROOT, "root.json"), 0);
        assert_int_equal(tuf_check_expiry(m, 1700000000, "root.json"), 0);

        /* threshold 2, one signature */
        _cleanup_free_ char *half = make_root(k, 2, 2, 1, "2099-01-01T00:00:00Z");
        _cleanup_(tuf_metadata_freep) TufMetadata *h = NULL;
        assert_int_equal(tuf_parse(half, strlen(half), TUF_ROOT, "root.json", &h), 0);
        assert_int_equal(tuf_verify(h, h, TUF_ROOT, "root.json"), -EKEYREJECTED);
        assert_non_null(
                strstr(error_message(-EKEYREJECTED), "1 valid root signature(s), 2 required"));

        /* signed by a key the root does not list */
        _cleanup_free_ char *other = make_root(&k[2], 2, 1, 2, "2099-01-01T00:00:00Z");
        _cleanup_(tuf_metadata_freep) TufMetadata *o = NULL;
        assert_int_equal(tuf_parse(other, strlen(other), TUF_ROOT, "other.json", &o), 0);
        assert_int_equal(tuf_verify(o, m, TUF_ROOT, "other.json"), -EKEYREJECTED);
        assert_non_null(strstr(error_message(-EKEYREJECTED), "does not trust"));

        /* the same signature twice counts once */
        _cleanup_free_ char *dup = NULL;
        {
                json_error_t err;
                json_t *j = json_loads(half, 0, &err);
                json_t *sigs = json_object_get(j, "signatures");
                json_array_append(sigs, json_array_get(sigs, 0));
                dup = json_dumps(j, 0);
                json_decref(j);
        }
        _cleanup_(tuf_metadata_freep) TufMetadata *d = NULL;
        assert_int_equal(tuf_parse(dup, strlen(dup), TUF_ROOT, "root.json", &d), 0);
        assert_int_equal(tuf_verify(d, h, TUF_ROOT, "root.json"), -EKEYREJECTED);

        /* a changed byte of "signed" */
        char *p = strstr(one, "\"version\": 1");
        assert_non_null(p);
        p[11] = '2';
        _cleanup_(tuf_metadata_freep) TufMetadata *t = NULL;
        assert_int_equal(tuf_parse(one, strlen(one), TUF_ROOT, "root.json", &t), 0);
        assert_int_equal(tuf_verify(t, m, TUF_ROOT, "root.json"), -EKEYREJECTED);
        assert_non_null(strstr(error_message(-EKEYREJECTED), "does not verify"));

        /* expired */
        _cleanup_free_ char *old = make_root(k, 1, 1, 1, "2020-01-01T00:00:00Z");
        _cleanup_(tuf_metadata_freep) TufMetadata *e = NULL;
        assert_int_equal(tuf_parse(old, strlen(old), TUF_ROOT, "root.json", &e), 0);
        assert_int_equal(tuf_check_expiry(e, 1700000000, "root.json"), -EKEYEXPIRED);
        assert_string_equal(error_message(-EKEYEXPIRED),
                            "root.json: expired at 2020-01-01T00:00:00Z");
}

static void expect_bad(const char *text, TufRole role, const char *msg) {
        TufMetadata *m = NULL;
        assert_int_equal(tuf_parse(text, strlen(text), role, "x.json", &m), -EBADMSG);
        assert_null(m);
        if (!strstr(error_message(-EBADMSG), msg))
                fail_msg("message '%s' lacks '%s'", error_message(-EBADMSG), msg);
}

static void test_parse_errors_name_the_field(void **state) {
        expect_bad("[]", TUF_ROOT, "x.json: expected a JSON object");
        expect_bad("{\"signatures\":[],\"signed\":{\"_type\":\"root\"}}", TUF_TIMESTAMP,
                   "signed._type: expected \"timestamp\"");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
                "\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
                TUF_TIMESTAMP, "signed.version: missing");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
                "\"version\":0,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
                TUF_TIMESTAMP, "signed.version: expected an integer of at least 1");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"2.0\","
                "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
                TUF_TIMESTAMP, "signed.spec_version: \"2.0\" is not 1.x");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
                "\"version\":1,\"expires\":\"soon\",\"meta\":{}}}",
                TUF_TIMESTAMP, "signed.expires: expected a time");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
                "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{}}}",
                TUF_TIMESTAMP, "signed.meta: no entry for snapshot.json");
        expect_bad(
                "{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\",\"spec_version\":\"1.0\","
                "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":"
                "{\"version\":1,\"hashes\":{\"sha256\":\"xyz\"}}}}}",
                TUF_TIMESTAMP, "signed.meta['snapshot.json'].hashes.sha256: expected 64");
        expect_bad("{\"signatures\":[{\"keyid\":\"ab\",\"sig\":\"00\"}],\"signed\":{}}", TUF_ROOT,
                   "signatures[0]: expected a key id");
        expect_bad("{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0\","
                   "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"a\":{"
                   "\"length\":-1,\"hashes\":{}}}}}",
                   TUF_TARGETS, "signed.targets['a'].length: expected an integer of at least 0");
        expect_bad("{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0\","
                   "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"a\":{"
                   "\"length\":1,\"hashes\":{\"sha256\":\""
                   "0000000000000000000000000000000000000000"
                   "000000000000000000000000\"},\"custom\":{\"image\":\"i\",\"version\":\"1\","
                   "\"channel\":\"s\",\"architecture\":\"amd64\",\"root_hash\":\"00\",\"file\":"
                   "\"f\"}}}}}",
                   TUF_TARGETS, "signed.targets['a'].custom.root_hash: expected 64");
        expect_bad("{\"signatures\":[],\"signed\":{\"_type\":\"targets\",\"spec_version\":\"1.0\","
                   "\"version\":1,\"expires\":\"2030-01-01T00:00:00Z\",\"targets\":{\"a\":{"
                   "\"length\":1.5,\"hashes\":{}}}}}",
                   TUF_TARGETS, "signed.targets['a'].length: expected an integer");
}

static void test_key_files_round_trip_and_mismatch(void **state) {
        char dir[] = "/tmp/berth-test-tuf-XXXXXX";
        TufSigner s, back, other;
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *p = strdup_printf("%s/k.key", dir);
        assert_int_equal(tuf_signer_generate(&s), 0);
        assert_int_equal(tuf_signer_write(&s, p), 0);
        assert_int_equal(tuf_signer_read(p, &back), 0);
        assert_memory_equal(&s, &back, sizeof s);
        /* a public key that is not the private key's */
        assert_int_equal(tuf_signer_generate(&other), 0);
        memcpy(s.public_key, other.public_key, 32);
        assert_int_equal(tuf_signer_write(&s, p), 0);
        assert_int_equal(tuf_signer_read(p, &back), -EBADMSG);
        (void) unlink(p);
        (void) rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(
                        test_canonical_json_sorts_keys_and_escapes_only_quote_and_backslash),
                cmocka_unit_test(test_canonical_json_refuses_real_numbers),
                cmocka_unit_test(test_ed25519_rfc8032_vectors),
                cmocka_unit_test(test_time_round_trip_and_bad_times),
                cmocka_unit_test(test_root_signatures_and_thresholds),
                cmocka_unit_test(test_parse_errors_name_the_field),
                cmocka_unit_test(test_key_files_round_trip_and_mismatch),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
