/* SPDX-License-Identifier: MIT */
/* Service output to rotated log files off PID 1's loop (logsink.h). */
#include "logsink.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "initctl.h"
#include "logfile.h"
#include "macro.h"

/* What the writer takes from the ring at once, and what it writes at once. */
#define BATCH_MAX ((size_t) 32 * 1024)
#define OUT_MAX ((size_t) 32 * 1024)
#define DIR_RETRY_SEC 1

typedef struct Record {
        uint32_t stream;
        uint32_t len;
        uint64_t usec; /* CLOCK_REALTIME when PID 1 read it */
} Record;

typedef struct LogStream {
        char name[SERVICE_NAME_MAX];
        uint64_t max_size;
        unsigned keep;
        int read_fd, write_fd;
        /* PID 1's side: the line being cut. */
        char line[LOGFILE_LINE_MAX];
        size_t len;
        uint64_t dropped; /* ring full; under the lock */
        /* The writer's side. */
        int fd;
        uint64_t size;
        uint64_t unreported; /* dropped lines not yet written as a marker */
        uint64_t lost;       /* lines a write failed for */
        int lost_errno;
} LogStream;

struct LogSink {
        char dir[PATH_MAX];
        LogStream *streams;
        size_t n;

        pthread_mutex_t lock;
        pthread_cond_t work; /* the writer waits for lines or quit */
        pthread_cond_t idle; /* logsink_stop() waits for the writer */
        uint8_t *ring;
        size_t ring_size, head, used;
        bool drops_pending, quit, done, started, stopped, abandoned;
        uint64_t dropped_total;
        pthread_t thread;

        /* The writer's own. */
        int dir_fd;
        uint8_t *batch;
        char *out;
        size_t out_len, out_lines, out_markers;
        uint64_t out_unreported, out_lost; /* what the markers in out report */
        ssize_t out_stream;
};

int logsink_new(const char *dir, size_t n, size_t ring_size, LogSink **ret) {
        _cleanup_free_ LogSink *s = calloc(1, sizeof *s);
        pthread_condattr_t attr;

        if (!s)
                return -ENOMEM;
        if (strlen(dir) >= sizeof s->dir)
                return -ENAMETOOLONG;
        if (ring_size < sizeof(Record) + LOGFILE_LINE_MAX)
                return -EINVAL;
        strcpy(s->dir, dir);
        s->n = n;
        s->ring_size = ring_size;
        s->dir_fd = -EBADF;
        s->out_stream = -1;
        s->streams = calloc(MAX(n, (size_t) 1), sizeof *s->streams);
        s->ring = malloc(ring_size);
        s->batch = malloc(BATCH_MAX);
        s->out = malloc(OUT_MAX);
        if (!s->streams || !s->ring || !s->batch || !s->out) {
                free(s->streams);
                free(s->ring);
                free(s->batch);
                free(s->out);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                s->streams[i].read_fd = s->streams[i].write_fd = s->streams[i].fd = -EBADF;
        (void) pthread_mutex_init(&s->lock, NULL);
        (void) pthread_condattr_init(&attr);
        (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void) pthread_cond_init(&s->work, &attr);
        (void) pthread_cond_init(&s->idle, &attr);
        (void) pthread_condattr_destroy(&attr);
        *ret = TAKE_PTR(s);
        return 0;
}

int logsink_add_lines(LogSink *s, size_t idx, const char *name, uint64_t max_size, unsigned keep) {
        LogStream *st;

        if (idx >= s->n || strlen(name) >= sizeof st->name || max_size < LOGFILE_SIZE_MIN ||
            keep > LOGFILE_KEEP_MAX)
                return -EINVAL;
        st = &s->streams[idx];
        strcpy(st->name, name);
        st->max_size = max_size;
        st->keep = keep;
        return 0;
}

int logsink_add(LogSink *s, size_t idx, const char *name, uint64_t max_size, unsigned keep) {
        LogStream *st;
        int p[2];
        int r = logsink_add_lines(s, idx, name, max_size, keep);

        if (r < 0)
                return r;
        st = &s->streams[idx];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                (void) close(p[0]);
                (void) close(p[1]);
                return r;
        }
        safe_close(st->read_fd);
        safe_close(st->write_fd);
        st->read_fd = p[0];
        st->write_fd = p[1];
        return 0;
}

int logsink_write_fd(const LogSink *s, size_t idx) {
        return s && idx < s->n ? s->streams[idx].write_fd : -EBADF;
}

int logsink_read_fd(const LogSink *s, size_t idx) {
        return s && idx < s->n ? s->streams[idx].read_fd : -EBADF;
}

ssize_t logsink_stream_of(const LogSink *s, int fd) {
        if (!s || fd < 0)
                return -ENOENT;
        for (size_t i = 0; i < s->n; i++)
                if (s->streams[i].read_fd == fd)
                        return (ssize_t) i;
        return -ENOENT;
}

uint64_t logsink_dropped(LogSink *s) {
        uint64_t d;

        pthread_mutex_lock(&s->lock);
        d = s->dropped_total;
        pthread_mutex_unlock(&s->lock);
        return d;
}

/* ---- the ring (under the lock) ---- */

static void ring_put(LogSink *s, const void *data, size_t len) {
        size_t tail = (s->head + s->used) % s->ring_size;
        size_t first = MIN(len, s->ring_size - tail);

        memcpy(s->ring + tail, data, first);
        memcpy(s->ring, (const uint8_t *) data + first, len - first);
        s->used += len;
}

static void ring_get(LogSink *s, void *data, size_t len) {
        size_t first = MIN(len, s->ring_size - s->head);

        memcpy(data, s->ring + s->head, first);
        memcpy((uint8_t *) data + first, s->ring, len - first);
        s->head = (s->head + len) % s->ring_size;
        s->used -= len;
}

/* PID 1's side: one line into the ring, or counted as dropped. */
static void queue_line(LogSink *s, size_t idx, const char *data, size_t len, uint64_t usec) {
        Record h = { .stream = (uint32_t) idx, .len = (uint32_t) len, .usec = usec };

        pthread_mutex_lock(&s->lock);
        if (s->ring_size - s->used < sizeof h + len) {
                s->streams[idx].dropped++;
                s->dropped_total++;
                s->drops_pending = true;
        } else {
                bool was_empty = s->used == 0;
                ring_put(s, &h, sizeof h);
                ring_put(s, data, len);
                if (was_empty)
                        pthread_cond_signal(&s->work);
        }
        pthread_mutex_unlock(&s->lock);
}

static uint64_t realtime_usec(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void logsink_queue(LogSink *s, size_t idx, const char *line, size_t len) {
        uint64_t usec = realtime_usec();

        if (idx >= s->n || !s->streams[idx].name[0])
                return;
        do {
                size_t k = MIN(len, (size_t) LOGFILE_LINE_MAX);
                queue_line(s, idx, line, k, usec);
                line += k;
                len -= k;
        } while (len > 0);
}

ssize_t logsink_read(LogSink *s, size_t idx) {
        LogStream *st;
        char buf[4096];
        ssize_t n;
        uint64_t usec;

        if (idx >= s->n || s->streams[idx].read_fd < 0)
                return -EBADF;
        st = &s->streams[idx];
        n = read(st->read_fd, buf, sizeof buf);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        usec = realtime_usec();
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] != '\n')
                        st->line[st->len++] = buf[i];
                if (buf[i] == '\n' || st->len == sizeof st->line) {
                        queue_line(s, idx, st->line, st->len, usec);
                        st->len = 0;
                }
        }
        return n;
}

/* ---- the writer thread ---- */

static int stream_open(LogSink *s, LogStream *st) {
        char file[LOGFILE_NAME_MAX];
        struct stat sb;
        int r;

        r = logfile_name(file, sizeof file, st->name, 0);
        if (r < 0)
                return r;
        st->fd = openat(s->dir_fd, file,
                        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        if (st->fd < 0)
                return -errno;
        if (fstat(st->fd, &sb) < 0) {
                r = -errno;
                st->fd = safe_close(st->fd);
                return r;
        }
        st->size = (uint64_t) sb.st_size;
        return 0;
}

static size_t count_lines(const char *p, size_t len) {
        size_t n = 0;
        for (const char *e = p + len; (p = memchr(p, '\n', (size_t) (e - p))); p++)
                n++;
        return n;
}

/* Writes the collected lines of one stream: what fits into the file's
 * size, cut at a line, then the file is rotated and the rest goes into the
 * new one. A failure loses the rest, counted. */
static void out_flush(LogSink *s) {
        LogStream *st;
        size_t off = 0;
        int r = 0;

        if (s->out_stream < 0 || s->out_len == 0) {
                s->out_stream = -1;
                return;
        }
        st = &s->streams[s->out_stream];
        while (off < s->out_len && r >= 0) {
                size_t chunk = s->out_len - off;

                if (st->fd < 0)
                        r = stream_open(s, st);
                if (r < 0)
                        break;
                if (st->size + chunk > st->max_size) {
                        /* The lines that still fit; none: rotate first. */
                        size_t room =
                                st->size < st->max_size ? (size_t) (st->max_size - st->size) : 0;
                        const char *nl = room > 0 ? memrchr(s->out + off, '\n', room) : NULL;
                        chunk = nl ? (size_t) (nl - (s->out + off)) + 1 : 0;
                        if (chunk == 0 && st->size == 0)
                                chunk = s->out_len - off; /* one line larger than a file */
                }
                if (chunk > 0) {
                        r = loop_write(st->fd, s->out + off, chunk);
                        if (r < 0)
                                break;
                        st->size += chunk;
                        off += chunk;
                }
                if (off < s->out_len) {
                        st->fd = safe_close(st->fd);
                        r = logfile_rotate(s->dir_fd, st->name, st->keep);
                }
        }
        if (r < 0) {
                /* A full or broken /var: lose the rest, count it (the
                 * markers' counts are reported again if they were not
                 * written), and find out the file's size again next time. */
                size_t lines = count_lines(s->out + off, s->out_len - off);
                if (off == 0) {
                        st->unreported += s->out_unreported;
                        st->lost += s->out_lost;
                        lines -= s->out_markers;
                }
                st->lost += lines;
                st->lost_errno = -r;
                st->fd = safe_close(st->fd);
        }
        s->out_len = s->out_lines = s->out_markers = 0;
        s->out_unreported = s->out_lost = 0;
        s->out_stream = -1;
}

static void out_line(LogSink *s, uint64_t usec, const char *text, size_t len) {
        char stamp[LOGFILE_STAMP_MAX];
        size_t k = logfile_stamp(stamp, usec);

        memcpy(s->out + s->out_len, stamp, k);
        memcpy(s->out + s->out_len + k, text, len);
        s->out[s->out_len + k + len] = '\n';
        s->out_len += k + len + 1;
        s->out_lines++;
}

/* Makes the buffer hold lines of stream idx with room for len more bytes,
 * starting it with the count of lines lost since the last write. */
static void out_begin(LogSink *s, size_t idx, size_t len) {
        LogStream *st = &s->streams[idx];
        size_t limit = (size_t) MIN((uint64_t) OUT_MAX, st->max_size);
        char marker[128];

        if (s->out_stream != (ssize_t) idx || s->out_len + LOGFILE_STAMP_MAX + len + 1 > limit)
                out_flush(s);
        if (s->out_stream == (ssize_t) idx)
                return;
        s->out_stream = (ssize_t) idx;
        if (st->unreported > 0) {
                int k = snprintf(marker, sizeof marker,
                                 "berth-init: %" PRIu64 " lines dropped (log buffer full)",
                                 st->unreported);
                out_line(s, realtime_usec(), marker, (size_t) k);
                s->out_markers++;
                s->out_unreported = st->unreported;
                st->unreported = 0;
        }
        if (st->lost > 0) {
                int k = snprintf(marker, sizeof marker,
                                 "berth-init: %" PRIu64 " lines dropped (cannot write: %s)",
                                 st->lost, strerrordesc_np(st->lost_errno) ?: "error");
                out_line(s, realtime_usec(), marker, (size_t) k);
                s->out_markers++;
                s->out_lost = st->lost;
                st->lost = 0;
        }
}

static void write_batch(LogSink *s, size_t size) {
        for (size_t off = 0; off < size;) {
                Record h;

                memcpy(&h, s->batch + off, sizeof h);
                off += sizeof h;
                out_begin(s, h.stream, h.len);
                out_line(s, h.usec, (const char *) s->batch + off, h.len);
                off += h.len;
        }
        /* Streams that only dropped lines get their marker now. */
        for (size_t i = 0; i < s->n; i++)
                if (s->streams[i].unreported > 0 || s->streams[i].lost > 0)
                        out_begin(s, i, 0);
        out_flush(s);
}

static void writer_wait(LogSink *s, unsigned sec) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += sec;
        (void) pthread_cond_timedwait(&s->work, &s->lock, &ts);
}

static void *writer_main(void *userdata) {
        LogSink *s = userdata;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                size_t size = 0;

                if (s->dir_fd < 0) {
                        pthread_mutex_unlock(&s->lock);
                        s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        pthread_mutex_lock(&s->lock);
                        if (s->dir_fd < 0) {
                                /* Early boot: keep what the ring holds. */
                                if (s->quit)
                                        break;
                                writer_wait(s, DIR_RETRY_SEC);
                                continue;
                        }
                        /* Every service has a log file, if only an empty one. */
                        pthread_mutex_unlock(&s->lock);
                        for (size_t i = 0; i < s->n; i++)
                                if (s->streams[i].name[0] && s->streams[i].fd < 0)
                                        (void) stream_open(s, &s->streams[i]);
                        pthread_mutex_lock(&s->lock);
                }
                if (s->used == 0 && !s->drops_pending) {
                        if (s->quit)
                                break;
                        pthread_cond_wait(&s->work, &s->lock);
                        continue;
                }
                while (s->used > 0) {
                        Record h;
                        size_t first = MIN(sizeof h, s->ring_size - s->head);

                        memcpy(&h, s->ring + s->head, first);
                        memcpy((uint8_t *) &h + first, s->ring, sizeof h - first);
                        if (size + sizeof h + h.len > BATCH_MAX)
                                break;
                        ring_get(s, s->batch + size, sizeof h + h.len);
                        size += sizeof h + h.len;
                }
                for (size_t i = 0; i < s->n; i++) {
                        s->streams[i].unreported += s->streams[i].dropped;
                        s->streams[i].dropped = 0;
                }
                s->drops_pending = false;
                pthread_mutex_unlock(&s->lock);
                write_batch(s, size);
                pthread_mutex_lock(&s->lock);
        }
        s->done = true;
        pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int logsink_start(LogSink *s) {
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        if (s->started)
                return 0;
        /* The thread takes no signals: they are PID 1's signalfd's. */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &old);
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        r = -pthread_create(&s->thread, &attr, writer_main, s);
        (void) pthread_attr_destroy(&attr);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        s->started = true;
        return 0;
}

int logsink_stop(LogSink *s, uint64_t timeout_usec) {
        struct timespec ts;
        int r = 0;

        if (!s || s->stopped)
                return s && s->abandoned ? -ETIMEDOUT : 0;
        s->stopped = true;
        for (size_t i = 0; i < s->n; i++) {
                LogStream *st = &s->streams[i];
                if (st->read_fd < 0)
                        continue;
                for (unsigned k = 0; k < 64 && logsink_read(s, i) > 0; k++)
                        ;
                if (st->len > 0)
                        queue_line(s, i, st->line, st->len, realtime_usec());
                st->len = 0;
        }
        if (!s->started)
                return 0;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t) (timeout_usec / 1000000u);
        ts.tv_nsec += (long) (timeout_usec % 1000000u) * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->lock);
        s->quit = true;
        pthread_cond_signal(&s->work);
        while (!s->done && r == 0)
                r = -pthread_cond_timedwait(&s->idle, &s->lock, &ts);
        pthread_mutex_unlock(&s->lock);
        if (!s->done) {
                /* Stuck on a dead disk: leave it; its memory stays. */
                (void) pthread_detach(s->thread);
                s->abandoned = true;
                return -ETIMEDOUT;
        }
        (void) pthread_join(s->thread, NULL);
        return 0;
}

LogSink *logsink_free(LogSink *s) {
        if (!s)
                return NULL;
        if (logsink_stop(s, 2 * 1000000u) == -ETIMEDOUT)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                safe_close(s->streams[i].read_fd);
                safe_close(s->streams[i].write_fd);
                safe_close(s->streams[i].fd);
        }
        safe_close(s->dir_fd);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->work);
        pthread_cond_destroy(&s->idle);
        free(s->streams);
        free(s->ring);
        free(s->batch);
        free(s->out);
        free(s);
        return NULL;
}
