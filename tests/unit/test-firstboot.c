/* SPDX-License-Identifier: MIT */
/* First-boot tasks (firstboot.c): pending until their marker is written,
 * done for good after, bad task names refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "firstboot.h"
#include "macro.h"

static void test_task_pending_until_done(void **state) {
        char root[] = "/tmp/berth-firstboot-XXXXXX";
        _cleanup_free_ char *marker = NULL, *text = NULL;

        assert_non_null(mkdtemp(root));
        assert_true(firstboot_pending(root, FIRSTBOOT_TASK_GROWFS));
        assert_true(firstboot_pending(root, FIRSTBOOT_TASK_MACHINE_ID));

        /* The directory is made on the way. */
        assert_int_equal(firstboot_done(root, FIRSTBOOT_TASK_GROWFS), 0);
        assert_false(firstboot_pending(root, FIRSTBOOT_TASK_GROWFS));
        assert_true(firstboot_pending(root, FIRSTBOOT_TASK_MACHINE_ID));

        marker = strdup_printf("%s/" FIRSTBOOT_DIR "/growfs", root);
        assert_int_equal(read_full_file(marker, &text, NULL, 0), 0);
        assert_true(strneq(text, "boot_id=", 8));
        assert_non_null(strstr(text, "\nuptime="));

        /* Done again: still done, no error. */
        assert_int_equal(firstboot_done(root, FIRSTBOOT_TASK_GROWFS), 0);
        assert_false(firstboot_pending(root, FIRSTBOOT_TASK_GROWFS));
        assert_int_equal(rm_rf(root), 0);
}

static void test_bad_task_names_are_refused(void **state) {
        char root[] = "/tmp/berth-firstboot-XXXXXX";
        assert_non_null(mkdtemp(root));
        static const char *const bad[] = { "", "../x", "a/b", "Upper", "a b" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(firstboot_done(root, bad[i]), -EINVAL);
                /* An unusable name never counts as done. */
                assert_true(firstboot_pending(root, bad[i]));
        }
        assert_int_equal(rm_rf(root), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_task_pending_until_done),
                cmocka_unit_test(test_bad_task_names_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
