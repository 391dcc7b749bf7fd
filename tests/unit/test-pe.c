/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "pe.h"

#define STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

static char dir[] = "/tmp/berth-test-pe-XXXXXX";

static char *in_dir(const char *name) {
        char *p = path_join(dir, name);
        assert_non_null(p);
        return p;
}

static void put(const char *name, const char *text) {
        _cleanup_free_ char *p = in_dir(name);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

/* A UKI as the composer makes it: systemd-stub plus sections by objcopy. */
static void test_uki_version_from_osrel(void **state) {
        if (access(STUB, R_OK) < 0 || system("command -v objcopy >/dev/null") != 0) {
                skip_test("no systemd-stub (systemd-boot-efi) or objcopy");
                return;
        }
        put("osrel", "NAME=\"berth\"\nVERSION_ID=\"0.1.0\"\nIMAGE_VERSION=\"2.5.1\"\n");
        put("cmdline", "usrhash=00 console=ttyS0");
        _cleanup_free_ char *cmd = strdup_printf(
                "cd %s && objcopy --add-section .osrel=osrel --change-section-vma .osrel=0x20000 "
                "--add-section .cmdline=cmdline --change-section-vma .cmdline=0x30000 %s uki.efi",
                dir, STUB);
        assert_non_null(cmd);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *uki = in_dir("uki.efi"), *v = NULL, *c = NULL, *none = NULL;
        assert_int_equal(uki_read_version(uki, &v), 0);
        assert_string_equal(v, "2.5.1");
        assert_int_equal(pe_read_section(uki, ".cmdline", 4096, &c), 0);
        assert_string_equal(c, "usrhash=00 console=ttyS0");
        assert_int_equal(pe_read_section(uki, ".initrd", 4096, &none), -ENOENT);
        assert_int_equal(pe_read_section(uki, ".cmdline", 8, &none), -EFBIG);
        assert_int_equal(pe_read_section(uki, ".toolongname", 4096, &none), -EINVAL);
}

static void test_os_release_version_fields(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        assert_int_equal(os_release_version("ID=berth\nVERSION_ID=1.2\nIMAGE_VERSION='3.4'\n", &a),
                         0);
        assert_string_equal(a, "3.4");
        assert_int_equal(os_release_version("ID=berth\nVERSION_ID=1.2\n", &b), 0);
        assert_string_equal(b, "1.2");
        assert_int_equal(os_release_version("ID=berth\nIMAGE_VERSION=\"\"\n", &c), -ENOENT);
}

/* Headers that point outside the file, or no PE at all: -EBADMSG, no read
 * beyond the end. */
static void test_bad_headers_refused(void **state) {
        uint8_t img[512] = { 'M', 'Z' };
        _cleanup_free_ char *p = in_dir("bad.efi"), *out = NULL;

        /* e_lfanew past the end */
        img[0x3c] = 0xf0;
        img[0x3d] = 0x01;
        assert_int_equal(write_file_atomic(p, img, sizeof img, 0644), 0);
        assert_int_equal(pe_read_section(p, ".osrel", 4096, &out), -EBADMSG);

        /* a section whose data lies beyond the file */
        memset(img, 0, sizeof img);
        img[0] = 'M';
        img[1] = 'Z';
        img[0x3c] = 0x40;
        memcpy(img + 0x40, "PE\0\0", 4);
        img[0x40 + 6] = 1; /* one section */
        /* no optional header: the table starts at 0x40 + 24 */
        uint8_t *sec = img + 0x40 + 24;
        memcpy(sec, ".osrel", 6);
        sec[8] = 0x10;  /* VirtualSize 16 */
        sec[16] = 0x10; /* SizeOfRawData 16 */
        sec[21] = 0x10; /* PointerToRawData 0x1000: past 512 bytes */
        assert_int_equal(write_file_atomic(p, img, sizeof img, 0644), 0);
        assert_int_equal(pe_read_section(p, ".osrel", 4096, &out), -EBADMSG);

        /* the same section inside the file reads */
        sec[21] = 0x01; /* 0x100 */
        memcpy(img + 0x100, "IMAGE_VERSION=7\n", 16);
        assert_int_equal(write_file_atomic(p, img, sizeof img, 0644), 0);
        assert_int_equal(uki_read_version(p, &out), 0);
        assert_string_equal(out, "7");

        /* not MZ */
        img[0] = 'X';
        assert_int_equal(write_file_atomic(p, img, sizeof img, 0644), 0);
        _cleanup_free_ char *out2 = NULL;
        assert_int_equal(pe_read_section(p, ".osrel", 4096, &out2), -EBADMSG);
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_uki_version_from_osrel),
                cmocka_unit_test(test_os_release_version_fields),
                cmocka_unit_test(test_bad_headers_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
