/* SPDX-License-Identifier: MIT */
/* The ELF reader that decides which libraries go into the initramfs, on the
 * host's own binaries and on broken copies of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "elfdeps.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"

static char *read_binary(const char *path, size_t *size) {
        char *d = NULL;
        assert_int_equal(read_full_file(path, &d, size, 64 * 1024 * 1024), 0);
        return d;
}

static void test_dynamic_binary_needs_libc_and_the_loader(void **state) {
        _cleanup_strv_free_ char **needed = NULL;
        _cleanup_free_ char *interp = NULL;
        size_t size;
        _cleanup_free_ char *d = read_binary("/bin/true", &size);

        assert_int_equal(elf_read_deps(d, size, &needed, &interp), 0);
        assert_true(strv_contains(needed, "libc.so.6"));
        assert_string_equal(interp, "/lib64/ld-linux-x86-64.so.2");

        /* A second file appends only what is new. */
        size_t before = strv_length(needed);
        assert_int_equal(elf_read_deps(d, size, &needed, NULL), 0);
        assert_int_equal(strv_length(needed), before);
}

static void test_shared_library_lists_its_own_needs_not_itself(void **state) {
        _cleanup_strv_free_ char **needed = NULL;
        size_t size;
        _cleanup_free_ char *d = read_binary("/lib/x86_64-linux-gnu/libm.so.6", &size);

        /* ret_interp NULL: only the needed names are wanted. */
        assert_int_equal(elf_read_deps(d, size, &needed, NULL), 0);
        assert_true(strv_contains(needed, "libc.so.6"));
        assert_false(strv_contains(needed, "libm.so.6"));
}

static void test_not_elf_and_truncated_files_are_refused(void **state) {
        _cleanup_strv_free_ char **needed = NULL;
        _cleanup_free_ char *interp = NULL;
        static const char script[] = "#!/bin/sh\necho hi\n";
        size_t size;
        _cleanup_free_ char *d = read_binary("/bin/true", &size);

        assert_int_equal(elf_read_deps(script, sizeof script, &needed, &interp), -ENOEXEC);
        assert_int_equal(elf_read_deps(d, 4, &needed, &interp), -ENOEXEC);
        /* The header is there, the program headers are cut off. */
        assert_int_equal(elf_read_deps(d, 80, &needed, &interp), -EBADMSG);
        /* A 32-bit class byte. */
        d[4] = 1;
        assert_int_equal(elf_read_deps(d, size, &needed, &interp), -EBADMSG);
        assert_null(needed);
        assert_null(interp);
}

/* This test binary carries a kernel-module-style .modinfo section, so the
 * reader runs on a real ELF file the linker laid out. */
static const char modinfo[] __attribute__((section(".modinfo"), used)) =
        "license=MIT\0depends=dm-bufio,reed_solomon\0name=test_elfdeps";

static void test_modinfo_key_of_a_module_style_section(void **state) {
        _cleanup_free_ char *v = NULL, *none = NULL, *d = NULL;
        size_t size;

        d = read_binary("/proc/self/exe", &size);
        assert_int_equal(elf_read_modinfo(d, size, "depends", &v), 0);
        assert_string_equal(v, "dm-bufio,reed_solomon");
        /* A key that is not there, and a prefix of one, give NULL. */
        assert_int_equal(elf_read_modinfo(d, size, "vermagic", &none), 0);
        assert_null(none);
        assert_int_equal(elf_read_modinfo(d, size, "licens", &none), 0);
        assert_null(none);
        /* /bin/true has no .modinfo at all. */
        _cleanup_free_ char *t = read_binary("/bin/true", &size);
        assert_int_equal(elf_read_modinfo(t, size, "depends", &none), 0);
        assert_null(none);
        assert_int_equal(elf_read_modinfo("#!/bin/sh\n", 11, "depends", &none), -ENOEXEC);
        assert_int_equal(elf_read_modinfo(t, 80, "depends", &none), -EBADMSG);
}

int main(void) {
        if (access("/bin/true", R_OK) < 0 || access("/lib/x86_64-linux-gnu/libm.so.6", R_OK) < 0) {
                fprintf(stderr, "not an amd64 Debian host, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dynamic_binary_needs_libc_and_the_loader),
                cmocka_unit_test(test_shared_library_lists_its_own_needs_not_itself),
                cmocka_unit_test(test_not_elf_and_truncated_files_are_refused),
                cmocka_unit_test(test_modinfo_key_of_a_module_style_section),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
