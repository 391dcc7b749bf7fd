/* SPDX-License-Identifier: MIT */
#include "delta.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delta-index.h"
#include "delta-patch.h"
#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "hexuuid.h"
#include "log.h"
#include "macro.h"
#include "verity-tree.h"

#define HASH_SIZE 32
#define BLOCK VERITY_BLOCK_SIZE
#define SYNC_EVERY 8192u /* local copies between journal writes */

typedef struct IndexEntry {
        uint8_t hash[HASH_SIZE];
        uint64_t block;
} IndexEntry;

typedef struct Delta {
        const DeltaOptions *o;
        DeltaStats *st;
        VerityLeaves new;
        IndexEntry *index;
        size_t n_index;
        uint64_t n_base;
        uint8_t *base_leaves; /* the base's blocks' leaves under the new salt, in block order */
        uint8_t *done;        /* bitmap: block written to the work file and synced */
        size_t done_size;
        char *work, *journal;
        int base_fd, work_fd;
        uint64_t bad_block; /* a fetched block that did not match, + 1 (0: none) */
        uint64_t fetched_ranges, total_missing;
        bool tty;
} Delta;

static bool is_done(const Delta *d, uint64_t b) {
        return d->done[b / 8] & (1u << (b % 8));
}

static void set_done(Delta *d, uint64_t b, bool on) {
        if (on)
                d->done[b / 8] |= (uint8_t) (1u << (b % 8));
        else
                d->done[b / 8] &= (uint8_t) ~(1u << (b % 8));
}

static int cmp_entry(const void *a, const void *b) {
        return memcmp(a, b, HASH_SIZE);
}

static char *journal_header(const Delta *d) {
        return strdup_printf("berth-delta 1 %s %" PRIu64 "\n", d->o->key, d->new.blocks);
}

/* Written after the blocks it names are synced: it never names a block that
 * is not on disk. */
static int journal_save(Delta *d) {
        _cleanup_free_ char *h = journal_header(d), *buf = NULL;
        size_t hl;
        int r;

        if (!h)
                return -ENOMEM;
        if (fdatasync(d->work_fd) < 0)
                return error_wrapf(-errno, "syncing %s", d->work);
        hl = strlen(h);
        buf = malloc(hl + d->done_size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, h, hl);
        memcpy(buf + hl, d->done, d->done_size);
        r = write_file_atomic(d->journal, buf, hl + d->done_size, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", d->journal) : 0;
}

/* The bitmap of an earlier run for the same release; every block it names is
 * read back and checked (a journal is a hint, the leaves are the truth). */
static int journal_load(Delta *d) {
        _cleanup_free_ char *h = journal_header(d), *data = NULL;
        _cleanup_free_ uint8_t *buf = malloc(BLOCK);
        uint8_t hash[HASH_SIZE];
        size_t size, hl;
        int r;

        if (!h || !buf)
                return -ENOMEM;
        r = read_full_file(d->journal, &data, &size, d->done_size + 4096);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", d->journal);
        hl = strlen(h);
        if (size != hl + d->done_size || memcmp(data, h, hl) != 0) {
                log_info("delta: %s is for another release: starting over", d->journal);
                return 0;
        }
        memcpy(d->done, data + hl, d->done_size);
        for (uint64_t b = 0; b < d->new.blocks; b++) {
                if (!is_done(d, b))
                        continue;
                ssize_t k = pread(d->work_fd, buf, BLOCK, (off_t) (b * BLOCK));
                if (k != (ssize_t) BLOCK || verity_block_hash(&d->new, buf, hash) < 0 ||
                    memcmp(hash, d->new.leaves + b *HASH_SIZE, HASH_SIZE) != 0) {
                        set_done(d, b, false);
                        continue;
                }
                d->st->resumed++;
        }
        if (d->st->resumed > 0)
                log_info("delta: resuming: %" PRIu64 " of %" PRIu64
                         " blocks were written by an earlier run",
                         d->st->resumed, d->new.blocks);
        return 0;
}

/* An index of the base's blocks by their leaf under the new salt: the base's
 * own leaves when its salt is the same, else its blocks hashed anew. */
static int build_index(Delta *d) {
        const DeltaOptions *o = d->o;
        _cleanup_(verity_leaves_done) VerityLeaves base = {};
        int r;

        r = verity_leaves_read(o->base_path, o->base_verity_offset, o->base_data_size, &base);
        if (r < 0) {
                char why[256];
                snprintf(why, sizeof why, "%s", error_message(r));
                return error_setf(ENOMEDIUM, "%s has no usable hash tree (%s)", o->base_name, why);
        }
        d->index = calloc(base.blocks, sizeof(IndexEntry));
        d->base_leaves = malloc(base.blocks * HASH_SIZE);
        if (!d->index || !d->base_leaves)
                return -ENOMEM;
        d->n_base = base.blocks;
        bool same_salt = base.salt_size ==
                         d->new.salt_size &&memcmp(base.salt, d->new.salt, base.salt_size) == 0;
        _cleanup_free_ uint8_t *buf = same_salt ? NULL : malloc(BLOCK);
        if (!same_salt && !buf)
                return -ENOMEM;
        if (!same_salt)
                log_info("delta: %s has another verity salt: hashing its %" PRIu64 " blocks",
                         o->base_name, base.blocks);
        for (uint64_t b = 0; b < base.blocks; b++) {
                IndexEntry *e = &d->index[b];
                e->block = b;
                if (same_salt) {
                        memcpy(e->hash, base.leaves + b * HASH_SIZE, HASH_SIZE);
                        memcpy(d->base_leaves + b * HASH_SIZE, e->hash, HASH_SIZE);
                        continue;
                }
                ssize_t k =
                        pread(d->base_fd, buf, BLOCK, (off_t) (o->base_data_offset + b * BLOCK));
                if (k != (ssize_t) BLOCK)
                        return error_setf(ENOMEDIUM, "%s: cannot read block %" PRIu64, o->base_name,
                                          b);
                r = verity_block_hash(&d->new, buf, e->hash);
                if (r < 0)
                        return r;
                memcpy(d->base_leaves + b * HASH_SIZE, e->hash, HASH_SIZE);
                d->st->rehashed++;
        }
        d->n_index = base.blocks;
        qsort(d->index, d->n_index, sizeof(IndexEntry), cmp_entry);
        return 0;
}

static int write_block(Delta *d, uint64_t b, const uint8_t *data, size_t size) {
        for (size_t done = 0; done < size;) {
                ssize_t w =
                        pwrite(d->work_fd, data + done, size - done, (off_t) (b * BLOCK + done));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return error_wrapf(-errno, "writing %s", d->work);
                done += (size_t) w;
        }
        return 0;
}

/* Copies every block the base holds, each checked against the new leaf
 * after it is read. */
static int copy_local(Delta *d) {
        _cleanup_free_ uint8_t *buf = malloc(BLOCK);
        uint8_t hash[HASH_SIZE];
        unsigned since_sync = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (uint64_t b = 0; b < d->new.blocks; b++) {
                const uint8_t *leaf = d->new.leaves + b *HASH_SIZE;
                if (is_done(d, b))
                        continue;
                const IndexEntry *e =
                        bsearch(leaf, d->index, d->n_index, sizeof(IndexEntry), cmp_entry);
                if (!e)
                        continue;
                ssize_t k = pread(d->base_fd, buf, BLOCK,
                                  (off_t) (d->o->base_data_offset + e->block * BLOCK));
                if (k != (ssize_t) BLOCK || verity_block_hash(&d->new, buf, hash) < 0 ||
                    memcmp(hash, leaf, HASH_SIZE) != 0) {
                        if (d->st->damaged++ == 0)
                                log_info("delta: block %" PRIu64 " of %s does not match its "
                                         "hash: fetching instead",
                                         e->block, d->o->base_name);
                        continue;
                }
                r = write_block(d, b, buf, BLOCK);
                if (r < 0)
                        return r;
                set_done(d, b, true);
                d->st->reused++;
                if (++since_sync >= SYNC_EVERY) {
                        since_sync = 0;
                        r = journal_save(d);
                        if (r < 0)
                                return r;
                }
        }
        return journal_save(d);
}

static bool patch_want(void *userdata, uint64_t b) {
        return !is_done(userdata, b);
}

static int patch_put(void *userdata, uint64_t b, const uint8_t *data) {
        Delta *d = userdata;
        int r = write_block(d, b, data, BLOCK);
        if (r < 0)
                return r;
        set_done(d, b, true);
        return 0;
}

/* The missing blocks from the patch against the base, when the release has
 * one and it is smaller than they are. A patch that cannot be had or used is
 * said in one line; the ranges then fetch everything. */
static int use_patch(Delta *d) {
        const DeltaOptions *o = d->o;
        _cleanup_free_ char *partial = strdup_printf("%s.partial", o->patch_path);
        uint64_t missing = 0, had = 0;
        DeltaPatchStats ps = {};
        struct stat st;
        int r;

        if (!partial)
                return -ENOMEM;
        for (uint64_t b = 0; b < d->new.blocks; b++)
                missing += !is_done(d, b);
        if (missing * BLOCK <= o->patch_length) {
                log_info("delta: patch not used: the %" PRIu64 " missing blocks are fewer bytes "
                         "than the patch (%" PRIu64 ")",
                         missing, o->patch_length);
                return 0;
        }
        if (access(o->patch_path, F_OK) == 0)
                had = o->patch_length;
        else if (stat(partial, &st) == 0)
                had = (uint64_t) st.st_size;
        FetchItem it = { .url = o->patch_url,
                         .dest = o->patch_path,
                         .sha256 = o->patch_sha256,
                         .size = o->patch_length,
                         .stall_timeout = o->timeout };
        r = fetch_many(&it, 1, 1);
        if (access(o->patch_path, F_OK) == 0 && had < o->patch_length) {
                d->st->patch_fetched = o->patch_length - had;
                d->st->requests++;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_info("delta: patch not used: %s", it.error[0] ? it.error : strerror(-r));
                return 0;
        }
        DeltaPatch p = {
                .path = o->patch_path,
                .base_root_hash = o->patch_base_root_hash,
                .root_hash = o->root_hash,
                .base_fd = d->base_fd,
                .base_offset = o->base_data_offset,
                .base_size = o->base_data_size,
                .base_blocks = d->n_base,
                .leaves = &d->new,
                .want = patch_want,
                .put = patch_put,
                .userdata = d,
        };
        r = delta_patch_apply(&p, &ps);
        /* The patch is optional: whatever keeps it from being used leaves the
         * blocks to the ranges (which meet a failing disk again themselves). */
        if (r < 0 && r != -ENOMEM) {
                log_info("delta: patch not used: %s", error_message(r));
                error_clear();
                return 0;
        }
        if (r < 0)
                return r;
        d->st->patch_blocks = ps.written;
        d->st->patch_mismatched = ps.mismatched;
        if (ps.mismatched > 0)
                log_info("delta: %" PRIu64 " blocks from the patch do not match their hash "
                         "(a damaged %s?): fetching them instead",
                         ps.mismatched, o->base_name);
        return journal_save(d);
}

static int range_done(FetchRange *fr, void *userdata) {
        Delta *d = userdata;
        uint64_t first = fr->offset / BLOCK, n = fr->length / BLOCK;
        uint8_t hash[HASH_SIZE];
        int r;

        for (uint64_t i = 0; i < n; i++) {
                r = verity_block_hash(&d->new, fr->buf + i * BLOCK, hash);
                if (r < 0)
                        return r;
                if (memcmp(hash, d->new.leaves + (first + i) * HASH_SIZE, HASH_SIZE) != 0) {
                        log_debug("delta: fetched block %" PRIu64 " does not match its leaf",
                                  first + i);
                        d->bad_block = first + i + 1;
                        return 1; /* fetch it again; fetch_ranges gives up after its tries */
                }
        }
        r = write_block(d, first, fr->buf, fr->length);
        if (r < 0)
                return r;
        for (uint64_t i = 0; i < n; i++)
                set_done(d, first + i, true);
        r = journal_save(d);
        if (r < 0)
                return r;
        d->st->fetched += n;
        d->fetched_ranges++;
        if (d->tty)
                fprintf(stderr, "\rdelta: fetched %.1f/%.1f MiB",
                        (double) d->st->fetched * BLOCK / 1048576.0,
                        (double) d->total_missing * BLOCK / 1048576.0);
        return 0;
}

/* Runs of missing blocks, at most DELTA_RUN_BLOCKS each. */
static int plan_ranges(Delta *d, FetchRange **ret, size_t *ret_n) {
        _cleanup_free_ FetchRange *rs = NULL;
        size_t n = 0, cap = 0;

        for (uint64_t b = 0; b < d->new.blocks;) {
                if (is_done(d, b)) {
                        b++;
                        continue;
                }
                uint64_t e = b;
                while (e < d->new.blocks && !is_done(d, e) && e - b < DELTA_RUN_BLOCKS)
                        e++;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        FetchRange *t = reallocarray(rs, cap, sizeof *rs);
                        if (!t)
                                return -ENOMEM;
                        rs = t;
                }
                rs[n++] = (FetchRange){ .offset = b * BLOCK, .length = (e - b) * BLOCK };
                d->total_missing += e - b;
                b = e;
        }
        *ret = TAKE_PTR(rs);
        *ret_n = n;
        return 0;
}

/* ---- the release's hash tree, mostly from the base's leaves ---------------
 * The tree's upper levels (a few KiB) come first; then each block of leaves
 * (128 leaves, for 128 data blocks) is rebuilt from the base's leaves, as the
 * same 128 blocks at some shift (data that moved by whole blocks), and kept
 * only when its hash is the one the level above names. Blocks of leaves that
 * cannot be rebuilt so are fetched; their leaves tell the shifts of what
 * follows. Every upper level is checked up to the signed root hash first, so
 * each block of leaves is checked against trusted hashes. */

#define SHIFTS_MAX 8
#define PART_LEAVES (VERITY_PART_SIZE / HASH_SIZE)

typedef struct PartEntry {
        uint8_t hash[VERITY_PART_HASH];
        uint64_t block; /* the base block of the run's first leaf */
} PartEntry;

static int cmp_part(const void *a, const void *b) {
        return memcmp(a, b, VERITY_PART_HASH);
}

typedef struct Tree {
        Delta *d;
        VerityTreeLayout lay;
        uint8_t *upper; /* superblock and upper levels, as in the file */
        int fd;
        int64_t shifts[SHIFTS_MAX];
        size_t n_shifts;
        uint64_t fetched_bytes, requests, rebuilt, from_parts;
        const uint8_t *parts;  /* usr.verity.parts, or NULL */
        PartEntry *part_index; /* the base's runs of 16 leaves at every block, by hash */
        size_t n_part_index;
        uint8_t *page; /* the block of leaves being put together from parts */
} Tree;

static void shift_push(Tree *t, int64_t k) {
        size_t i;
        for (i = 0; i < t->n_shifts && t->shifts[i] != k; i++)
                ;
        if (i == t->n_shifts && t->n_shifts < SHIFTS_MAX)
                t->n_shifts++;
        if (i == t->n_shifts)
                i = t->n_shifts - 1;
        memmove(t->shifts + 1, t->shifts, i * sizeof(int64_t));
        t->shifts[0] = k;
}

/* The hash level 1 (or the root) gives block i of level `level`. */
static const uint8_t *expected(const Tree *t, int level, uint64_t i) {
        return t->upper + t->lay.level_block[level + 1] * BLOCK + i * HASH_SIZE;
}

static int check_upper(Tree *t, const uint8_t root[static HASH_SIZE]) {
        uint8_t h[HASH_SIZE];
        int top = t->lay.levels - 1, r;

        r = verity_block_hash(&t->d->new, t->upper + t->lay.level_block[top] * BLOCK, h);
        if (r < 0)
                return r;
        if (memcmp(h, root, HASH_SIZE) != 0)
                return error_setf(EBADMSG, "the release's hash tree does not match its signed "
                                           "root hash");
        for (int lv = top - 1; lv >= 1; lv--)
                for (uint64_t i = 0; i < t->lay.level_size[lv]; i++) {
                        r = verity_block_hash(&t->d->new,
                                              t->upper + (t->lay.level_block[lv] + i) * BLOCK, h);
                        if (r < 0)
                                return r;
                        if (memcmp(h, expected(t, lv, i), HASH_SIZE) != 0)
                                return error_setf(EBADMSG,
                                                  "block %" PRIu64 " of level %d of the "
                                                  "release's hash tree does not match",
                                                  i, lv);
                }
        return 0;
}

/* Block i of leaves as the base's leaves at shift k; 1 if its hash matches. */
static int rebuild(Tree *t, uint64_t i, int64_t k, uint8_t *out) {
        const Delta *d = t->d;
        uint8_t h[HASH_SIZE];
        int r;

        memset(out, 0, BLOCK);
        for (uint64_t j = 0; j < BLOCK / HASH_SIZE; j++) {
                uint64_t nb = i * (BLOCK / HASH_SIZE) + j;
                if (nb >= d->new.blocks)
                        break;
                int64_t bb = (int64_t) nb - k;
                if (bb < 0 || (uint64_t) bb >= d->n_base)
                        return 0;
                memcpy(out + j * HASH_SIZE, d->base_leaves + (uint64_t) bb * HASH_SIZE, HASH_SIZE);
        }
        r = verity_block_hash(&d->new, out, h);
        if (r < 0)
                return r;
        return memcmp(h, expected(t, 0, i), HASH_SIZE) == 0;
}

static int leaves_done(FetchRange *fr, void *userdata) {
        Tree *t = userdata;
        uint64_t i = fr->offset / BLOCK - t->lay.level_block[0];
        uint8_t h[HASH_SIZE];
        int r;

        r = verity_block_hash(&t->d->new, fr->buf, h);
        if (r < 0)
                return r;
        if (memcmp(h, expected(t, 0, i), HASH_SIZE) != 0) {
                t->d->bad_block = fr->offset / BLOCK + 1;
                return 1;
        }
        if (pwrite(t->fd, fr->buf, BLOCK, (off_t) fr->offset) != (ssize_t) BLOCK)
                return error_wrapf(-errno, "writing the hash tree");
        t->fetched_bytes += BLOCK;
        /* The shift of the last leaf the base has: what follows is likely there too. */
        for (uint64_t j = BLOCK / HASH_SIZE; j-- > 0;) {
                uint64_t nb = i * (BLOCK / HASH_SIZE) + j;
                if (nb >= t->d->new.blocks)
                        continue;
                const IndexEntry *e = bsearch(fr->buf + j * HASH_SIZE, t->d->index, t->d->n_index,
                                              sizeof(IndexEntry), cmp_entry);
                if (e) {
                        shift_push(t, (int64_t) nb - (int64_t) e->block);
                        break;
                }
        }
        return 0;
}

static int fetch_one(Tree *t, uint64_t offset, uint64_t length, fetch_range_done_t done) {
        FetchRange fr = { .offset = offset, .length = length };
        char err[512] = "";
        int r = fetch_ranges(t->d->o->verity_url, &fr, 1, 1, t->d->o->timeout, done, t, err,
                             sizeof err);
        t->requests += fr.tries;
        if (r < 0 && t->d->bad_block > 0 && r == -EBADMSG)
                return error_setf(EBADMSG,
                                  "block %" PRIu64 " of %s does not match the release's "
                                  "hash tree (refused after %u tries)",
                                  t->d->bad_block - 1, t->d->o->verity_url, FETCH_RANGE_TRIES);
        if (r < 0 && r != -ENOMEM && err[0])
                return error_setf(-r, "%s", err);
        return r;
}

static int upper_done(FetchRange *fr, void *userdata) {
        Tree *t = userdata;
        memcpy(t->upper, fr->buf, fr->length);
        t->fetched_bytes += fr->length;
        return 0;
}

/* Every run of 16 leaves of the base, at any block, by its truncated hash:
 * a part of a block of leaves that the base has anywhere, at any shift. */
static int build_part_index(Tree *t) {
        const Delta *d = t->d;
        if (d->n_base < PART_LEAVES)
                return 0;
        size_t n = d->n_base - PART_LEAVES + 1;
        t->part_index = calloc(n, sizeof(PartEntry));
        if (!t->part_index)
                return -ENOMEM;
        for (uint64_t b = 0; b < n; b++) {
                int r = verity_part_hash(d->base_leaves + b * HASH_SIZE, t->part_index[b].hash);
                if (r < 0)
                        return r;
                t->part_index[b].block = b;
        }
        t->n_part_index = n;
        qsort(t->part_index, n, sizeof(PartEntry), cmp_part);
        return 0;
}

static int part_done(FetchRange *fr, void *userdata) {
        Tree *t = userdata;
        uint64_t off = (fr->offset - t->lay.level_block[0] * BLOCK) % BLOCK;
        memcpy(t->page + off, fr->buf, fr->length);
        t->fetched_bytes += fr->length;
        return 0;
}

/* Block i of leaves from parts: those the base has (by the part hashes of
 * usr.verity.parts) copied, the rest fetched as ranges of usr.verity. 1 when
 * the block then matches the hash the level above names, 0 when not (a part
 * hash that lied, or a fetched part that did not arrive as published: the
 * caller fetches the whole block). */
static int rebuild_parts(Tree *t, uint64_t i) {
        const Delta *d = t->d;
        const uint8_t *hints = t->parts + i * VERITY_PARTS_ENTRY;
        FetchRange rs[VERITY_PARTS];
        size_t n = 0;
        uint8_t h[HASH_SIZE];
        char err[512] = "";
        int r;

        for (unsigned p = 0; p < VERITY_PARTS; p++) {
                uint64_t first = i * (BLOCK / HASH_SIZE) + p * PART_LEAVES;
                const PartEntry *e = NULL;
                if (first + PART_LEAVES <= d->new.blocks)
                        e = bsearch(hints + p * VERITY_PART_HASH, t->part_index, t->n_part_index,
                                    sizeof(PartEntry), cmp_part);
                if (e) {
                        memcpy(t->page + p * VERITY_PART_SIZE,
                               d->base_leaves + e->block * HASH_SIZE, VERITY_PART_SIZE);
                        continue;
                }
                if (first >= d->new.blocks) { /* past the last leaf: zeros */
                        memset(t->page + p * VERITY_PART_SIZE, 0, VERITY_PART_SIZE);
                        continue;
                }
                uint64_t off = (t->lay.level_block[0] + i) * BLOCK + p * VERITY_PART_SIZE;
                if (n > 0 && rs[n - 1].offset + rs[n - 1].length == off)
                        rs[n - 1].length += VERITY_PART_SIZE;
                else
                        rs[n++] = (FetchRange){ .offset = off, .length = VERITY_PART_SIZE };
        }
        if (n > 0) {
                r = fetch_ranges(d->o->verity_url, rs, n, 4, d->o->timeout, part_done, t, err,
                                 sizeof err);
                for (size_t k = 0; k < n; k++)
                        t->requests += rs[k].tries;
                if (r < 0 && r != -ENOMEM && err[0])
                        return error_setf(-r, "%s", err);
                if (r < 0)
                        return r;
        }
        r = verity_block_hash(&d->new, t->page, h);
        if (r < 0)
                return r;
        if (memcmp(h, expected(t, 0, i), HASH_SIZE) != 0) {
                log_debug("delta: block %" PRIu64 " of leaves does not match when put together "
                          "from parts: fetching it whole",
                          i);
                return 0;
        }
        /* The shift of the last leaf the base has, as for a fetched block. */
        for (uint64_t j = BLOCK / HASH_SIZE; j-- > 0;) {
                uint64_t nb = i * (BLOCK / HASH_SIZE) + j;
                if (nb >= d->new.blocks)
                        continue;
                const IndexEntry *e = bsearch(t->page + j * HASH_SIZE, d->index, d->n_index,
                                              sizeof(IndexEntry), cmp_entry);
                if (e) {
                        shift_push(t, (int64_t) nb - (int64_t) e->block);
                        break;
                }
        }
        return 1;
}

static int build_tree(Delta *d) {
        const DeltaOptions *o = d->o;
        _cleanup_free_ char *work = strdup_printf("%s.delta", o->verity_path);
        _cleanup_free_ uint8_t *buf = malloc(BLOCK);
        Tree t = { .d = d, .fd = -EBADF };
        _cleanup_free_ char *parts = NULL;
        size_t parts_size = 0;
        uint8_t root[HASH_SIZE];
        int r;

        if (!work || !buf)
                return -ENOMEM;
        verity_tree_layout(o->length / BLOCK, 0, &t.lay);
        if (t.lay.levels < 2 || t.lay.end_block * BLOCK != o->verity_length)
                return error_setf(ENOMEDIUM, "the release's hash tree is not laid out as "
                                             "expected");
        r = hex_decode(o->root_hash, root, sizeof root);
        if (r < 0)
                return r;
        uint64_t prefix = t.lay.level_block[0] * BLOCK;
        t.upper = malloc(prefix);
        if (!t.upper)
                return -ENOMEM;
        t.fd = open(work, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (t.fd < 0 || ftruncate(t.fd, (off_t) o->verity_length) < 0) {
                r = error_wrapf(-errno, "cannot create %s", work);
                goto out;
        }
        /* The upper levels, checked up to the root hash; an answer that does
         * not check out is fetched again, as the ranges are. */
        for (unsigned try = 1;; try++) {
                r = fetch_one(&t, 0, prefix, upper_done);
                if (r < 0)
                        goto out;
                if (pwrite(t.fd, t.upper, prefix, 0) != (ssize_t) prefix) {
                        r = error_wrapf(-errno, "cannot write %s", work);
                        goto out;
                }
                /* The salt and block count, from the superblock just written. */
                verity_leaves_done(&d->new);
                r = verity_leaves_read(work, 0, o->length, &d->new);
                if (r >= 0 && d->new.blocks * BLOCK != o->length)
                        r = error_setf(EBADMSG, "the release's hash tree is for another "
                                                "image size");
                if (r >= 0)
                        r = check_upper(&t, root);
                if (r >= 0)
                        break;
                if (r != -EBADMSG || try >= FETCH_RANGE_TRIES)
                        goto out;
                log_debug("delta: %s (fetching it again)", error_message(r));
                error_clear();
        }
        r = build_index(d);
        if (r < 0)
                goto out;
        if (o->parts_path) {
                r = read_full_file(o->parts_path, &parts, &parts_size, 64u << 20);
                if (r < 0) {
                        r = error_wrapf(r, "cannot read %s", o->parts_path);
                        goto out;
                }
                if (parts_size == t.lay.level_size[0] * VERITY_PARTS_ENTRY) {
                        t.parts = (const uint8_t *) parts;
                        t.page = malloc(BLOCK);
                        r = t.page ? build_part_index(&t) : -ENOMEM;
                        if (r < 0)
                                goto out;
                } else
                        log_info("delta: %s is not for this hash tree: not used", o->parts_path);
        }
        shift_push(&t, 0);
        for (uint64_t i = 0; i < t.lay.level_size[0]; i++) {
                int ok = 0;
                for (size_t s = 0; s < t.n_shifts && !ok; s++) {
                        ok = rebuild(&t, i, t.shifts[s], buf);
                        if (ok < 0) {
                                r = ok;
                                goto out;
                        }
                        if (ok > 0)
                                shift_push(&t, t.shifts[s]);
                }
                if (ok) {
                        t.rebuilt++;
                        if (pwrite(t.fd, buf, BLOCK,
                                   (off_t) ((t.lay.level_block[0] + i) * BLOCK)) !=
                            (ssize_t) BLOCK) {
                                r = error_wrapf(-errno, "cannot write %s", work);
                                goto out;
                        }
                        continue;
                }
                if (t.parts) {
                        ok = rebuild_parts(&t, i);
                        if (ok < 0) {
                                r = ok;
                                goto out;
                        }
                        if (ok > 0) {
                                t.from_parts++;
                                if (pwrite(t.fd, t.page, BLOCK,
                                           (off_t) ((t.lay.level_block[0] + i) * BLOCK)) !=
                                    (ssize_t) BLOCK) {
                                        r = error_wrapf(-errno, "cannot write %s", work);
                                        goto out;
                                }
                                continue;
                        }
                }
                r = fetch_one(&t, (t.lay.level_block[0] + i) * BLOCK, BLOCK, leaves_done);
                if (r < 0)
                        goto out;
        }
        if (fsync(t.fd) < 0 || rename(work, o->verity_path) < 0) {
                r = error_wrapf(-errno, "cannot put %s in place", o->verity_path);
                goto out;
        }
        d->st->tree_fetched = t.fetched_bytes;
        d->st->tree_rebuilt = t.rebuilt;
        d->st->tree_from_parts = t.from_parts;
        d->st->requests += t.requests;
        r = 0;
out:
        free(t.upper);
        free(t.page);
        free(t.part_index);
        safe_close(t.fd);
        if (r < 0)
                (void) unlink(work);
        return r;
}

int delta_assemble(const DeltaOptions *o, DeltaStats *ret) {
        _cleanup_free_ FetchRange *ranges = NULL;
        DeltaStats st = {};
        Delta d = { .o = o, .st = &st, .base_fd = -EBADF, .work_fd = -EBADF };
        char err[512] = "";
        size_t n_ranges = 0;
        int r;

        d.tty = isatty(STDERR_FILENO);
        d.base_fd = open(o->base_path, O_RDONLY | O_CLOEXEC);
        if (d.base_fd < 0) {
                r = error_setf(ENOMEDIUM, "cannot open %s: %m", o->base_path);
                goto out;
        }
        if (o->verity_url && access(o->verity_path, F_OK) < 0) {
                r = build_tree(&d);
                if (r < 0)
                        goto out;
                verity_leaves_done(&d.new);
        }
        r = verity_leaves_read(o->verity_path, 0, UINT64_MAX, &d.new);
        if (r < 0)
                goto out;
        if (d.new.blocks * BLOCK != o->length) {
                r = error_setf(ENOMEDIUM,
                               "the release's hash tree covers %" PRIu64
                               " bytes, its usr image has %" PRIu64,
                               d.new.blocks *BLOCK, o->length);
                goto out;
        }
        st.blocks = d.new.blocks;
        if (!d.index) {
                r = build_index(&d);
                if (r < 0)
                        goto out;
        }

        d.work = strdup_printf("%s.delta", o->dest);
        d.journal = strdup_printf("%s.delta-journal", o->dest);
        d.done_size = (d.new.blocks + 7) / 8;
        d.done = calloc(d.done_size, 1);
        if (!d.work || !d.journal || !d.done) {
                r = -ENOMEM;
                goto out;
        }
        r = mkdir_parents(o->dest, 0755);
        if (r < 0) {
                r = error_wrapf(r, "cannot create the directory of %s", o->dest);
                goto out;
        }
        d.work_fd = open(d.work, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (d.work_fd < 0 || ftruncate(d.work_fd, (off_t) o->length) < 0) {
                r = error_wrapf(-errno, "cannot create %s", d.work);
                goto out;
        }
        r = journal_load(&d);
        if (r < 0)
                goto out;
        r = copy_local(&d);
        if (r < 0)
                goto out;
        if (o->patch_url) {
                r = use_patch(&d);
                if (r < 0)
                        goto out;
        }
        r = plan_ranges(&d, &ranges, &n_ranges);
        if (r < 0)
                goto out;
        r = fetch_ranges(o->url, ranges, n_ranges, o->jobs ?: 4, o->timeout, range_done, &d, err,
                         sizeof err);
        for (size_t i = 0; i < n_ranges; i++)
                st.requests += ranges[i].tries;
        if (d.tty && d.fetched_ranges > 0)
                fputc('\n', stderr);
        if (r < 0) {
                if (d.bad_block > 0 && r == -EBADMSG)
                        r = error_setf(EBADMSG,
                                       "block %" PRIu64 " of %s does not match the release's "
                                       "hash tree (refused after %u tries)",
                                       d.bad_block - 1, o->url, FETCH_RANGE_TRIES);
                else if (r != -ENOMEM && err[0])
                        r = error_setf(-r, "%s", err);
                goto out;
        }
        if (fsync(d.work_fd) < 0 || rename(d.work, o->dest) < 0) {
                r = error_wrapf(-errno, "cannot put %s in place", o->dest);
                goto out;
        }
        (void) unlink(d.journal);
        if (o->patch_path) {
                _cleanup_free_ char *partial = strdup_printf("%s.partial", o->patch_path);
                (void) unlink(o->patch_path);
                if (partial)
                        (void) unlink(partial);
        }
        *ret = st;
        r = 0;
out:
        verity_leaves_done(&d.new);
        free(d.index);
        free(d.base_leaves);
        free(d.done);
        free(d.work);
        free(d.journal);
        safe_close(d.base_fd);
        safe_close(d.work_fd);
        return r;
}
