/* SPDX-License-Identifier: MIT */
/* Service log files (logfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logfile.h"
#include "macro.h"

int logfile_name(char *buf, size_t size, const char *name, unsigned k) {
        int n = k == 0 ? snprintf(buf, size, "%s.log", name)
                       : snprintf(buf, size, "%s.log.%u", name, k);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

size_t logfile_stamp(char buf[static LOGFILE_STAMP_MAX], uint64_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / 1000000);
        struct tm tm;
        size_t n;

        if (!gmtime_r(&t, &tm))
                tm = (struct tm){ .tm_mday = 1, .tm_year = 70 };
        n = strftime(buf, LOGFILE_STAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t) snprintf(buf + n, LOGFILE_STAMP_MAX - n, ".%03uZ ",
                               (unsigned) (realtime_usec / 1000 % 1000));
        return n;
}

int logfile_rotate(int dirfd, const char *name, unsigned keep) {
        char from[LOGFILE_NAME_MAX], to[LOGFILE_NAME_MAX];
        int r;

        if (keep == 0) {
                r = logfile_name(from, sizeof from, name, 0);
                if (r < 0)
                        return r;
                return unlinkat(dirfd, from, 0) < 0 && errno != ENOENT ? -errno : 0;
        }
        /* Oldest first, so that no rename ever replaces a file still needed. */
        for (unsigned k = keep; k > 0; k--) {
                r = logfile_name(from, sizeof from, name, k - 1);
                if (r < 0)
                        return r;
                r = logfile_name(to, sizeof to, name, k);
                if (r < 0)
                        return r;
                if (renameat(dirfd, from, dirfd, to) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

int logfile_tail_offset(int fd, unsigned n, off_t *ret_offset, unsigned *ret_found) {
        char buf[4096];
        off_t end = lseek(fd, 0, SEEK_END), pos;
        unsigned found = 0;
        bool last = true; /* the byte at end - 1: its newline ends the last line */

        if (end < 0)
                return -errno;
        if (n == 0) {
                *ret_offset = end;
                *ret_found = 0;
                return 0;
        }
        for (pos = end; pos > 0;) {
                size_t chunk = (size_t) MIN((off_t) sizeof buf, pos);
                ssize_t k = pread(fd, buf, chunk, pos - (off_t) chunk);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if ((size_t) k != chunk)
                        return -EIO; /* truncated under us */
                pos -= (off_t) chunk;
                for (size_t i = chunk; i > 0; i--) {
                        if (buf[i - 1] != '\n') {
                                last = false;
                                continue;
                        }
                        if (last) {
                                last = false;
                                continue;
                        }
                        /* A newline that ends the line before a counted one. */
                        if (++found == n) {
                                *ret_offset = pos + (off_t) i;
                                *ret_found = found;
                                return 0;
                        }
                }
        }
        /* The first line of the file has no newline before it. */
        *ret_offset = 0;
        *ret_found = end > 0 ? found + 1 : 0;
        return 0;
}

/* Appends fd's content from offset to its end to *buf. */
static int append_from(int fd, off_t offset, char **buf, size_t *size) {
        off_t end = lseek(fd, 0, SEEK_END);
        size_t want;
        char *n;

        if (end < 0)
                return -errno;
        if (end <= offset)
                return 0;
        want = (size_t) (end - offset);
        n = realloc(*buf, *size + want + 1);
        if (!n)
                return -ENOMEM;
        *buf = n;
        for (size_t got = 0; got < want;) {
                ssize_t k = pread(fd, n + *size + got, want - got, offset + (off_t) got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0) {
                        want = got;
                        break;
                }
                got += (size_t) k;
        }
        *size += want;
        n[*size] = 0;
        return 0;
}

int logfile_open_tail(int dirfd, const char *name, unsigned n, int *ret_fd, char **ret_head,
                      size_t *ret_head_size) {
        _cleanup_close_ int live = -EBADF;
        _cleanup_free_ char *head = NULL;
        size_t head_size = 0;
        char file[LOGFILE_NAME_MAX];
        int fds[LOGFILE_KEEP_MAX + 1];
        off_t offsets[LOGFILE_KEEP_MAX + 1];
        unsigned k, used = 0, left = n;
        int r = 0;

        /* Newest first, until n lines are found or the files run out. */
        for (k = 0; k <= LOGFILE_KEEP_MAX && (left > 0 || k == 0); k++) {
                unsigned found;

                r = logfile_name(file, sizeof file, name, k);
                if (r < 0)
                        break;
                fds[k] = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
                if (fds[k] < 0) {
                        r = errno == ENOENT ? 0 : -errno;
                        if (k == 0 && r == 0)
                                continue; /* rotated files without a live one yet */
                        break;
                }
                used = k + 1;
                r = logfile_tail_offset(fds[k], left, &offsets[k], &found);
                if (r < 0)
                        break;
                left -= found;
        }
        if (r >= 0 && used == 0 && k > 0 && fds[0] < 0)
                r = -ENOENT;
        /* Oldest first into the head; the live file stays open. */
        for (unsigned i = used; i > 1 && r >= 0; i--)
                r = append_from(fds[i - 1], offsets[i - 1], &head, &head_size);
        if (r >= 0 && used > 0 && fds[0] >= 0) {
                if (lseek(fds[0], offsets[0], SEEK_SET) < 0)
                        r = -errno;
                else
                        live = fds[0], fds[0] = -EBADF;
        }
        for (unsigned i = 0; i < used; i++)
                safe_close(fds[i]);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(live);
        if (*ret_fd < 0)
                *ret_fd = -EBADF;
        *ret_head = TAKE_PTR(head);
        *ret_head_size = head_size;
        return 0;
}
