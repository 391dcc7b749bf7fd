/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delta-index.h"
#include "digest.h"
#include "fileio.h"
#include "macro.h"
#include "verity.h"

static char workdir[] = "/tmp/berth-test-delta-index-XXXXXX";

static char *wpath(const char *rel) {
        char *p = path_join(workdir, rel);
        assert_non_null(p);
        return p;
}

static int shell(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* Three zstd frames made by the zstd tool, back to back, with zeros after
 * the second (the kernel skips them): each frame found, zeros counted with
 * the frame before; initrd.frames says the same. */
static void test_frames_of_concatenated_zstd(void **state) {
        _cleanup_free_ char *f = wpath("cat.zst"), *idx = wpath("cat.frames"), *cmd = NULL,
                            *data = NULL, *idata = NULL;
        size_t size, isize, n, m;
        cmd = strdup_printf("set -e; cd %s; seq 1 20000 > a; head -c 70000 /dev/urandom > b; "
                            "echo small > c; zstd -q -3 -c a > %s; zstd -q -19 -c b >> %s; "
                            "head -c 7 /dev/zero >> %s; zstd -q -c c >> %s",
                            workdir, f, f, f, f);
        assert_int_equal(shell(cmd), 0);
        assert_int_equal(read_full_file(f, &data, &size, 0), 0);
        _cleanup_free_ ZstdFrame *fs = NULL, *ps = NULL;
        assert_int_equal(zstd_frames_scan((const uint8_t *) data, size, &fs, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(fs[0].offset, 0);
        assert_int_equal(fs[1].offset, fs[0].length);
        assert_int_equal(fs[2].offset + fs[2].length, size);
        assert_int_equal(data[fs[2].offset - 1], 0);
        uint8_t h[32];
        assert_int_equal(sha256_buffer(data + fs[1].offset, fs[1].length, h), 0);
        assert_memory_equal(h, fs[1].sha256, 32);

        assert_int_equal(initrd_frames_write(f, idx), 0);
        assert_int_equal(read_full_file(idx, &idata, &isize, 0), 0);
        assert_int_equal(initrd_frames_parse((const uint8_t *) idata, isize, size, &ps, &m), 0);
        assert_int_equal(m, 3);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(ps[i].offset, fs[i].offset);
                assert_int_equal(ps[i].length, fs[i].length);
                assert_memory_equal(ps[i].sha256, fs[i].sha256, 32);
        }
        free(ps);
        ps = NULL;
        /* Lengths that do not add up to the initrd's, a cut entry. */
        assert_int_equal(initrd_frames_parse((const uint8_t *) idata, isize, size + 1, &ps, &m),
                         -EBADMSG);
        assert_int_equal(initrd_frames_parse((const uint8_t *) idata, isize - 1, size, &ps, &m),
                         -EBADMSG);
}

/* Bytes that are not zstd frames (a cut frame, another magic) are refused. */
static void test_frames_refuse_garbage(void **state) {
        _cleanup_free_ char *f = wpath("one.zst"), *cmd = NULL, *data = NULL;
        _cleanup_free_ ZstdFrame *fs = NULL;
        size_t size, n;
        cmd = strdup_printf("set -e; cd %s; seq 1 5000 | zstd -q -c > %s", workdir, f);
        assert_int_equal(shell(cmd), 0);
        assert_int_equal(read_full_file(f, &data, &size, 0), 0);
        assert_int_equal(zstd_frames_scan((const uint8_t *) data, size - 1, &fs, &n), -EBADMSG);
        data[0] = 'x';
        assert_int_equal(zstd_frames_scan((const uint8_t *) data, size, &fs, &n), -EBADMSG);
        assert_int_equal(zstd_frames_scan((const uint8_t *) "\0\0", 2, &fs, &n), -EBADMSG);
}

/* usr.verity.parts: 64 bytes per block of leaves, each 8 the truncated
 * SHA-256 of 512 bytes of leaves. */
static void test_verity_parts(void **state) {
        _cleanup_free_ char *img = wpath("img"), *tree = wpath("img.verity"),
                            *parts = wpath("img.parts"), *cmd = NULL, *pdata = NULL, *tdata = NULL;
        char root[65], salt[65];
        size_t psize, tsize;
        VerityTreeLayout lay;

        cmd = strdup_printf("head -c %u /dev/urandom > %s", 300u * 4096u, img);
        assert_int_equal(shell(cmd), 0);
        assert_int_equal(verity_salt_for_image("test", salt), 0);
        assert_int_equal(
                verity_format(img, tree, salt, "6a1d1c5e-3c52-4a2b-9d39-05b8d1d25c1f", root), 0);
        assert_int_equal(verity_parts_write(tree, parts), 0);
        assert_int_equal(read_full_file(parts, &pdata, &psize, 0), 0);
        assert_int_equal(read_full_file(tree, &tdata, &tsize, 0), 0);
        verity_tree_layout(300, 0, &lay);
        assert_int_equal(lay.level_size[0], 3);
        assert_int_equal(psize, 3 * VERITY_PARTS_ENTRY);
        for (uint64_t i = 0; i < 3; i++)
                for (unsigned p = 0; p < VERITY_PARTS; p++) {
                        uint8_t h[VERITY_PART_HASH];
                        assert_int_equal(verity_part_hash((const uint8_t *) tdata +
                                                                  (lay.level_block[0] + i) * 4096 +
                                                                  p * VERITY_PART_SIZE,
                                                          h),
                                         0);
                        assert_memory_equal(h,
                                            pdata + i * VERITY_PARTS_ENTRY + p * VERITY_PART_HASH,
                                            VERITY_PART_HASH);
                }
}

static int setup(void **state) {
        return mkdtemp(workdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(workdir);
}

int main(void) {
        if (shell("command -v zstd >/dev/null") != 0) {
                fprintf(stderr, "zstd missing, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_frames_of_concatenated_zstd),
                cmocka_unit_test(test_frames_refuse_garbage),
                cmocka_unit_test(test_verity_parts),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
