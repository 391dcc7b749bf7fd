/* SPDX-License-Identifier: MIT */
/* The CLI's side of the node API (src/shared/api-client.c): the merge patch
 * `berth settings set` sends, and the error line it takes from an answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "api-client.h"
#include "error.h"
#include "macro.h"

static void expect_patch(const char *path, const char *value, const char *want) {
        char *p = NULL;

        assert_int_equal(api_patch_for(path, value, &p), 0);
        assert_string_equal(p, want);
        free(p);
}

static void test_patch(void **state) {
        expect_patch("network.hostname", "node-1", "{\"network\": {\"hostname\": \"node-1\"}}");
        expect_patch("time.servers", "[\"a\"]", "{\"time\": {\"servers\": [\"a\"]}}");
        expect_patch("kernel.sysctl.\"vm.swappiness\"", "10",
                     "{\"kernel\": {\"sysctl\": {\"vm.swappiness\": 10}}}");
        expect_patch("network.hostname", "null", "{\"network\": {\"hostname\": null}}");
        /* Not JSON: a string, escaped. */
        expect_patch("update.channel", "a\"b\\c\n",
                     "{\"update\": {\"channel\": \"a\\\"b\\\\c\\u000a\"}}");
        expect_patch("network.hostname", "1abc", "{\"network\": {\"hostname\": \"1abc\"}}");
}

static void test_patch_bad_paths(void **state) {
        char *p = NULL;

        assert_int_equal(api_patch_for("hostname", "x", &p), -EINVAL);
        assert_int_equal(api_patch_for(".x", "x", &p), -EINVAL);
        assert_int_equal(api_patch_for("kernel.sysctl.vm", "x", &p), -EINVAL);
        assert_string_equal(error_message(-EINVAL),
                            "'kernel.sysctl.vm': a third part is quoted: KEY.\"NAME\"");
        assert_null(p);
}

static void test_error_message(void **state) {
        char *m;

        m = api_error_message("{\n  \"error\": \"network.dns[2]: not an IP \\\"address\\\"\"\n}");
        assert_string_equal(m, "network.dns[2]: not an IP \"address\"");
        free(m);
        m = api_error_message("{\"error\": \"a\\u001b[31mb\"}");
        assert_string_equal(m, "a?[31mb");
        free(m);
        assert_null(api_error_message("{\"status\": \"ok\"}"));
        assert_null(api_error_message("{\"error\": 3}"));
        m = api_error_message("{\"error\": \"cut\\");
        assert_string_equal(m, "cut\\");
        free(m);
        assert_int_equal(api_status_to_errno(400), -EINVAL);
        assert_int_equal(api_status_to_errno(403), -EACCES);
        assert_int_equal(api_status_to_errno(500), -EPROTO);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_patch),
                cmocka_unit_test(test_patch_bad_paths),
                cmocka_unit_test(test_error_message),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
