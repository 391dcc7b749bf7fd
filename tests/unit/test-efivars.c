/* SPDX-License-Identifier: MIT */
/* Secure Boot keys written into an OVMF variable store file (efivars.c): an
 * `.auth` file's parts, the variables a walk of the store finds after an
 * enrollment, and the stores and files it refuses, leaving the store as it
 * was. Debian's own empty OVMF store is used as well when it is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "efivars.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"

static char dir[] = "/tmp/berth-test-efivars-XXXXXX";

static const uint8_t X509_GUID[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
                                       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t PKCS7_GUID[16] = { 0x9d, 0xd2, 0xaf, 0x4a, 0xdf, 0x68, 0xee, 0x49,
                                        0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7 };

static void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

/* An `.auth` as sign-efi-sig-list writes it: EFI_TIME (year 2026, second
 * SEC), a WIN_CERTIFICATE_UEFI_GUID with a SIG-byte PKCS#7 blob, then one
 * EFI_SIGNATURE_LIST holding one X.509 "certificate" of CERT bytes of FILL. */
static size_t make_auth(uint8_t *buf, uint8_t sec, size_t sig, size_t cert, uint8_t fill) {
        size_t off = 0;
        memset(buf, 0, 16);
        buf[0] = 0xea, buf[1] = 0x07, buf[2] = 11, buf[3] = 26, buf[6] = sec;
        off = 16;
        put32(buf + off, (uint32_t) (24 + sig));
        buf[off + 4] = 0x00, buf[off + 5] = 0x02, buf[off + 6] = 0xf1, buf[off + 7] = 0x0e;
        memcpy(buf + off + 8, PKCS7_GUID, 16);
        memset(buf + off + 24, 0x30, sig);
        off += 24 + sig;
        memcpy(buf + off, X509_GUID, 16);
        put32(buf + off + 16, (uint32_t) (28 + 16 + cert));
        put32(buf + off + 20, 0);
        put32(buf + off + 24, (uint32_t) (16 + cert));
        memset(buf + off + 28, 0x11, 16); /* the owner */
        memset(buf + off + 44, fill, cert);
        return off + 44 + cert;
}

/* An empty edk2 authenticated variable store of SIZE bytes (store header
 * included) after a 72-byte firmware volume header. */
static char *make_store(const char *name, size_t size) {
        static const uint8_t fv_guid[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
                                             0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
        static const uint8_t store_guid[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
                                                0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
        size_t len = 72 + size;
        uint8_t *b = calloc(1, len);
        assert_non_null(b);
        memcpy(b + 0x10, fv_guid, 16);
        memcpy(b + 0x28, "_FVH", 4);
        b[0x30] = 72;
        memcpy(b + 72, store_guid, 16);
        put32(b + 72 + 16, (uint32_t) size);
        b[72 + 20] = 0x5a, b[72 + 21] = 0xfe;
        memset(b + 72 + 28, 0xff, size - 28);
        char *path = path_join(dir, name);
        assert_non_null(path);
        assert_int_equal(write_file_atomic(path, b, len, 0644), 0);
        free(b);
        return path;
}

typedef struct Found {
        uint32_t attrs;
        const uint8_t *ts, *data;
        uint32_t size;
        unsigned count;
} Found;

/* The live variable named NAME (ASCII) in the store at BUF. */
static Found find_var(const uint8_t *buf, const char *name) {
        Found f = {};
        size_t off = buf[0x30] + 28;
        while (buf[off] == 0xaa && buf[off + 1] == 0x55) {
                uint32_t ns = get32(buf + off + 36), ds = get32(buf + off + 40);
                char ascii[64] = {};
                for (uint32_t i = 0; i + 1 < ns && i / 2 < sizeof ascii - 1; i += 2)
                        ascii[i / 2] = (char) buf[off + 60 + i];
                if (streq(ascii, name) && buf[off + 2] == 0x3f) {
                        f.attrs = get32(buf + off + 4);
                        f.ts = buf + off + 16;
                        f.data = buf + off + 60 + ns;
                        f.size = ds;
                        f.count++;
                }
                off = (off + 60 + ns + ds + 3) & ~(size_t) 3;
        }
        return f;
}

static void parse_keys(uint8_t bufs[3][2048], EfiAuthData keys[3]) {
        for (int i = 0; i < 3; i++) {
                size_t n = make_auth(bufs[i], (uint8_t) (10 + i), 300, 200 + 100 * (size_t) i,
                                     (uint8_t) (0xa0 + i));
                assert_int_equal(efi_auth_parse("k.auth", bufs[i], n, &keys[i]), 0);
        }
}

static void test_auth_parse_finds_timestamp_and_signature_list(void **state) {
        (void) state;
        uint8_t buf[2048];
        EfiAuthData a;
        size_t n = make_auth(buf, 42, 500, 300, 0x77);
        assert_int_equal(efi_auth_parse("PK.auth", buf, n, &a), 0);
        assert_ptr_equal(a.timestamp, buf);
        assert_int_equal(a.timestamp[6], 42);
        assert_int_equal(a.size, 28 + 16 + 300);
        assert_memory_equal(a.data, X509_GUID, 16);
        assert_int_equal(a.data[a.size - 1], 0x77);
}

static void test_auth_parse_rejects_what_is_not_one(void **state) {
        (void) state;
        uint8_t buf[2048];
        EfiAuthData a;
        size_t n = make_auth(buf, 1, 100, 100, 1);

        assert_int_equal(efi_auth_parse("x", buf, 30, &a), -EBADMSG);
        /* Another certificate type (WIN_CERT_TYPE_PKCS_SIGNED_DATA). */
        buf[22] = 0x02, buf[23] = 0x00;
        assert_int_equal(efi_auth_parse("x", buf, n, &a), -EBADMSG);
        assert_non_null(strstr(error_message(-EBADMSG), "PKCS#7"));
        n = make_auth(buf, 1, 100, 100, 1);
        /* The signature runs past the end. */
        put32(buf + 16, (uint32_t) n);
        assert_int_equal(efi_auth_parse("x", buf, n, &a), -EBADMSG);
        /* No signature list at all. */
        n = make_auth(buf, 1, 100, 100, 1);
        assert_int_equal(efi_auth_parse("x", buf, 16 + 24 + 100, &a), -EBADMSG);
        /* A list that says it is longer than the file. */
        put32(buf + 16 + 24 + 100 + 16, 100000);
        assert_int_equal(efi_auth_parse("db.auth", buf, n, &a), -EBADMSG);
        assert_non_null(strstr(error_message(-EBADMSG), "db.auth"));
        /* A list one byte short of its last signature. */
        n = make_auth(buf, 1, 100, 100, 1);
        assert_int_equal(efi_auth_parse("x", buf, n - 1, &a), -EBADMSG);
}

static void check_enrolled(const char *store, const EfiAuthData keys[3]) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        static const char *const names[] = { "PK", "KEK", "db" };

        assert_int_equal(read_full_file(store, &buf, &len, 0), 0);
        for (int i = 0; i < 3; i++) {
                Found f = find_var((const uint8_t *) buf, names[i]);
                assert_int_equal(f.count, 1);
                assert_int_equal(f.attrs, 0x27);
                assert_memory_equal(f.ts, keys[i].timestamp, 16);
                assert_int_equal(f.size, keys[i].size);
                assert_memory_equal(f.data, keys[i].data, keys[i].size);
        }
        Found sb = find_var((const uint8_t *) buf, "SecureBootEnable");
        assert_int_equal(sb.count, 1);
        assert_int_equal(sb.size, 1);
        assert_int_equal(sb.data[0], 1);
        Found cm = find_var((const uint8_t *) buf, "CustomMode");
        assert_int_equal(cm.count, 1);
        assert_int_equal(cm.data[0], 0);
}

static void test_enroll_writes_the_keys_once(void **state) {
        (void) state;
        uint8_t bufs[3][2048];
        EfiAuthData keys[3];
        _cleanup_free_ char *store = make_store("vars.fd", 64 * 1024), *before = NULL,
                            *after = NULL;
        size_t n1, n2;

        parse_keys(bufs, keys);
        assert_int_equal(efivars_enroll(store, keys), 0);
        check_enrolled(store, keys);
        /* A store that has a PK already is left as it is. */
        assert_int_equal(read_full_file(store, &before, &n1, 0), 0);
        assert_int_equal(efivars_enroll(store, keys), -EEXIST);
        assert_int_equal(read_full_file(store, &after, &n2, 0), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(before, after, n1);
}

static void test_enroll_into_debians_empty_store(void **state) {
        (void) state;
        const char *ovmf = "/usr/share/OVMF/OVMF_VARS_4M.fd";
        if (access(ovmf, R_OK) < 0)
                skip_test("the ovmf package is not installed");
        uint8_t bufs[3][2048];
        EfiAuthData keys[3];
        _cleanup_free_ char *data = NULL, *store = path_join(dir, "ovmf.fd");
        size_t len;
        assert_int_equal(read_full_file(ovmf, &data, &len, 0), 0);
        assert_int_equal(write_file_atomic(store, data, len, 0644), 0);
        parse_keys(bufs, keys);
        assert_int_equal(efivars_enroll(store, keys), 0);
        check_enrolled(store, keys);
}

static void test_enroll_refuses_and_keeps_the_file(void **state) {
        (void) state;
        uint8_t bufs[3][2048];
        EfiAuthData keys[3];
        _cleanup_free_ char *small = make_store("small.fd", 1024), *junk = path_join(dir, "junk"),
                            *before = NULL, *after = NULL;
        size_t n1, n2;

        parse_keys(bufs, keys);
        assert_int_equal(read_full_file(small, &before, &n1, 0), 0);
        assert_int_equal(efivars_enroll(small, keys), -ENOSPC);
        assert_non_null(strstr(error_message(-ENOSPC), "small.fd"));
        assert_int_equal(read_full_file(small, &after, &n2, 0), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(before, after, n1);

        assert_int_equal(write_file_atomic(junk, "not a store", 11, 0644), 0);
        assert_int_equal(efivars_enroll(junk, keys), -EBADMSG);
        assert_non_null(strstr(error_message(-EBADMSG), "junk"));

        /* Something other than free space after the variables. */
        free(before);
        before = NULL;
        assert_int_equal(read_full_file(small, &before, &n1, 0), 0);
        before[72 + 28 + 500] = 0;
        assert_int_equal(write_file_atomic(small, before, n1, 0644), 0);
        assert_int_equal(efivars_enroll(small, keys), -EBADMSG);
}

static int teardown(void **state) {
        (void) state;
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auth_parse_finds_timestamp_and_signature_list),
                cmocka_unit_test(test_auth_parse_rejects_what_is_not_one),
                cmocka_unit_test(test_enroll_writes_the_keys_once),
                cmocka_unit_test(test_enroll_into_debians_empty_store),
                cmocka_unit_test(test_enroll_refuses_and_keeps_the_file),
        };
        assert_non_null(mkdtemp(dir));
        return cmocka_run_group_tests(tests, NULL, teardown);
}
