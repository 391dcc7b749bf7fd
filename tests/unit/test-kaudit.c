/* SPDX-License-Identifier: MIT */
/* The kernel audit reader's pure parts (kaudit.c): the AUDIT_ADD_RULE
 * payloads it sends (syscall bits, fields, key and path strings) and the log
 * lines it makes of records. Talking to the kernel (it would change the
 * build machine's audit settings) is the VM test's part (test-boot.sh). */
#include <errno.h>
#include <linux/audit.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "kaudit.h"
#include "macro.h"

static bool has_call(const struct audit_rule_data *d, int nr) {
        return d->mask[nr / 32] & (1u << (nr % 32));
}

static void test_syscall_rule(void **state) {
        static const int calls[] = { SYS_mount, SYS_umount2, -1 };
        const KauditRule rule = { .key = "mounts", .kind = KAUDIT_SYSCALLS, .calls = calls };
        char buf[sizeof(struct audit_rule_data) + 64];
        struct audit_rule_data *d = (struct audit_rule_data *) buf;

        int n = kaudit_rule_encode(&rule, buf, sizeof buf);
        assert_int_equal(n, (int) (sizeof *d + strlen("mounts")));
        assert_int_equal(d->flags, AUDIT_FILTER_EXIT);
        assert_int_equal(d->action, AUDIT_ALWAYS);
        assert_true(has_call(d, SYS_mount));
        assert_true(has_call(d, SYS_umount2));
        assert_false(has_call(d, SYS_read));
        assert_int_equal(d->field_count, 2);
        assert_int_equal(d->fields[0], AUDIT_ARCH);
        assert_int_equal(d->values[0], AUDIT_ARCH_X86_64);
        assert_int_equal(d->fieldflags[0], AUDIT_EQUAL);
        assert_int_equal(d->fields[1], AUDIT_FILTERKEY);
        assert_int_equal(d->values[1], 6);
        assert_int_equal(d->buflen, 6);
        assert_memory_equal(d->buf, "mounts", 6);
}

static void test_dir_rule_watches_writes_and_attributes(void **state) {
        const KauditRule rule = { .key = "berth-state",
                                  .kind = KAUDIT_DIR,
                                  .dir = "/var/lib/berth" };
        char buf[sizeof(struct audit_rule_data) + 64];
        struct audit_rule_data *d = (struct audit_rule_data *) buf;

        int n = kaudit_rule_encode(&rule, buf, sizeof buf);
        assert_int_equal(n, (int) (sizeof *d + strlen("/var/lib/berth") + strlen("berth-state")));
        for (size_t i = 0; i < AUDIT_BITMASK_SIZE; i++)
                assert_int_equal(d->mask[i], ~0u);
        assert_int_equal(d->field_count, 3);
        assert_int_equal(d->fields[0], AUDIT_DIR);
        assert_int_equal(d->values[0], strlen("/var/lib/berth"));
        assert_int_equal(d->fields[1], AUDIT_PERM);
        assert_int_equal(d->values[1], AUDIT_PERM_WRITE | AUDIT_PERM_ATTR);
        assert_int_equal(d->fields[2], AUDIT_FILTERKEY);
        assert_memory_equal(d->buf, "/var/lib/berthberth-state", d->buflen);
        /* Too small a buffer is refused, not overrun. */
        assert_int_equal(kaudit_rule_encode(&rule, buf, sizeof *d + 10), -ENOBUFS);
        assert_int_equal(kaudit_rule_encode(&rule, buf, 16), -ENOBUFS);
}

static void test_the_rule_set(void **state) {
        char buf[sizeof(struct audit_rule_data) + 256];
        const char *keys[] = { "modules", "mounts", "time-change", "berth-state" };

        assert_int_equal(kaudit_rules_n, ELEMENTSOF(keys));
        for (size_t i = 0; i < kaudit_rules_n; i++) {
                assert_string_equal(kaudit_rules[i].key, keys[i]);
                assert_true(kaudit_rule_encode(&kaudit_rules[i], buf, sizeof buf) > 0);
        }
        struct audit_rule_data *d = (struct audit_rule_data *) buf;
        assert_true(kaudit_rule_encode(&kaudit_rules[0], buf, sizeof buf) > 0);
        assert_true(has_call(d, SYS_finit_module) && has_call(d, SYS_init_module) &&
                    has_call(d, SYS_delete_module));
        assert_true(kaudit_rule_encode(&kaudit_rules[2], buf, sizeof buf) > 0);
        assert_true(has_call(d, SYS_settimeofday) && has_call(d, SYS_clock_settime));
        assert_false(has_call(d, SYS_adjtimex)); /* chronyd's slewing is not a time change */
}

static void test_format(void **state) {
        char line[64];
        const char rec[] = "audit(1.2:3): arch=c000003e syscall=165";

        size_t n = kaudit_format(AUDIT_SYSCALL, rec, sizeof rec, line, sizeof line);
        assert_string_equal(line, "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=165\n");
        assert_int_equal(n, strlen(line));
        kaudit_format(1399, "x\n", 2, line, sizeof line);
        assert_string_equal(line, "type=UNKNOWN[1399] msg=x\n");
        /* A long record is cut, and still ends the line. */
        char big[200];
        memset(big, 'a', sizeof big);
        n = kaudit_format(AUDIT_PATH, big, sizeof big, line, sizeof line);
        assert_int_equal(n, sizeof line - 1);
        assert_int_equal(line[n - 1], '\n');
        assert_true(strneq(line, "type=PATH msg=aaa", 17));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syscall_rule),
                cmocka_unit_test(test_dir_rule_watches_writes_and_attributes),
                cmocka_unit_test(test_the_rule_set),
                cmocka_unit_test(test_format),
        };
        return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
