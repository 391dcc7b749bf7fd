/* SPDX-License-Identifier: MIT */
/* logsink.h: services' output into size-bounded, rotated log files
 * (src/shared/logfile.h) without ever blocking PID 1.
 *
 * Each stream (one per service) is a pipe: the service's stdout and stderr
 * are its write end, which the sink keeps open across restarts. PID 1 reads
 * the read end, non-blocking, from its event loop (logsink_read()), cuts the
 * bytes into lines stamped with the time they arrived and copies them into
 * one ring of fixed size. A writer thread takes them from the ring and
 * appends them to DIR/NAME.log, rotating the files. PID 1 only ever takes
 * the ring's lock for a memcpy: a slow disk stalls the writer thread, never
 * supervision. When the ring is full, lines are dropped and counted, and the
 * writer puts "berth-init: N lines dropped" into the file once it catches
 * up; lines lost to a failed write (a full /var) are counted the same way.
 * While DIR cannot be opened (early boot, /var not there yet) lines wait in
 * the ring and are written once it can, checked every second.
 *
 * Everything is allocated by logsink_new() and logsink_add(); the steady
 * state allocates nothing. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The ring's size: lines that wait for the writer (or for DIR). */
#define LOGSINK_RING_DEFAULT ((size_t) 256 * 1024)

typedef struct LogSink LogSink;

/* A sink for up to n streams writing into dir; ring_size bytes of ring. */
int logsink_new(const char *dir, size_t n, size_t ring_size, LogSink **ret);

/* Stops the writer (logsink_stop()) and frees everything. Accepts NULL. */
LogSink *logsink_free(LogSink *s);

/* Makes stream idx (< n) for service name: a pipe, its logs at most
 * max_size bytes per file with keep rotated files (logfile.h). */
int logsink_add(LogSink *s, size_t idx, const char *name, uint64_t max_size, unsigned keep);

/* Makes stream idx a stream without a pipe, whose lines come through
 * logsink_queue() (the kernel audit records). */
int logsink_add_lines(LogSink *s, size_t idx, const char *name, uint64_t max_size, unsigned keep);

/* Queues one line (without its newline; cut into lines of at most
 * LOGFILE_LINE_MAX) for stream idx, stamped now. */
void logsink_queue(LogSink *s, size_t idx, const char *line, size_t len);

/* The write end of stream idx, for a child's stdout/stderr; -EBADF if the
 * stream was not added. */
int logsink_write_fd(const LogSink *s, size_t idx);

/* The read end of stream idx (for epoll); -EBADF if none. */
int logsink_read_fd(const LogSink *s, size_t idx);

/* The stream whose read end is fd, or -ENOENT. */
ssize_t logsink_stream_of(const LogSink *s, int fd);

/* Reads what stream idx has (one read() of at most 4 KiB, non-blocking) and
 * queues its complete lines. Returns the bytes read, 0 if none. */
ssize_t logsink_read(LogSink *s, size_t idx);

/* Starts the writer thread. */
int logsink_start(LogSink *s);

/* Reads what the pipes still hold, queues partial lines, and waits up to
 * timeout_usec for the writer to write everything; then the writer is told
 * to end. Returns -ETIMEDOUT if it did not finish in time (it is left
 * behind, detached). Idempotent. */
int logsink_stop(LogSink *s, uint64_t timeout_usec);

/* Lines dropped so far because the ring was full (tests). */
uint64_t logsink_dropped(LogSink *s);
