/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include "json-util.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "digest.h"
#include "disk.h"
#include "erofs.h"
#include "spawn-util.h"
#include "fileio.h"
#include "macro.h"
#include "verity.h"

#define SALT "5f2a0c8e4b1d3a6978e0c2b4d6f8a1c3e5b7d9f1a3c5e7092b4d6f8a0c2e4b6d"
#define EPOCH 1700000000
#define SYSTEMD_BOOT "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

static char dir[] = "/tmp/berth-test-disk-XXXXXX";
static char root_hash[65];
static char *usr_img, *hash_img, *kernel, *initrd;

static bool have(const char *tool) {
        _cleanup_free_ char *cmd = strdup_printf("command -v %s >/dev/null 2>&1", tool);
        return cmd && system(cmd) == 0;
}

static int write_pattern(const char *path, size_t size, uint8_t seed) {
        _cleanup_free_ uint8_t *buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < size; i++)
                buf[i] = (uint8_t) (i * 131 + seed + i / 4096);
        return write_file_atomic(path, buf, size, 0644);
}

/* A small tree with files, a symlink and a non-root owner. */
static int make_tree(const char *top, int64_t mtime) {
        _cleanup_free_ char *bin = path_join(top, "usr/bin"), *lib = path_join(top, "usr/lib"),
                            *f1 = path_join(top, "usr/bin/tool"),
                            *f2 = path_join(top, "usr/lib/data"),
                            *l1 = path_join(top, "usr/lib/link");
        struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

        if (mkdir_p(bin, 0755) < 0 || mkdir_p(lib, 0755) < 0 || write_pattern(f1, 200000, 1) < 0 ||
            write_pattern(f2, 1234, 2) < 0 || symlink("../bin/tool", l1) < 0 ||
            lchown(f2, 5, 7) < 0 || utimensat(AT_FDCWD, f1, ts, 0) < 0)
                return -1;
        return 0;
}

static void test_erofs_is_reproducible_whatever_the_mtimes(void **state) {
        _cleanup_free_ char *t1 = path_join(dir, "tree1"), *t2 = path_join(dir, "tree2"),
                            *i1 = path_join(dir, "e1.img"), *i2 = path_join(dir, "e2.img");
        char s1[SHA256_HEX_SIZE], s2[SHA256_HEX_SIZE];
        struct stat st;

        if (!have("mkfs.erofs"))
                skip_test("mkfs.erofs is not installed");
        assert_int_equal(make_tree(t1, 1000000000), 0);
        assert_int_equal(make_tree(t2, 1100000000), 0);
        assert_int_equal(erofs_make(t1, i1, "lz4hc", EPOCH, "1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91"),
                         0);
        assert_int_equal(erofs_make(t2, i2, "lz4hc", EPOCH, "1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91"),
                         0);
        assert_int_equal(sha256_file_hex(i1, s1), 0);
        assert_int_equal(sha256_file_hex(i2, s2), 0);
        assert_string_equal(s1, s2);
        assert_int_equal(stat(i1, &st), 0);
        assert_int_equal(st.st_size % 4096, 0);

        /* Uncompressed works too; a bad compressor is an error, no output. */
        assert_int_equal(erofs_make(t1, i2, "none", EPOCH, NULL), 0);
        assert_int_equal(erofs_make(t1, i2, "zstd", EPOCH, NULL), -EPROTO);
        _cleanup_free_ char *tmp = strdup_printf("%s.tmp", i2);
        assert_int_equal(access(tmp, F_OK), -1);
        assert_int_equal(erofs_make("/nonexistent", i2, NULL, EPOCH, NULL), -ENOENT);
}

static void test_uuid_from_bytes_sets_version_and_variant(void **state) {
        const uint8_t b[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        char u[37];

        uuid_from_bytes(b, u);
        assert_string_equal(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_int_equal(usr_partuuids_from_hex(
                                 "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef",
                                 u, NULL),
                         0);
        assert_string_equal(u, "00112233-4455-4677-8899-aabbccddeeff");
        assert_int_equal(usr_partuuids_from_hex(
                                 "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef",
                                 NULL, u),
                         0);
        assert_string_equal(u, "01234567-89ab-4def-8123-456789abcdef");
        assert_int_equal(usr_partuuids_from_hex("abc", u, NULL), -EINVAL);
}

static DiskLayout layout(void) {
        return (DiskLayout){
                .usr_image = usr_img,
                .verity_image = hash_img,
                .root_hash = root_hash,
                .kernel = kernel,
                .initrd = initrd,
                .systemd_boot = access(SYSTEMD_BOOT, R_OK) == 0 ? SYSTEMD_BOOT : kernel,
                .cmdline = "usrhash=HASH berth.slot=a console=ttyS0",
                .image_name = "test-host",
                .image_version = "1.2.3",
                .boot_tries = 3,
                .source_date_epoch = EPOCH,
        };
}

static int extract(const char *disk, uint64_t off, uint64_t size, const char *to) {
        _cleanup_close_ int in = open(disk, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        _cleanup_free_ char *buf = malloc(size);
        if (in < 0 || out < 0 || !buf)
                return -1;
        if (pread(in, buf, size, (off_t) off) != (ssize_t) size)
                return -1;
        return write(out, buf, size) == (ssize_t) size ? 0 : -1;
}

static void expect_part(json_t *p, const char *name, const char *type, const char *uuid) {
        assert_true(json_is_object(p));
        assert_string_equal(json_string_value(json_object_get(p, "name")), name);
        assert_int_equal(strcasecmp(json_string_value(json_object_get(p, "type")), type), 0);
        if (uuid)
                assert_int_equal(strcasecmp(json_string_value(json_object_get(p, "uuid")), uuid),
                                 0);
}

static void test_disk_has_six_partitions_boot_entry_and_root_skeleton(void **state) {
        _cleanup_free_ char *disk = path_join(dir, "disk.img"),
                            *disk2 = path_join(dir, "disk2.img"), *out = NULL;
        char s1[SHA256_HEX_SIZE], s2[SHA256_HEX_SIZE], uuid[37];
        DiskLayout l = layout();
        json_error_t err;

        if (!have("sfdisk") || !have("mkfs.fat") || !have("mcopy") || !have("mkfs.ext4") ||
            !have("debugfs"))
                skip_test("sfdisk, mkfs.fat, mcopy, mkfs.ext4 or debugfs is not installed");
        assert_int_equal(disk_make(&l, disk), 0);

        /* The partition table. */
        assert_int_equal(spawn_run((char *[]){ "sfdisk", "--json", disk, NULL }, NULL, &out), 0);
        _cleanup_(json_decrefp) json_t *j = json_loads(out, 0, &err);
        assert_non_null(j);
        json_t *parts = json_object_get(json_object_get(j, "partitiontable"), "partitions");
        assert_int_equal(json_array_size(parts), 6);
        expect_part(json_array_get(parts, 0), "esp", PART_TYPE_ESP, NULL);
        assert_int_equal(usr_partuuids_from_hex(root_hash, uuid, NULL), 0);
        expect_part(json_array_get(parts, 1), "usr-a", PART_TYPE_USR_X86_64, uuid);
        assert_int_equal(usr_partuuids_from_hex(root_hash, NULL, uuid), 0);
        expect_part(json_array_get(parts, 2), "usr-a-verity", PART_TYPE_USR_VERITY_X86_64, uuid);
        assert_int_equal(disk_derive_uuid("test-host", "1.2.3", "usr-b", uuid), 0);
        /* The empty pair is "_empty": Discoverable Partitions tools skip it. */
        expect_part(json_array_get(parts, 3), "_empty", PART_TYPE_USR_X86_64, uuid);
        expect_part(json_array_get(parts, 4), "_empty", PART_TYPE_USR_VERITY_X86_64, NULL);
        expect_part(json_array_get(parts, 5), "root", PART_TYPE_ROOT_X86_64, NULL);
        assert_int_equal(disk_derive_uuid("test-host", "1.2.3", "disk", uuid), 0);
        assert_int_equal(strcasecmp(json_string_value(json_object_get(
                                            json_object_get(j, "partitiontable"), "id")),
                                    uuid),
                         0);

        uint64_t off[6], size[6];
        for (size_t i = 0; i < 6; i++) {
                json_t *p = json_array_get(parts, i);
                off[i] = (uint64_t) json_integer_value(json_object_get(p, "start")) * 512;
                size[i] = (uint64_t) json_integer_value(json_object_get(p, "size")) * 512;
                assert_int_equal(off[i] % (1 << 20), 0);
                assert_int_equal(size[i] % (1 << 20), 0);
        }
        assert_int_equal(size[1], size[3]);
        assert_int_equal(size[2], size[4]);

        /* The ESP: boot loader entry with boot counting, kernel, loader. */
        _cleanup_free_ char *img = strdup_printf("%s@@%" PRIu64, disk, off[0]), *entry = NULL,
                            *listing = NULL;
        assert_int_equal(
                spawn_run((char *[]){ "mtype", "-i", img, "::loader/entries/berth-a+3.conf", NULL },
                          &(SpawnOptions){ .env_extra = (char *[]){ "MTOOLS_SKIP_CHECK=1", NULL } },
                          &entry),
                0);
        assert_non_null(strstr(entry, "linux /berth/a/vmlinuz\n"));
        assert_non_null(strstr(entry, "initrd /berth/a/initrd\n"));
        assert_non_null(strstr(entry, "options usrhash=HASH berth.slot=a console=ttyS0\n"));
        assert_int_equal(
                spawn_run((char *[]){ "mdir", "-/", "-b", "-i", img, "::", NULL },
                          &(SpawnOptions){ .env_extra = (char *[]){ "MTOOLS_SKIP_CHECK=1", NULL } },
                          &listing),
                0);
        assert_non_null(strstr(listing, "::/EFI/BOOT/BOOTX64.EFI"));
        assert_non_null(strstr(listing, "::/EFI/systemd/systemd-bootx64.efi"));
        assert_non_null(strstr(listing, "::/berth/a/vmlinuz"));
        assert_non_null(strstr(listing, "::/loader/loader.conf"));

        /* usr-A and its hash tree, read back from the disk, still verify. */
        _cleanup_free_ char *pa = path_join(dir, "usr-a"), *pv = path_join(dir, "usr-a-verity"),
                            *pr = path_join(dir, "root"), *ls = NULL, *st = NULL;
        assert_int_equal(extract(disk, off[1], size[1], pa), 0);
        assert_int_equal(extract(disk, off[2], size[2], pv), 0);
        assert_int_equal(verity_verify(pa, pv, root_hash), 0);

        /* The root file system skeleton. */
        assert_int_equal(extract(disk, off[5], size[5], pr), 0);
        assert_int_equal(spawn_run((char *[]){ "debugfs", "-R", "ls -l /", pr, NULL }, NULL, &ls),
                         0);
        assert_non_null(strstr(ls, " usr"));
        assert_non_null(strstr(ls, " var"));
        assert_non_null(strstr(ls, " lib64"));
        assert_non_null(strstr(ls, "41777"));
        assert_int_equal(spawn_run((char *[]){ "debugfs", "-R", "stat /bin", pr, NULL }, NULL, &st),
                         0);
        assert_non_null(strstr(st, "Fast link dest: \"usr/bin\""));

        /* Built twice: the same bytes. */
        assert_int_equal(disk_make(&l, disk2), 0);
        assert_int_equal(sha256_file_hex(disk, s1), 0);
        assert_int_equal(sha256_file_hex(disk2, s2), 0);
        assert_string_equal(s1, s2);
}

static void test_disk_rejects_a_bad_root_hash_and_a_small_usr_size(void **state) {
        _cleanup_free_ char *disk = path_join(dir, "bad.img");
        DiskLayout l = layout();

        l.root_hash = "nothex";
        assert_int_equal(disk_make(&l, disk), -EINVAL);
        l = layout();
        l.usr_size = 4096;
        assert_int_equal(disk_make(&l, disk), -ENOSPC);
        assert_int_equal(access(disk, F_OK), -1);
}

static int setup(void **state) {
        _cleanup_free_ char *tree = NULL;
        if (!mkdtemp(dir))
                return -1;
        usr_img = path_join(dir, "usr.erofs");
        hash_img = path_join(dir, "usr.verity");
        kernel = path_join(dir, "vmlinuz");
        initrd = path_join(dir, "initrd");
        if (!usr_img || !hash_img || !kernel || !initrd)
                return -1;
        if (write_pattern(usr_img, 3 * 1024 * 1024 + 100, 3) < 0 ||
            write_pattern(kernel, 300000, 4) < 0 || write_pattern(initrd, 200000, 5) < 0)
                return -1;
        return verity_format(usr_img, hash_img, SALT, "1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91",
                             root_hash) < 0
                       ? -1
                       : 0;
}

static int teardown(void **state) {
        free(usr_img);
        free(hash_img);
        free(kernel);
        free(initrd);
        if (getenv("BERTH_TEST_KEEP"))
                return 0;
        return rm_rf(dir) < 0 ? -1 : 0;
}

static void test_slot_b_image_goes_into_the_b_pair_with_a_b_entry(void **state) {
        _cleanup_free_ char *disk = path_join(dir, "disk-b.img"), *out = NULL, *entry = NULL,
                            *listing = NULL;
        char uuid[37];
        DiskLayout l = layout();
        json_error_t err;

        if (!have("sfdisk") || !have("mkfs.fat") || !have("mcopy") || !have("mkfs.ext4") ||
            !have("debugfs"))
                skip();
        l.slot = SLOT_B;
        l.cmdline = "usrhash=HASH berth.slot=b";
        assert_int_equal(disk_make(&l, disk), 0);
        assert_int_equal(spawn_run((char *[]){ "sfdisk", "--json", disk, NULL }, NULL, &out), 0);
        _cleanup_(json_decrefp) json_t *j = json_loads(out, 0, &err);
        assert_non_null(j);
        json_t *parts = json_object_get(json_object_get(j, "partitiontable"), "partitions");
        assert_int_equal(json_array_size(parts), 6);
        /* The b pair carries the root hash's UUIDs; the a pair the derived ones. */
        assert_int_equal(usr_partuuids_from_hex(root_hash, uuid, NULL), 0);
        expect_part(json_array_get(parts, 3), "usr-b", PART_TYPE_USR_X86_64, uuid);
        assert_int_equal(usr_partuuids_from_hex(root_hash, NULL, uuid), 0);
        expect_part(json_array_get(parts, 4), "usr-b-verity", PART_TYPE_USR_VERITY_X86_64, uuid);
        assert_int_equal(disk_derive_uuid("test-host", "1.2.3", "usr-a", uuid), 0);
        expect_part(json_array_get(parts, 1), "_empty", PART_TYPE_USR_X86_64, uuid);

        uint64_t esp_off =
                (uint64_t) json_integer_value(json_object_get(json_array_get(parts, 0), "start")) *
                512;
        _cleanup_free_ char *img = strdup_printf("%s@@%" PRIu64, disk, esp_off);
        SpawnOptions mt = { .env_extra = (char *[]){ "MTOOLS_SKIP_CHECK=1", NULL } };
        assert_int_equal(
                spawn_run((char *[]){ "mtype", "-i", img, "::loader/entries/berth-b+3.conf", NULL },
                          &mt, &entry),
                0);
        assert_non_null(strstr(entry, "linux /berth/b/vmlinuz\n"));
        assert_non_null(strstr(entry, "initrd /berth/b/initrd\n"));
        assert_non_null(strstr(entry, "(slot b)"));
        assert_int_equal(
                spawn_run((char *[]){ "mdir", "-/", "-b", "-i", img, "::", NULL }, &mt, &listing),
                0);
        assert_non_null(strstr(listing, "::/berth/b/vmlinuz"));
        assert_null(strstr(listing, "::/berth/a/"));
        assert_null(strstr(listing, "berth-a"));
}

static void test_derived_uuids_are_stable_and_distinct(void **state) {
        char a[UUID_STRING_SIZE], b[UUID_STRING_SIZE], c[UUID_STRING_SIZE];
        assert_int_equal(disk_derive_uuid("host", "1.0", "root", a), 0);
        assert_int_equal(disk_derive_uuid("host", "1.0", "root", b), 0);
        assert_string_equal(a, b);
        assert_int_equal(disk_derive_uuid("host", "1.1", "root", c), 0);
        assert_string_not_equal(a, c);
        assert_int_equal(a[14], '4');
        assert_int_equal(disk_derive_uuid(NULL, "1.0", "root", c), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_derived_uuids_are_stable_and_distinct),
                cmocka_unit_test(test_erofs_is_reproducible_whatever_the_mtimes),
                cmocka_unit_test(test_uuid_from_bytes_sets_version_and_variant),
                cmocka_unit_test(test_disk_has_six_partitions_boot_entry_and_root_skeleton),
                cmocka_unit_test(test_slot_b_image_goes_into_the_b_pair_with_a_b_entry),
                cmocka_unit_test(test_disk_rejects_a_bad_root_hash_and_a_small_usr_size),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
