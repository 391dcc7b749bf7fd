/* SPDX-License-Identifier: MIT */
#include "initrd-delta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delta-index.h"
#include "digest.h"
#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

typedef struct Job {
        const InitrdDeltaOptions *o;
        InitrdDeltaStats *st;
        ZstdFrame *frames;
        size_t n;
        int fd;
        const char *work;
        uint64_t bad_offset; /* a fetched frame that did not match, + 1 */
} Job;

static int cmp_frame_hash(const void *a, const void *b) {
        return memcmp(((const ZstdFrame *) a)->sha256, ((const ZstdFrame *) b)->sha256, 32);
}

static int write_at(Job *j, const uint8_t *data, uint64_t size, uint64_t offset) {
        for (uint64_t done = 0; done < size;) {
                ssize_t w = pwrite(j->fd, data + done, size - done, (off_t) (offset + done));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return error_wrapf(-errno, "writing %s", j->work);
                done += (uint64_t) w;
        }
        return 0;
}

/* A fetched run of frames: every frame checked before any is written. */
static int range_done(FetchRange *fr, void *userdata) {
        Job *j = userdata;
        uint8_t h[32];
        int r;

        for (size_t i = 0; i < j->n; i++) {
                const ZstdFrame *f = &j->frames[i];
                if (f->offset < fr->offset || f->offset + f->length > fr->offset + fr->length)
                        continue;
                r = sha256_buffer(fr->buf + (f->offset - fr->offset), f->length, h);
                if (r < 0)
                        return r;
                if (memcmp(h, f->sha256, 32) != 0) {
                        j->bad_offset = f->offset + 1;
                        return 1;
                }
        }
        r = write_at(j, fr->buf, fr->length, fr->offset);
        if (r < 0)
                return r;
        j->st->fetched_bytes += fr->length;
        return 0;
}

int initrd_delta_assemble(const InitrdDeltaOptions *o, InitrdDeltaStats *ret) {
        _cleanup_free_ char *index = NULL, *base = NULL, *work = NULL;
        _cleanup_free_ ZstdFrame *frames = NULL, *have = NULL;
        _cleanup_free_ FetchRange *rs = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        InitrdDeltaStats st = {};
        size_t n, n_have = 0, index_size, base_size = 0, n_rs = 0;
        uint64_t biggest = 0;
        char err[512] = "";
        int r;

        r = read_full_file(o->frames_path, &index, &index_size, 16u << 20);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", o->frames_path);
        r = initrd_frames_parse((const uint8_t *) index, index_size, o->length, &frames, &n);
        if (r == -EBADMSG)
                return error_setf(ENOMEDIUM, "%s does not describe the release's initrd",
                                  o->frames_path);
        if (r < 0)
                return r;
        /* A running initrd of another shape (one frame, an older release)
         * only has nothing to give. */
        if (read_full_file(o->base_path, &base, &base_size, 1u << 30) >= 0 &&
            zstd_frames_scan((const uint8_t *) base, base_size, &have, &n_have) >= 0)
                qsort(have, n_have, sizeof(ZstdFrame), cmp_frame_hash);
        else
                n_have = 0;
        error_clear();

        work = strdup_printf("%s.delta", o->dest);
        rs = calloc(n ?: 1, sizeof(FetchRange));
        if (!work || !rs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                biggest = MAX(biggest, frames[i].length);
        buf = malloc(biggest ?: 1);
        if (!buf)
                return -ENOMEM;
        fd = open(work, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t) o->length) < 0)
                return error_wrapf(-errno, "cannot create %s", work);
        Job j = { .o = o, .st = &st, .frames = frames, .n = n, .fd = fd, .work = work };
        st.frames = n;
        for (size_t i = 0; i < n; i++) {
                const ZstdFrame *f = &frames[i];
                uint8_t h[32];
                /* Written by an earlier run? */
                if (pread(fd, buf, f->length, (off_t) f->offset) == (ssize_t) f->length &&
                    sha256_buffer(buf, f->length, h) >= 0 && memcmp(h, f->sha256, 32) == 0) {
                        st.resumed_bytes += f->length;
                        continue;
                }
                const ZstdFrame *b =
                        n_have ? bsearch(f, have, n_have, sizeof(ZstdFrame), cmp_frame_hash) : NULL;
                if (b) {
                        r = write_at(&j, (const uint8_t *) base + b->offset, f->length, f->offset);
                        if (r < 0)
                                return r;
                        st.reused_bytes += f->length;
                        continue;
                }
                if (n_rs > 0 && rs[n_rs - 1].offset + rs[n_rs - 1].length == f->offset)
                        rs[n_rs - 1].length += f->length;
                else
                        rs[n_rs++] = (FetchRange){ .offset = f->offset, .length = f->length };
        }
        r = fetch_ranges(o->url, rs, n_rs, 4, o->timeout, range_done, &j, err, sizeof err);
        for (size_t i = 0; i < n_rs; i++)
                st.requests += rs[i].tries;
        if (r < 0) {
                if (j.bad_offset > 0 && r == -EBADMSG)
                        return error_setf(EBADMSG,
                                          "the frame at byte %llu of %s does not match the "
                                          "release's initrd.frames (refused after %u tries)",
                                          (unsigned long long) (j.bad_offset - 1), o->url,
                                          FETCH_RANGE_TRIES);
                if (r != -ENOMEM && err[0])
                        return error_setf(-r, "%s", err);
                return r;
        }
        if (fsync(fd) < 0 || rename(work, o->dest) < 0)
                return error_wrapf(-errno, "cannot put %s in place", o->dest);
        *ret = st;
        return 0;
}
