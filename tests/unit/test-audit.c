/* SPDX-License-Identifier: MIT */
/* berth audit's checks against a made-up system tree: a hardened node passes
 * every check (exceptions named), and each thing broken on purpose fails
 * exactly its own check. The same happens on a real guest in vm-audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "fileio.h"
#include "macro.h"

static char root[] = "/tmp/berth-test-audit-XXXXXX";

static void put_n(const char *name, const char *s, size_t n) {
        _cleanup_free_ char *p = path_join(root, name);
        assert_non_null(p);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, s, n, 0644), 0);
}

static void put(const char *name, const char *s) {
        put_n(name, s, strlen(s));
}

#define CMDLINE                                                                                    \
        "console=ttyS0 lockdown=integrity module.sig_enforce=1 init_on_alloc=1 init_on_free=1 "    \
        "slab_nomerge randomize_kstack_offset=on page_alloc.shuffle=1 vsyscall=none pti=on "       \
        "iommu.strict=1 debugfs=off apparmor=1 security=apparmor "                                 \
        "module_blacklist=cramfs,freevxfs,hfs,hfsplus,jffs2,squashfs,udf,usb_storage,uas,dccp,"    \
        "sctp,rds,tipc\n"
#define MOUNT_ROOT "20 1 254:4 / / rw,nosuid,nodev,noatime shared:1 - ext4 /dev/vda4 rw\n"
#define MOUNT_USR "21 20 253:0 / /usr ro,nodev,relatime shared:2 - erofs /dev/mapper/usr ro\n"
#define MOUNT_DEV "22 20 0:5 / /dev rw,nosuid shared:3 - devtmpfs devtmpfs rw\n"
#define MOUNT_SHM "23 22 0:21 / /dev/shm rw,nosuid,nodev,noexec shared:4 - tmpfs tmpfs rw\n"
#define MOUNT_TMP "24 20 0:22 / /tmp rw,nosuid,nodev,noexec shared:5 - tmpfs tmpfs rw\n"

/* A node as the default image makes it. */
static void hardened_node(void) {
        size_t n;
        const AuditCheck *c = audit_checks(&n);

        for (size_t i = 0; i < n; i++) {
                char path[256];
                if (c[i].kind != AUDIT_SYSCTL)
                        continue;
                size_t l = (size_t) snprintf(path, sizeof path, "proc/sys/%s", c[i].arg);
                for (size_t k = strlen("proc/sys/"); k < l; k++)
                        path[k] = path[k] == '.' ? '/' : path[k];
                /* Exceptions: the value the container host needs; ">=N": N. */
                put(path, strneq(c[i].want, ">=", 2)      ? c[i].want + 2
                          : !c[i].exception               ? c[i].want
                          : strstr(c[i].arg, "accept_ra") ? "2\n"
                                                          : "1\n");
        }
        put("proc/sys/kernel/osrelease", "6.1.0-test\n");
        put("proc/cmdline", CMDLINE);
        put("proc/self/mountinfo", MOUNT_ROOT MOUNT_USR MOUNT_DEV MOUNT_SHM MOUNT_TMP);
        put("proc/modules", "overlay 151552 0 - Live 0x0000000000000000\n");
        put("usr/lib/modules/6.1.0-test/modules.dep",
            "kernel/fs/squashfs/squashfs.ko.xz:\n"
            "kernel/drivers/usb/storage/usb-storage.ko.xz: kernel/drivers/usb/core/usbcore.ko.xz\n"
            "kernel/net/sctp/sctp.ko.xz: kernel/lib/libcrc32c.ko.xz\n"
            "kernel/fs/overlayfs/overlay.ko.xz:\n");
        put("usr/lib/modules/6.1.0-test/modules.builtin", "kernel/fs/ext4/ext4.ko\n");
        put("sys/dev/block/253:0/dm/uuid", "CRYPT-VERITY-0123abcd-usr\n");
        put_n("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
              "\x06\0\0\0\x01", 5);
        put("sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
        put("sys/kernel/security/apparmor/profiles", "");
        put("sys/module/module/parameters/sig_enforce", "Y\n");
        put("run/berth/services/chrony", "name=chrony\nstate=ready\npid=42\n");
}

/* The ids of the FAIL outcomes, space-separated; the exceptions each once. */
static void results(char *fails, size_t fsize, char *excs, size_t esize) {
        _cleanup_free_ AuditOutcome *o = NULL;
        size_t n;

        assert_int_equal(audit_run(root, &o, &n), 0);
        fails[0] = excs[0] = 0;
        for (size_t i = 0; i < n; i++) {
                if (o[i].result == AUDIT_FAIL)
                        snprintf(fails + strlen(fails), fsize - strlen(fails), "%s%s",
                                 fails[0] ? " " : "", o[i].check->id);
                if (o[i].result == AUDIT_SKIP) {
                        /* Only exceptions skip on a hardened node. */
                        assert_non_null(o[i].check->exception);
                        assert_non_null(strstr(o[i].reason, "exception: "));
                        snprintf(excs + strlen(excs), esize - strlen(excs), "%s%s",
                                 excs[0] ? " " : "", o[i].check->id);
                }
        }
}

static void test_hardened_node_passes_every_check(void **state) {
        char fails[512], excs[256];
        hardened_node();
        results(fails, sizeof fails, excs, sizeof excs);
        assert_string_equal(fails, "");
        assert_string_equal(excs, "3.1.1 3.1.1 3.2.9");
}

static void test_three_broken_things_fail_exactly_their_checks(void **state) {
        char fails[512], excs[256];
        hardened_node();
        put("proc/sys/kernel/randomize_va_space", "0\n");
        put("proc/self/mountinfo", MOUNT_ROOT MOUNT_USR MOUNT_DEV MOUNT_SHM
            "24 20 0:22 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw\n");
        put("proc/modules", "overlay 151552 0 - Live 0x0\nsctp 434176 2 - Live 0x0\n");
        results(fails, sizeof fails, excs, sizeof excs);
        assert_string_equal(fails, "1.1.5 1.5.3 3.4.2");
}

static void test_modules_blacklisted_shipped_or_absent(void **state) {
        char fails[512], excs[256];
        hardened_node();
        /* Without the blacklist a shipped module can be loaded; one not
         * shipped cannot. '-' and '_' are the same name. */
        put("proc/cmdline",
            "console=ttyS0 apparmor=1 security=apparmor init_on_free=1 slab_nomerge "
            "randomize_kstack_offset=on page_alloc.shuffle=1 vsyscall=none pti=on "
            "debugfs=off\n");
        results(fails, sizeof fails, excs, sizeof excs);
        assert_string_equal(fails, "1.1.1.6 1.1.24 3.4.2");
}

static void test_platform_checks(void **state) {
        char fails[512], excs[256];
        hardened_node();
        put("sys/kernel/security/lockdown", "[none] integrity confidentiality\n");
        put_n("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
              "\x06\0\0\0\0", 5);
        put("sys/dev/block/253:0/dm/uuid", "LVM-something\n");
        put("run/berth/services/chrony", "name=chrony\nstate=failed\n");
        put("proc/sys/net/ipv4/ip_forward", "0\n");      /* compliant: PASS, not an exception */
        put("proc/sys/kernel/yama/ptrace_scope", "3\n"); /* stricter than asked: PASS */
        results(fails, sizeof fails, excs, sizeof excs);
        assert_string_equal(fails, "berth-verity berth-secure-boot berth-lockdown 2.2.1.1");
        assert_string_equal(excs, "3.1.1 3.2.9");
}

static void test_json_and_text(void **state) {
        _cleanup_free_ AuditOutcome *o = NULL;
        _cleanup_free_ char *json = NULL, *text = NULL;
        size_t n, size = 0;

        hardened_node();
        assert_int_equal(audit_run(root, &o, &n), 0);
        json = audit_format_json(o, n);
        assert_non_null(json);
        assert_non_null(strstr(json, "{\"checks\":[{\"id\":\"1.1.1.1\",\"level\":1,"));
        assert_non_null(strstr(json, "\"result\":\"SKIP\",\"reason\":\"exception: "));
        assert_non_null(strstr(json, "\"summary\":{\"pass\":"));
        assert_non_null(strstr(json, "\"fail\":0,\"skip\":3,\"exceptions\":3}}"));
        FILE *f = open_memstream(&text, &size);
        assert_non_null(f);
        audit_format_text(o, n, f);
        fclose(f);
        assert_non_null(strstr(text, "PASS  1.1.5 "));
        assert_non_null(strstr(text, " 0 fail, 3 skip (3 of them exceptions"));
        assert_int_equal(audit_failed(o, n), 0);
}

static int setup(void **state) {
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
        (void) rm_rf(root);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hardened_node_passes_every_check),
                cmocka_unit_test(test_three_broken_things_fail_exactly_their_checks),
                cmocka_unit_test(test_modules_blacklisted_shipped_or_absent),
                cmocka_unit_test(test_platform_checks),
                cmocka_unit_test(test_json_and_text),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
