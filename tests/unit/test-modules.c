/* SPDX-License-Identifier: MIT */
/* The module lists berth-init loads: the initramfs list and the
 * modules-load.d directories (/usr/lib/modules-load.d, which the composer
 * fills from [Kernel] Load=, then /etc/modules-load.d). Which names they
 * yield, in which order. Loading itself needs a kernel with module support
 * and its module tree: the VM test (vm-boot) checks /proc/modules in a guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"
#include "fileio.h"
#include "macro.h"
#include "modules.h"
#include "strv.h"

static char dir[] = "/tmp/berth-test-modules-XXXXXX";

static char *put(const char *name, const char *s) {
        char *p = path_join(dir, name);
        assert_non_null(p);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, s, strlen(s), 0644), 0);
        return p;
}

static void assert_names(char **names, const char *want) {
        _cleanup_free_ char *got = strv_join(names, " ");
        assert_string_equal(got, want);
}

static void test_list_file_skips_comments_and_blank_lines(void **state) {
        _cleanup_free_ char *p = put("list", "# the initramfs set\n"
                                             "virtio_blk\n"
                                             "\n"
                                             "   ; a comment too (modules-load.d(5))\n"
                                             "  dm-verity\t\r\n"
                                             "erofs ext4\n"
                                             "vfat");
        _cleanup_strv_free_ char **names = NULL;

        assert_int_equal(modules_read_list(p, &names), 0);
        assert_names(names, "virtio_blk dm-verity erofs ext4 vfat");
}

static void test_empty_and_missing_lists(void **state) {
        _cleanup_free_ char *p = put("empty", "# nothing\n\n");
        _cleanup_strv_free_ char **names = NULL;

        assert_int_equal(modules_read_list(p, &names), 0);
        assert_null(names);
        assert_int_equal(modules_read_list("/nonexistent/list", &names), -ENOENT);
        assert_null(names);
}

static void test_dir_reads_conf_files_in_name_order_once_each(void **state) {
        _cleanup_free_ char *a = put("d/20-containerd.conf", "overlay\nbr_netfilter\n"),
                            *b = put("d/10-berth.conf", "# from the spec\nbridge veth\noverlay\n"),
                            *c = put("d/30-extra.conf.disabled", "nope\n"),
                            *e = put("d/README", "nope\n"), *sub = path_join(dir, "d");
        _cleanup_strv_free_ char **names = NULL;

        assert_int_equal(modules_read_dir(sub, &names), 0);
        assert_names(names, "bridge veth overlay br_netfilter");

        /* A missing directory is not an error for the loader. */
        _cleanup_strv_free_ char **none = NULL;
        assert_int_equal(modules_read_dir("/nonexistent/modules-load.d", &none), -ENOENT);
        assert_int_equal(modules_load_dir("/nonexistent/modules-load.d"), 0);
}

static void test_blacklist_from_the_command_line(void **state) {
        const char *c = "console=ttyS0 module_blacklist=cramfs,usb_storage,sctp quiet";
        assert_true(cmdline_module_blacklisted(c, "sctp"));
        assert_true(cmdline_module_blacklisted(c, "cramfs"));
        assert_true(cmdline_module_blacklisted(c, "usb-storage")); /* '-' and '_' alike */
        assert_true(cmdline_module_blacklisted(c, "usb_storage"));
        assert_false(cmdline_module_blacklisted(c, "usb"));
        assert_false(cmdline_module_blacklisted(c, "sctp_diag"));
        assert_false(cmdline_module_blacklisted(c, "overlay"));
        assert_false(cmdline_module_blacklisted("console=ttyS0", "sctp"));
        assert_false(cmdline_module_blacklisted("", "sctp"));
        assert_false(cmdline_module_blacklisted(NULL, "sctp"));
        assert_false(cmdline_module_blacklisted("module_blacklist=", "sctp"));
}

static void test_default_initramfs_list(void **state) {
        /* The storage and file system drivers stage 1 needs to find usr. */
        static const char *const need[] = { "virtio_blk", "dm-verity", "erofs", "ext4", NULL };
        for (size_t i = 0; need[i]; i++)
                assert_true(strv_contains((char **) modules_initrd_default, need[i]));
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list_file_skips_comments_and_blank_lines),
                cmocka_unit_test(test_empty_and_missing_lists),
                cmocka_unit_test(test_dir_reads_conf_files_in_name_order_once_each),
                cmocka_unit_test(test_default_initramfs_list),
                cmocka_unit_test(test_blacklist_from_the_command_line),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
