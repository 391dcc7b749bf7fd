/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "unaligned.h"
#include "usr-patch.h"
#include "verity.h"
#include "zstd-util.h"

#define B 4096u

static char workdir[] = "/tmp/berth-test-usr-patch-XXXXXX";

static char *wpath(const char *rel) {
        char *p = path_join(workdir, rel);
        assert_non_null(p);
        return p;
}

static int shell(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* An image and its hash tree under the salt every release of "test" uses. */
static void image(const char *name, const char *make, char root[static 65]) {
        _cleanup_free_ char *img = wpath(name), *tree = strdup_printf("%s.verity", img),
                            *cmd = strdup_printf("set -e; cd %s; %s", workdir, make);
        char salt[65];
        assert_int_equal(shell(cmd), 0);
        assert_int_equal(verity_salt_for_image("test", salt), 0);
        assert_int_equal(
                verity_format(img, tree, salt, "6a1d1c5e-3c52-4a2b-9d39-05b8d1d25c1f", root), 0);
}

static int make_patch(const char *base, const char *base_root, const char *new,
                      const char *new_root, const char *dest, UsrPatchMakeStats *st) {
        _cleanup_free_ char *bi = wpath(base), *ni = wpath(new), *d = wpath(dest),
                            *bv = strdup_printf("%s.verity", bi),
                            *nv = strdup_printf("%s.verity", ni);
        UsrPatchMakeOptions o = { .base_image = bi,
                                  .base_verity = bv,
                                  .base_root_hash = base_root,
                                  .new_image = ni,
                                  .new_verity = nv,
                                  .new_root_hash = new_root,
                                  .level = 3,
                                  .dest = d };
        return usr_patch_make(&o, st);
}

/* v2 is v1 with one block edited (block 10) and five new blocks inserted at
 * 50 (everything after moves): the patch carries exactly those six blocks, in
 * two runs; decompressed against v1 they are v2's; against a v1 with a
 * flipped byte in block 10 the edited block comes out wrong, the others
 * right (no frame checksum hides them all). */
static void test_patch_carries_the_new_blocks(void **state) {
        _cleanup_free_ char *p = wpath("p"), *v1 = wpath("v1"), *v2 = wpath("v2"), *data = NULL,
                            *base = NULL, *img = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        _cleanup_(usr_patch_done) UsrPatch h = {};
        char r1[65], r2[65];
        size_t size, bsize, isize;
        UsrPatchMakeStats st;

        image("v1", "head -c $((200 * 4096)) /dev/urandom > v1", r1);
        image("v2",
              "head -c $((50 * 4096)) v1 > v2; head -c $((5 * 4096)) /dev/urandom >> v2; "
              "tail -c +$((50 * 4096 + 1)) v1 >> v2; "
              "printf 'edited' | dd of=v2 bs=1 seek=$((10 * 4096 + 7)) conv=notrunc status=none",
              r2);
        assert_int_equal(make_patch("v1", r1, "v2", r2, "p", &st), 1);
        assert_int_equal(st.carried, 6);
        assert_int_equal(read_full_file(p, &data, &size, 0), 0);
        assert_int_equal(st.size, size);
        assert_true(size < 6 * B);
        assert_int_equal(usr_patch_parse((const uint8_t *) data, size, &h), 0);
        assert_int_equal(h.base_blocks, 200);
        assert_int_equal(h.new_blocks, 205);
        assert_int_equal(h.carried, 6);
        assert_int_equal(h.n_runs, 2);
        assert_int_equal(h.runs[0].first, 10);
        assert_int_equal(h.runs[0].count, 1);
        assert_int_equal(h.runs[1].first, 50);
        assert_int_equal(h.runs[1].count, 5);

        assert_int_equal(read_full_file(v1, &base, &bsize, 0), 0);
        assert_int_equal(read_full_file(v2, &img, &isize, 0), 0);
        out = malloc(6 * B);
        assert_non_null(out);
        assert_int_equal(
                zstd_decompress_with_prefix(base, bsize, h.frame, h.frame_size, out, 6 * B), 0);
        assert_memory_equal(out, img + 10 * B, B);
        assert_memory_equal(out + B, img + 50 * B, 5 * B);

        base[10 * B + 100] ^= 1;
        assert_int_equal(
                zstd_decompress_with_prefix(base, bsize, h.frame, h.frame_size, out, 6 * B), 0);
        assert_memory_not_equal(out, img + 10 * B, B);
        assert_memory_equal(out + B, img + 50 * B, 5 * B);

        /* The wrong size is refused, not written past. */
        assert_int_equal(
                zstd_decompress_with_prefix(base, bsize, h.frame, h.frame_size, out, 5 * B),
                -EBADMSG);
        error_clear();
}

/* Blocks that do not compress: no patch is written, the caller is told. */
static void test_no_patch_when_not_smaller(void **state) {
        _cleanup_free_ char *p = wpath("q");
        char r1[65], r3[65];
        UsrPatchMakeStats st;

        image("w1", "head -c $((20 * 4096)) /dev/urandom > w1", r1);
        image("w3", "cp w1 w3; head -c $((3 * 4096)) /dev/urandom >> w3", r3);
        assert_int_equal(make_patch("w1", r1, "w3", r3, "q", &st), 0);
        assert_int_equal(st.carried, 3);
        assert_int_equal(access(p, F_OK), -1);
}

/* A header with runs {2,1} {5,2} of a 10-block image; each broken field is
 * refused with a message naming it. */
static size_t header(uint8_t *h) {
        memset(h, 0, 128);
        memcpy(h, USR_PATCH_MAGIC, 8);
        unaligned_write_le32(h + 8, 1);
        unaligned_write_le32(h + 12, B);
        unaligned_write_le64(h + 80, 8);
        unaligned_write_le64(h + 88, 10);
        unaligned_write_le64(h + 96, 3);
        unaligned_write_le32(h + 104, 2);
        unaligned_write_le32(h + 108, 4);
        const uint8_t runs[4] = { 2, 1, 2, 2 };
        memcpy(h + USR_PATCH_HEADER_SIZE, runs, 4);
        h[USR_PATCH_HEADER_SIZE + 4] = 0x28; /* the frame's first byte */
        return USR_PATCH_HEADER_SIZE + 5;
}

static void refused(uint8_t *h, size_t size, const char *field) {
        UsrPatch p = {};
        assert_int_equal(usr_patch_parse(h, size, &p), -EBADMSG);
        if (!strstr(error_message(-EBADMSG), field))
                fail_msg("'%s' does not name %s", error_message(-EBADMSG), field);
        error_clear();
}

static void test_header_fields_checked(void **state) {
        uint8_t h[128];
        size_t n = header(h);
        UsrPatch p = {};

        assert_int_equal(usr_patch_parse(h, n, &p), 0);
        assert_int_equal(p.n_runs, 2);
        assert_int_equal(p.runs[1].first, 5);
        assert_int_equal(p.frame_size, 1);
        usr_patch_done(&p);

        refused(h, 50, "size");
        n = header(h), h[0] = 'X', refused(h, n, "magic");
        n = header(h), h[8] = 2, refused(h, n, "version");
        n = header(h), unaligned_write_le32(h + 12, 512), refused(h, n, "block_size");
        n = header(h), unaligned_write_le64(h + 80, 0), refused(h, n, "base_blocks");
        n = header(h), unaligned_write_le64(h + 88, UINT64_MAX), refused(h, n, "new_blocks");
        n = header(h), unaligned_write_le64(h + 96, 11), refused(h, n, "carried");
        n = header(h), unaligned_write_le64(h + 96, 4), refused(h, n, "carried");
        n = header(h), unaligned_write_le32(h + 104, 0), refused(h, n, "runs");
        n = header(h), unaligned_write_le32(h + 108, 1000), refused(h, n, "runs_size");
        n = header(h), unaligned_write_le32(h + 108, 5), refused(h, n, "runs_size");
        n = header(h), h[USR_PATCH_HEADER_SIZE + 3] = 9, refused(h, n, "run 1");
        n = header(h), h[USR_PATCH_HEADER_SIZE + 2] = 0, refused(h, n, "run 1");
        n = header(h), h[USR_PATCH_HEADER_SIZE + 1] = 0x80, refused(h, n, "run 0");
}

static int setup(void **state) {
        return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(workdir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_patch_carries_the_new_blocks),
                cmocka_unit_test(test_no_patch_when_not_smaller),
                cmocka_unit_test(test_header_fields_checked),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
