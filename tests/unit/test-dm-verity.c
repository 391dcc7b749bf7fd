/* SPDX-License-Identifier: MIT */
/* dm-verity without libcryptsetup: the superblock reader agrees with
 * veritysetup on a hash file verity_format() wrote, names the field of a bad
 * superblock, and the verity table says what the kernel must check. The
 * activation itself needs device-mapper, which the build host may lack: the VM
 * tests boot through it (vm-boot, vm-faults). */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "dm-verity.h"
#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"
#include "spawn-util.h"
#include "unaligned.h"
#include "verity.h"

#define SALT "5f2a0c8e4b1d3a6978e0c2b4d6f8a1c3e5b7d9f1a3c5e7092b4d6f8a0c2e4b6d"
#define UUID "1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91"
#define BLOCKS 300

static char dir[] = "/tmp/berth-test-dm-verity-XXXXXX";
static char *data, *hash;

static int read_sb(const char *path, uint8_t buf[static VERITY_SUPERBLOCK_SIZE]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd >= 0 && pread(fd, buf, VERITY_SUPERBLOCK_SIZE, 0) == VERITY_SUPERBLOCK_SIZE ? 0
                                                                                              : -1;
}

/* A field of `veritysetup dump` ("Data blocks:  \t300"), or NULL. */
static char *dump_field(const char *dump, const char *key) {
        const char *p = strstr(dump, key);
        char *v;
        if (!p)
                return NULL;
        p += strlen(key);
        p += strspn(p, ": \t");
        v = strndup(p, strcspn(p, "\n"));
        return v;
}

static void test_superblock_agrees_with_veritysetup(void **state) {
        _cleanup_free_ char *dump = NULL, *uuid = NULL, *blocks = NULL, *salt = NULL,
                            *hblocks = NULL;
        char *argv[] = { (char *) "veritysetup", (char *) "dump", hash, NULL };
        _cleanup_close_ int fd = open(hash, O_RDONLY | O_CLOEXEC);
        char got_uuid[UUID_STRING_SIZE], got_salt[65];
        VeritySuperblock sb;
        VerityTreeLayout lay;

        assert_true(fd >= 0);
        assert_int_equal(verity_superblock_read(fd, hash, 0, UINT64_MAX, &sb), 0);
        assert_int_equal(sb.data_blocks, BLOCKS);
        assert_int_equal(sb.salt_size, 32);
        hex_encode(sb.salt, sb.salt_size, got_salt);
        assert_string_equal(got_salt, SALT);

        if (spawn_run(argv, NULL, &dump) < 0)
                skip_test("veritysetup is not installed");
        uuid = dump_field(dump, "UUID");
        blocks = dump_field(dump, "Data blocks");
        salt = dump_field(dump, "Salt");
        hblocks = dump_field(dump, "Hash blocks");
        assert_non_null(uuid);
        assert_non_null(blocks);
        assert_non_null(salt);
        assert_non_null(hblocks);
        /* The UUID's bytes as stored (no version bits set: print them raw). */
        snprintf(got_uuid, sizeof got_uuid,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", sb.uuid[0],
                 sb.uuid[1], sb.uuid[2], sb.uuid[3], sb.uuid[4], sb.uuid[5], sb.uuid[6], sb.uuid[7],
                 sb.uuid[8], sb.uuid[9], sb.uuid[10], sb.uuid[11], sb.uuid[12], sb.uuid[13],
                 sb.uuid[14], sb.uuid[15]);
        assert_string_equal(got_uuid, uuid);
        assert_int_equal(strtoull(blocks, NULL, 10), sb.data_blocks);
        assert_string_equal(salt, got_salt);
        /* The tree after the superblock is as long as veritysetup says. */
        verity_tree_layout(sb.data_blocks, 0, &lay);
        assert_int_equal(lay.end_block - 1, strtoull(hblocks, NULL, 10));
}

static void test_table_names_devices_blocks_root_and_salt(void **state) {
        _cleanup_close_ int fd = open(hash, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *table = NULL, *want = NULL;
        uint8_t root[32];
        char root_hex[65];
        VeritySuperblock sb;

        for (size_t i = 0; i < sizeof root; i++)
                root[i] = (uint8_t) (0xa0 + i);
        hex_encode(root, sizeof root, root_hex);
        assert_int_equal(verity_superblock_read(fd, hash, 0, UINT64_MAX, &sb), 0);
        assert_int_equal(dm_verity_table(&sb, makedev(254, 2), makedev(259, 300), root, &table), 0);
        want = strdup_printf("1 254:2 259:300 4096 4096 300 1 sha256 %s %s", root_hex, SALT);
        assert_string_equal(table, want);

        /* No salt: "-", as the kernel's table syntax wants. */
        free(table);
        sb.salt_size = 0;
        assert_int_equal(dm_verity_table(&sb, makedev(8, 1), makedev(8, 2), root, &table), 0);
        assert_non_null(strstr(table, " sha256 "));
        assert_int_equal(strcmp(table + strlen(table) - 2, " -"), 0);
}

/* Each bad field gives -EBADMSG and a message that names it. */
static void expect_bad(const uint8_t *buf, uint64_t data_max, const char *words) {
        VeritySuperblock sb;
        int r = verity_superblock_parse(buf, "hash.img", 0, data_max, &sb);
        assert_int_equal(r, -EBADMSG);
        if (!strstr(error_message(r), words))
                fail_msg("message '%s' lacks '%s'", error_message(r), words);
}

static void test_bad_superblocks_are_refused_by_field(void **state) {
        uint8_t good[VERITY_SUPERBLOCK_SIZE], b[VERITY_SUPERBLOCK_SIZE];
        VeritySuperblock sb;

        assert_int_equal(read_sb(hash, good), 0);
        assert_int_equal(verity_superblock_parse(good, "hash.img", 0, BLOCKS * 4096, &sb), 0);

        memcpy(b, good, sizeof b);
        b[0] = 'X';
        expect_bad(b, UINT64_MAX, "hash.img: no verity superblock at offset 0");
        memcpy(b, good, sizeof b);
        unaligned_write_le32(b + 8, 2);
        expect_bad(b, UINT64_MAX, "superblock version 2, not 1");
        memcpy(b, good, sizeof b);
        unaligned_write_le32(b + 12, 0);
        expect_bad(b, UINT64_MAX, "hash type 0, not 1");
        memcpy(b, good, sizeof b);
        memcpy(b + 32, "sha1\0\0\0", 7);
        expect_bad(b, UINT64_MAX, "algorithm 'sha1', not sha256");
        memcpy(b, good, sizeof b);
        unaligned_write_le32(b + 68, 512);
        expect_bad(b, UINT64_MAX, "block size 512, not 4096");
        memcpy(b, good, sizeof b);
        unaligned_write_le16(b + 80, 257);
        expect_bad(b, UINT64_MAX, "salt of 257 bytes");
        /* More blocks than the data device holds: the kernel would read past it. */
        expect_bad(good, BLOCKS * 4096 - 1, "claims 300 data blocks, the data area holds 299");
}

static void test_short_file_and_files_that_are_not_block_devices(void **state) {
        _cleanup_free_ char *tiny = path_join(dir, "tiny");
        _cleanup_close_ int fd = -EBADF;
        uint8_t root[32] = {};
        VeritySuperblock sb;
        int r;

        assert_int_equal(write_file_atomic(tiny, "verity", 6, 0644), 0);
        fd = open(tiny, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        r = verity_superblock_read(fd, tiny, 0, UINT64_MAX, &sb);
        assert_int_equal(r, -EBADMSG);
        assert_non_null(strstr(error_message(r), "(the file ends)"));

        r = dm_verity_open("usr", data, hash, root, sizeof root);
        assert_int_equal(r, -ENOTBLK);
        assert_non_null(strstr(error_message(r), "is not a block device"));
        r = dm_verity_open("usr", "/nonexistent/part", hash, root, sizeof root);
        assert_int_equal(r, -ENOENT);
        assert_non_null(strstr(error_message(r), "/nonexistent/part"));
        assert_int_equal(dm_verity_open("a/b", data, hash, root, sizeof root), -EINVAL);
        assert_int_equal(dm_verity_open("usr", data, hash, root, 20), -EINVAL);
}

static int setup(void **state) {
        char root[65];
        _cleanup_free_ char *buf = NULL;

        if (!mkdtemp(dir))
                return -1;
        data = path_join(dir, "data");
        hash = path_join(dir, "hash");
        buf = malloc(BLOCKS * 4096);
        if (!data || !hash || !buf)
                return -1;
        for (size_t i = 0; i < BLOCKS * 4096; i++)
                buf[i] = (char) (i * 7 + i / 4096);
        if (write_file_atomic(data, buf, BLOCKS * 4096, 0644) < 0)
                return -1;
        return verity_format(data, hash, SALT, UUID, root) < 0 ? -1 : 0;
}

static int teardown(void **state) {
        free(data);
        free(hash);
        return rm_rf(dir) < 0 ? -1 : 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_superblock_agrees_with_veritysetup),
                cmocka_unit_test(test_table_names_devices_blocks_root_and_salt),
                cmocka_unit_test(test_bad_superblocks_are_refused_by_field),
                cmocka_unit_test(test_short_file_and_files_that_are_not_block_devices),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
