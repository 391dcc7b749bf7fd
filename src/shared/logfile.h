/* SPDX-License-Identifier: MIT */
/* logfile.h: berth's service log files, the rules both sides agree on
 * (docs/services.md, "Logs"). berth-init writes DIR/NAME.log, one line per
 * line of output, each "2026-11-26T15:39:06.123Z text"; once the next write
 * would take it past its size it becomes NAME.log.1, the old .1 becomes .2,
 * and so on up to NAME.log.KEEP; the oldest goes. A service's logs take at
 * most (KEEP + 1) x SIZE bytes. berthd reads the last lines across the
 * files. libc only; nothing here allocates but logfile_open_tail(). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LOGFILE_SIZE_DEFAULT ((uint64_t) 1024 * 1024)
#define LOGFILE_SIZE_MIN ((uint64_t) 4096)
#define LOGFILE_SIZE_MAX ((uint64_t) 1024 * 1024 * 1024)
#define LOGFILE_KEEP_DEFAULT 3u
#define LOGFILE_KEEP_MAX 16u
/* Longer lines are cut; the rest follows as the next line. */
#define LOGFILE_LINE_MAX 2048u
/* A log file's name: a service name (SERVICE_NAME_MAX) + ".log.16". */
#define LOGFILE_NAME_MAX 96u
/* "2026-11-26T15:39:06.123Z " and its NUL. */
#define LOGFILE_STAMP_MAX 32u

/* "NAME.log" (k = 0) or "NAME.log.K" into buf. -ENAMETOOLONG if it does
 * not fit. */
int logfile_name(char *buf, size_t size, const char *name, unsigned k);

/* The time stamp that starts a line, with its trailing space; returns its
 * length. */
size_t logfile_stamp(char buf[static LOGFILE_STAMP_MAX], uint64_t realtime_usec);

/* Renames NAME.log.(keep-1) to NAME.log.keep, ..., NAME.log to NAME.log.1
 * in dirfd; the old NAME.log.keep is gone. keep = 0 removes NAME.log.
 * Missing files are fine. */
int logfile_rotate(int dirfd, const char *name, unsigned keep);

/* Where the last n lines of the open file fd start (a trailing partial
 * line counts as one). Sets *ret_found to the lines found, fewer than n if
 * the file holds fewer (then the offset is 0). */
int logfile_tail_offset(int fd, unsigned n, off_t *ret_offset, unsigned *ret_found);

/* The last n lines of NAME's log in dirfd, across the rotated files: the
 * lines from NAME.log.K (oldest first) in *ret_head (malloc()ed, may be
 * NULL with size 0), and NAME.log itself opened and positioned at its part
 * in *ret_fd (-EBADF if there is no NAME.log). -ENOENT if NAME has no log
 * file at all. */
int logfile_open_tail(int dirfd, const char *name, unsigned n, int *ret_fd, char **ret_head,
                      size_t *ret_head_size);
