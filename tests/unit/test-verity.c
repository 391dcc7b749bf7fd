/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "digest.h"
#include "error.h"
#include "erofs.h"
#include "spawn-util.h"
#include "fileio.h"
#include "macro.h"
#include "verity.h"

#define SALT "5f2a0c8e4b1d3a6978e0c2b4d6f8a1c3e5b7d9f1a3c5e7092b4d6f8a0c2e4b6d"
#define UUID "1b4e28ba-2fa1-4d2e-9a3b-6c0d5e7f8a91"

static char dir[] = "/tmp/berth-test-verity-XXXXXX";

static int make_random_file(const char *path, size_t size) {
        _cleanup_close_ int in = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = malloc(size);
        if (in < 0 || !buf)
                return -1;
        for (size_t n = 0; n < size;) {
                ssize_t k = read(in, buf + n, size - n);
                if (k <= 0)
                        return -1;
                n += (size_t) k;
        }
        return write_file_atomic(path, buf, size, 0644);
}

static int flip_byte(const char *path, off_t off) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        uint8_t c;
        if (fd < 0 || pread(fd, &c, 1, off) != 1)
                return -1;
        c ^= 0x01;
        return pwrite(fd, &c, 1, off) == 1 ? 0 : -1;
}

static int veritysetup_verify(const char *data, const char *hash, const char *root) {
        char *argv[] = { (char *) "veritysetup", (char *) "verify", (char *) data,
                         (char *) hash,          (char *) root,     NULL };
        return spawn_run(argv, NULL, NULL);
}

static bool have_veritysetup(void) {
        char *argv[] = { (char *) "veritysetup", (char *) "--version", NULL };
        return spawn_run(argv, NULL, NULL) == 0;
}

static void test_format_is_accepted_by_veritysetup_and_rejects_a_flipped_byte(void **state) {
        _cleanup_free_ char *data = path_join(dir, "data"), *hash = path_join(dir, "hash");
        char root[65];

        if (!have_veritysetup())
                skip_test("veritysetup is not installed");
        assert_int_equal(make_random_file(data, 1024 * 1024), 0);
        assert_int_equal(verity_format(data, hash, SALT, UUID, root), 0);
        assert_int_equal(strlen(root), 64);
        assert_int_equal(strspn(root, "0123456789abcdef"), 64);

        assert_int_equal(veritysetup_verify(data, hash, root), 0);
        assert_int_equal(verity_verify(data, hash, root), 0);

        /* A wrong root hash is rejected. */
        char wrong[65];
        memcpy(wrong, root, sizeof wrong);
        wrong[0] = wrong[0] == '0' ? '1' : '0';
        assert_int_equal(verity_verify(data, hash, wrong), -EPERM);

        assert_int_equal(flip_byte(data, 123457), 0);
        assert_int_not_equal(veritysetup_verify(data, hash, root), 0);
        assert_int_equal(verity_verify(data, hash, root), -EPERM);
}

static void test_same_input_salt_uuid_gives_identical_hash_file(void **state) {
        _cleanup_free_ char *data = path_join(dir, "data2"), *h1 = path_join(dir, "h1"),
                            *h2 = path_join(dir, "h2");
        char r1[65], r2[65], s1[SHA256_HEX_SIZE], s2[SHA256_HEX_SIZE];

        assert_int_equal(make_random_file(data, 512 * 1024), 0);
        assert_int_equal(verity_format(data, h1, SALT, UUID, r1), 0);
        assert_int_equal(verity_format(data, h2, SALT, UUID, r2), 0);
        assert_string_equal(r1, r2);
        assert_int_equal(sha256_file_hex(h1, s1), 0);
        assert_int_equal(sha256_file_hex(h2, s2), 0);
        assert_string_equal(s1, s2);
}

static void test_unaligned_data_is_padded_to_4096(void **state) {
        _cleanup_free_ char *data = path_join(dir, "odd"), *hash = path_join(dir, "odd.hash");
        char root[65];
        struct stat st;

        assert_int_equal(make_random_file(data, 3 * 4096 + 100), 0);
        assert_int_equal(verity_format(data, hash, SALT, UUID, root), 0);
        assert_int_equal(stat(data, &st), 0);
        assert_int_equal(st.st_size, 4 * 4096);
        assert_int_equal(verity_verify(data, hash, root), 0);
}

/* The userspace walk agrees with libcryptsetup on files at offset 0 and on
 * the same pair placed at offsets inside one bigger file (a disk image), for
 * one-level and multi-level trees, and names the first bad block. */
static void check_at_offsets(size_t size) {
        _cleanup_free_ char *data = path_join(dir, "at.data"), *hash = path_join(dir, "at.hash"),
                            *disk = path_join(dir, "at.disk");
        _cleanup_free_ char *dbuf = NULL, *hbuf = NULL;
        size_t dsize, hsize;
        char root[65], other[65];

        assert_int_equal(make_random_file(data, size), 0);
        assert_int_equal(verity_format(data, hash, SALT, UUID, root), 0);
        assert_int_equal(verity_verify(data, hash, root), 0);
        assert_int_equal(verity_verify_at(data, 0, size, hash, 0, root), 0);

        /* data at 1 MiB, hash at 1 MiB + data + 64 KiB of zeros */
        assert_int_equal(read_full_file(data, &dbuf, &dsize, 128u << 20), 0);
        assert_int_equal(read_full_file(hash, &hbuf, &hsize, 0), 0);
        uint64_t doff = 1 << 20, hoff = doff + dsize + (64 << 10);
        _cleanup_close_ int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, dbuf, dsize, (off_t) doff), (ssize_t) dsize);
        assert_int_equal(pwrite(fd, hbuf, hsize, (off_t) hoff), (ssize_t) hsize);
        assert_int_equal(ftruncate(fd, (off_t) (hoff + hsize + (1 << 20))), 0);
        assert_int_equal(verity_verify_at(disk, doff, dsize, disk, hoff, root), 0);

        /* another root hash, a data block, a hash block */
        memcpy(other, root, sizeof other);
        other[0] = other[0] == '0' ? '1' : '0';
        assert_int_equal(verity_verify_at(disk, doff, dsize, disk, hoff, other), -EPERM);
        assert_int_equal(flip_byte(disk, (off_t) (doff + dsize - 100)), 0);
        assert_int_equal(verity_verify_at(disk, doff, dsize, disk, hoff, root), -EPERM);
        assert_non_null(strstr(error_message(-EPERM), "data block"));
        assert_int_equal(flip_byte(disk, (off_t) (doff + dsize - 100)), 0);
        assert_int_equal(flip_byte(disk, (off_t) (hoff + 4096 + 5)), 0);
        assert_int_equal(verity_verify_at(disk, doff, dsize, disk, hoff, root), -EPERM);
        /* no superblock where the hash should start */
        assert_int_equal(verity_verify_at(disk, doff, dsize, disk, doff, root), -EBADMSG);
        /* a data area too small for the superblock's block count */
        assert_int_equal(verity_verify_at(disk, doff, dsize - 4096, disk, hoff, root), -EBADMSG);
}

static void test_verify_at_offsets_agrees_with_libcryptsetup(void **state) {
        check_at_offsets(64 * 4096);    /* one level */
        check_at_offsets(300 * 4096);   /* two levels */
        check_at_offsets(16500 * 4096); /* three levels */
}

static void test_bad_salt_is_rejected(void **state) {
        _cleanup_free_ char *data = path_join(dir, "data3"), *hash = path_join(dir, "h3");
        char root[65];

        assert_int_equal(make_random_file(data, 4096), 0);
        assert_int_equal(verity_format(data, hash, "xyz", UUID, root), -EINVAL);
        assert_int_equal(access(hash, F_OK), -1);
}

/* The leaves are sha256(salt || block) of every data block, in order, read
 * from inside a disk as well as from the hash file; the salt of an image
 * name stays the same. */
static void test_leaves_are_the_salted_hash_of_every_block(void **state) {
        _cleanup_free_ char *data = path_join(dir, "lv.data"), *hash = path_join(dir, "lv.hash"),
                            *dbuf = NULL;
        _cleanup_(verity_leaves_done) VerityLeaves l = {};
        char root[65], s1[65], s2[65], s3[65];
        size_t dsize;
        uint8_t h[32];

        assert_int_equal(make_random_file(data, 300 * 4096), 0);
        assert_int_equal(verity_format(data, hash, SALT, UUID, root), 0);
        assert_int_equal(verity_leaves_read(hash, 0, UINT64_MAX, &l), 0);
        assert_int_equal(l.blocks, 300);
        assert_int_equal(l.salt_size, 32);
        assert_int_equal(read_full_file(data, &dbuf, &dsize, 0), 0);
        for (size_t b = 0; b < 300; b++) {
                assert_int_equal(verity_block_hash(&l, (uint8_t *) dbuf + b * 4096, h), 0);
                assert_memory_equal(h, l.leaves + b * 32, 32);
        }
        /* a data area smaller than the tree claims, a file without a tree */
        verity_leaves_done(&l);
        assert_int_equal(verity_leaves_read(hash, 0, 299 * 4096, &l), -EBADMSG);
        assert_int_equal(verity_leaves_read(data, 0, UINT64_MAX, &l), -EBADMSG);

        assert_int_equal(verity_salt_for_image("container-host", s1), 0);
        assert_int_equal(verity_salt_for_image("container-host", s2), 0);
        assert_int_equal(verity_salt_for_image("other", s3), 0);
        assert_string_equal(s1, s2);
        assert_string_not_equal(s1, s3);
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir) < 0 ? -1 : 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_is_accepted_by_veritysetup_and_rejects_a_flipped_byte),
                cmocka_unit_test(test_same_input_salt_uuid_gives_identical_hash_file),
                cmocka_unit_test(test_unaligned_data_is_padded_to_4096),
                cmocka_unit_test(test_bad_salt_is_rejected),
                cmocka_unit_test(test_verify_at_offsets_agrees_with_libcryptsetup),
                cmocka_unit_test(test_leaves_are_the_salted_hash_of_every_block),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
