/* SPDX-License-Identifier: MIT */
/* fileio.h: whole-file reads, crash-safe writes, directory helpers. Needs only
 * libc. Returned buffers are owned by the caller (free()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Read a whole file (at most max bytes, 0 = 64 MiB) into a NUL-terminated
 * buffer. */
int read_full_file(const char *path, char **ret_data, size_t *ret_size, size_t max);

/* Write data to path crash-safely: temp name in the same directory, fsync,
 * rename, fsync the directory. Mode applies to the new file. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);

/* Write a string to an existing file (sysfs, cgroupfs, /proc). */
int write_string_file(const char *path, const char *s);

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);
/* mkdir -p of the parent directory of path. */
int mkdir_parents(const char *path, mode_t mode);

/* rm -rf, never crossing into other file systems. Missing path is fine. */
int rm_rf(const char *path);

/* fsync a directory by path. */
int fsync_directory(const char *path);

/* write() all of data, retrying on EINTR and short writes. */
int loop_write(int fd, const void *data, size_t size);

/* Copy everything from in (to its end) to out. */
int copy_fd(int in, int out);

/* Copy a regular file (data and mode). */
int copy_file(const char *from, const char *to, mode_t mode);

/* Join paths: a + "/" + b, collapsing duplicate slashes at the seam. Returns
 * NULL on OOM. */
char *path_join(const char *a, const char *b);

/* True if the relative path has no ".." component and is not absolute after
 * stripping leading "./" and "/". Used to confine archive members. */
bool path_is_safe_relative(const char *p);

/* asprintf that returns NULL on failure instead of an undefined pointer. */
char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* poll()s fd for events up to timeout_ms (retrying on EINTR). 0 when ready,
 * -ETIMEDOUT, or another negative errno. */
int fd_wait(int fd, short events, int timeout_ms);
