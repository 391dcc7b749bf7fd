/* SPDX-License-Identifier: MIT */
/* Downloads (fetch.h) on berth's own HTTP client (http-client.h): a pool of
 * threads, each with its own kept-alive connection. */
#include "fetch.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "http-client.h"
#include "http-parse.h"
#include "log.h"

#define FETCH_DEFAULT_JOBS 4u
#define FETCH_MAX_TRIES 3

typedef struct Progress {
        pthread_mutex_t lock;
        size_t next; /* the next entry of todo to start */
        size_t done, total;
        uint64_t bytes;    /* bytes received in this run */
        uint64_t expected; /* sum of the known sizes still to fetch */
        bool tty;
        struct timespec last;
        size_t last_logged;
} Progress;

/* One download in progress: where its bytes go. */
typedef struct Transfer {
        FetchItem *item;
        const char *partial;
        int fd;
        uint64_t have;    /* bytes in the partial file before this body */
        uint64_t written; /* bytes of this body */
        int write_errno;  /* why writing the partial file failed */
        Progress *pg;
} Transfer;

typedef struct Pool {
        FetchItem *items;
        size_t *todo;
        Progress pg;
} Pool;

static void progress_show(Progress *p, bool final) {
        if (p->total < 2)
                return;
        if (p->tty) {
                struct timespec now;
                (void) clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (now.tv_sec - p->last.tv_sec) * 1000 +
                          (now.tv_nsec - p->last.tv_nsec) / 1000000;
                if (!final && ms < 250)
                        return;
                p->last = now;
                fprintf(stderr, "\rfetch: %zu/%zu, %.1f/%.1f MiB%s", p->done, p->total,
                        (double) p->bytes / (1024.0 * 1024.0),
                        (double) p->expected / (1024.0 * 1024.0), final ? "\n" : "");
                fflush(stderr);
        } else if (final || p->done >= p->last_logged + 10) {
                p->last_logged = p->done;
                fprintf(stderr, "fetch: %zu/%zu, %.1f MiB\n", p->done, p->total,
                        (double) p->bytes / (1024.0 * 1024.0));
        }
}

static void item_fail(FetchItem *it, int r, const char *fmt, ...) _printf_(3, 4);
static void item_fail(FetchItem *it, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(it->error, sizeof it->error, fmt, ap);
        va_end(ap);
        it->result = r;
}

/* Checks size and digest of a complete file. 0 if it matches, -EBADMSG with
 * the detail in it->error if not. */
static int verify_file(FetchItem *it, const char *path) {
        struct stat st;
        char hex[SHA256_HEX_SIZE];
        int r;

        if (stat(path, &st) < 0)
                return -errno;
        if (it->size > 0 && (uint64_t) st.st_size != it->size) {
                item_fail(it, -EBADMSG,
                          "size mismatch for %s: expected %" PRIu64 " bytes, got %" PRIu64, it->url,
                          it->size, (uint64_t) st.st_size);
                return -EBADMSG;
        }
        if (!it->sha256)
                return 0;
        r = sha256_file_hex(path, hex);
        if (r < 0)
                return r;
        if (strcasecmp(hex, it->sha256) != 0) {
                item_fail(it, -EBADMSG, "SHA-256 mismatch for %s: expected %s, got %s", it->url,
                          it->sha256, hex);
                return -EBADMSG;
        }
        return 0;
}

static int on_start(uint64_t offset, uint64_t length, void *userdata) {
        Transfer *t = userdata;
        if (offset == 0 && t->have > 0) {
                /* The server sent the whole file, not the range. */
                if (ftruncate(t->fd, 0) < 0)
                        return error_setf(errno, "cannot truncate %s: %s", t->partial,
                                          strerror(errno));
                t->have = 0;
        }
        if (lseek(t->fd, (off_t) t->have, SEEK_SET) < 0)
                return -errno;
        return 0;
}

static int on_data(const void *data, size_t n, void *userdata) {
        Transfer *t = userdata;
        FetchItem *it = t->item;
        int r = loop_write(t->fd, data, n);
        if (r < 0) {
                t->write_errno = -r;
                return r;
        }
        t->written += n;
        pthread_mutex_lock(&t->pg->lock);
        t->pg->bytes += n;
        pthread_mutex_unlock(&t->pg->lock);
        /* More than promised: stop early. */
        if (it->size > 0 && t->have + t->written > it->size)
                return error_setf(EBADMSG, "more data than the expected %" PRIu64 " bytes",
                                  it->size);
        if (it->max_size > 0 && t->have + t->written > it->max_size)
                return error_setf(EFBIG, "larger than %" PRIu64 " bytes", it->max_size);
        return 0;
}

/* A file:// URL: a copy, so the checks below are the same. */
static int copy_local(Transfer *t) {
        const char *path = t->item->url + strlen("file://");
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return errno == ENOENT
                               ? error_setf(ENOENT, "not found")
                               : error_setf(errno, "cannot open %s: %s", path, strerror(errno));
        if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
                return -errno;
        t->have = 0;
        for (;;) {
                char buf[64 << 10];
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_setf(errno, "cannot read %s: %s", path, strerror(errno));
                if (n == 0)
                        return 0;
                int r = on_data(buf, (size_t) n, t);
                if (r < 0)
                        return r;
        }
}

static bool transient(int r, int status) {
        switch (-r) {
        case ETIMEDOUT:
        case ECONNREFUSED:
        case ECONNRESET:
        case EPIPE:
        case EHOSTUNREACH:
                return true;
        case EPROTO: /* a 5xx is worth another try; a TLS failure is not */
                return status >= 500;
        default:
                return false;
        }
}

/* Fetches one item to its partial file, checks it and renames it into
 * place. Fills it->result and it->error. */
static void fetch_one(HttpClient *c, FetchItem *it, Progress *pg) {
        _cleanup_free_ char *partial = strdup_printf("%s.partial", it->dest);
        bool local = strncasecmp(it->url, "file://", 7) == 0;
        int r;

        if (!partial) {
                item_fail(it, -ENOMEM, "out of memory");
                return;
        }
        for (int tries = 1;; tries++) {
                _cleanup_close_ int fd = open(partial, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                Transfer t = { .item = it, .partial = partial, .fd = fd, .pg = pg };
                struct stat st;
                int status = 0;

                if (fd < 0 || fstat(fd, &st) < 0) {
                        item_fail(it, -errno, "cannot open %s: %m", partial);
                        return;
                }
                t.have = (uint64_t) st.st_size;
                if ((!it->sha256 && tries <= 1) || (it->size > 0 && t.have >= it->size)) {
                        /* Without a digest a resumed file could mix two versions; or
                         * nothing is left to fetch, which means garbage: start over. */
                        if (ftruncate(fd, 0) < 0) {
                                item_fail(it, -errno, "cannot truncate %s: %m", partial);
                                return;
                        }
                        t.have = 0;
                }
                if (local)
                        r = copy_local(&t);
                else {
                        HttpGet g = {
                                .url = it->url,
                                .offset = t.have,
                                .connect_timeout_s = it->stall_timeout,
                                .read_timeout_s = it->stall_timeout,
                                .on_start = on_start,
                                .on_data = on_data,
                                .userdata = &t,
                        };
                        r = http_get(c, &g, &status);
                }
                if (r < 0 && local)
                        r = error_wrapf(r, "%s", it->url); /* http_get's name the URL already */
                if (r < 0) {
                        const char *msg = error_message(r);
                        if (r == -ERANGE && t.have > 0) {
                                /* Range not satisfiable: the partial file is bad. */
                                (void) unlink(partial);
                                error_clear();
                                continue;
                        }
                        if (t.write_errno) {
                                item_fail(it, -t.write_errno, "cannot write %s: %s", partial,
                                          strerror(t.write_errno));
                                return;
                        }
                        if (r == -EBADMSG && it->size > 0 && t.have + t.written > it->size) {
                                (void) unlink(partial);
                                item_fail(it, r, "%s", msg);
                                return;
                        }
                        if (r == -EFBIG) {
                                (void) unlink(partial);
                                item_fail(it, r, "%s", msg);
                                return;
                        }
                        if (transient(r, status) && tries < FETCH_MAX_TRIES) {
                                log_debug("fetch: %s, trying again", msg);
                                error_clear();
                                continue; /* the partial file stays: the next try resumes */
                        }
                        size_t n = strlen(it->url);
                        /* Nothing to resume (a 404, say, as for the next root
                         * version a TUF client probes for): no file is left. */
                        if (t.have + t.written == 0)
                                (void) unlink(partial);
                        if (r == -ETIMEDOUT)
                                item_fail(it, r, "%s: timed out after %d tries (%s)", it->url,
                                          tries,
                                          strneq(msg, it->url, n) && msg[n] == ':' ? msg + n + 2
                                                                                   : msg);
                        else
                                item_fail(it, r, "%s", msg);
                        error_clear();
                        return;
                }
                if (fsync(fd) < 0) {
                        item_fail(it, -errno, "%s: fsync failed: %m", partial);
                        return;
                }
                fd = safe_close(fd);
                r = verify_file(it, partial);
                if (r < 0) {
                        (void) unlink(partial);
                        if (r != -EBADMSG)
                                item_fail(it, r, "%s: cannot verify: %s", partial, strerror(-r));
                        else if (t.have > 0 && tries < FETCH_MAX_TRIES) {
                                /* Maybe the old partial data was bad: once more, whole. */
                                it->result = 0;
                                it->error[0] = 0;
                                continue;
                        }
                        return;
                }
                if (rename(partial, it->dest) < 0) {
                        item_fail(it, -errno, "rename %s: %m", it->dest);
                        return;
                }
                _cleanup_free_ char *dir = strdup(it->dest);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash && slash != dir) {
                        *slash = 0;
                        (void) fsync_directory(dir);
                }
                it->result = 0;
                it->error[0] = 0;
                return;
        }
}

/* A file already in place: keep it if it verifies, drop it otherwise. */
static bool cached_ok(FetchItem *it) {
        if (!it->sha256 || access(it->dest, F_OK) < 0)
                return false;
        if (verify_file(it, it->dest) == 0)
                return true;
        log_info("fetch: cached %s is corrupt (%s), fetching it again", it->dest, it->error);
        it->error[0] = 0;
        it->result = 0;
        (void) unlink(it->dest);
        return false;
}

static void *worker(void *userdata) {
        Pool *p = userdata;
        _cleanup_(http_client_freep) HttpClient *c = http_client_new();

        for (;;) {
                pthread_mutex_lock(&p->pg.lock);
                size_t k = p->pg.next < p->pg.total ? p->pg.next++ : SIZE_MAX;
                pthread_mutex_unlock(&p->pg.lock);
                if (k == SIZE_MAX)
                        break;
                FetchItem *it = &p->items[p->todo[k]];
                if (c)
                        fetch_one(c, it, &p->pg);
                else
                        item_fail(it, -ENOMEM, "out of memory");
                pthread_mutex_lock(&p->pg.lock);
                p->pg.done++;
                progress_show(&p->pg, false);
                pthread_mutex_unlock(&p->pg.lock);
        }
        return NULL;
}

int fetch_many(FetchItem *items, size_t n, unsigned jobs) {
        _cleanup_free_ size_t *todo = NULL;
        _cleanup_free_ pthread_t *threads = NULL;
        Pool p = { .items = items, .pg = { .tty = isatty(STDERR_FILENO) } };
        size_t n_threads = 0;
        int first_error = 0;

        if (n == 0)
                return 0;
        if (jobs == 0)
                jobs = FETCH_DEFAULT_JOBS;
        todo = calloc(n, sizeof(size_t));
        if (!todo)
                return -ENOMEM;

        /* Which items need a download at all. */
        for (size_t i = 0; i < n; i++) {
                items[i].result = 0;
                items[i].error[0] = 0;
                if (cached_ok(&items[i]))
                        continue;
                int r = mkdir_parents(items[i].dest, 0755);
                if (r < 0) {
                        item_fail(&items[i], r, "cannot create the directory of %s: %s",
                                  items[i].dest, strerror(-r));
                        continue;
                }
                todo[p.pg.total++] = i;
                p.pg.expected += items[i].size;
        }
        p.todo = todo;
        (void) pthread_mutex_init(&p.pg.lock, NULL);
        (void) clock_gettime(CLOCK_MONOTONIC, &p.pg.last);

        /* One download runs here; more get a thread each, up to jobs. */
        size_t want = MIN((size_t) jobs, p.pg.total);
        if (want > 1) {
                threads = calloc(want, sizeof(pthread_t));
                if (!threads)
                        return -ENOMEM;
                for (; n_threads < want; n_threads++)
                        if (pthread_create(&threads[n_threads], NULL, worker, &p) != 0)
                                break;
        }
        if (n_threads == 0)
                (void) worker(&p);
        for (size_t i = 0; i < n_threads; i++)
                (void) pthread_join(threads[i], NULL);
        (void) pthread_mutex_destroy(&p.pg.lock);

        if (p.pg.tty || p.pg.total >= 10)
                progress_show(&p.pg, true);

        for (size_t i = 0; i < n; i++)
                if (items[i].result < 0 && first_error == 0)
                        first_error = items[i].result;
        return first_error;
}

int fetch_url(const char *url, const char *dest) {
        FetchItem it = { .url = url, .dest = dest };
        int r = fetch_many(&it, 1, 1);
        if (r < 0)
                log_debug("%s", it.error);
        return r;
}

/* ---- byte ranges into memory (delta updates) ---- */

typedef struct RangePool {
        const char *url;
        FetchRange *ranges;
        size_t n, next;
        unsigned stall;
        fetch_range_done_t done;
        void *userdata;
        char *error;
        size_t error_size;
        pthread_mutex_t lock; /* next, r, error, and every call of done */
        int r;
} RangePool;

static int range_on_data(const void *data, size_t n, void *userdata) {
        FetchRange *fr = userdata;
        if (fr->received + n > fr->length)
                return error_setf(EBADMSG,
                                  "bytes %" PRIu64 "+%" PRIu64 ": more data than asked for",
                                  fr->offset, fr->length);
        memcpy(fr->buf + fr->received, data, n);
        fr->received += n;
        return 0;
}

/* Fetches one range until done() accepts it or it fails: 0 or <0 with msg. */
static int range_fetch(RangePool *p, HttpClient *c, FetchRange *fr, uint8_t **buf, size_t *cap,
                       char *msg, size_t msg_size) {
        for (;;) {
                int status = 0, again = 0, r;
                if (*cap < fr->length) {
                        uint8_t *b = realloc(*buf, fr->length);
                        if (!b)
                                return -ENOMEM;
                        *buf = b;
                        *cap = fr->length;
                }
                fr->buf = *buf;
                fr->received = 0;
                fr->tries++;
                HttpGet g = {
                        .url = p->url,
                        .offset = fr->offset,
                        .length = fr->length,
                        .connect_timeout_s = p->stall,
                        .read_timeout_s = p->stall,
                        .on_data = range_on_data,
                        .userdata = fr,
                };
                r = http_get(c, &g, &status);
                if (r == 0 && fr->received != fr->length) {
                        snprintf(msg, msg_size,
                                 "%s: bytes %" PRIu64 "+%" PRIu64 ": got %" PRIu64 " bytes", p->url,
                                 fr->offset, fr->length, fr->received);
                        r = -EBADMSG;
                        again = 1;
                } else if (r < 0) {
                        snprintf(msg, msg_size, "%s", error_message(r));
                        error_clear();
                        again = transient(r, status);
                } else {
                        pthread_mutex_lock(&p->lock);
                        again = p->r < 0 ? p->r : p->done(fr, p->userdata);
                        pthread_mutex_unlock(&p->lock);
                        if (again < 0)
                                return again;
                        if (again > 0) {
                                snprintf(msg, msg_size,
                                         "%s: bytes %" PRIu64 "+%" PRIu64 " were refused %u times",
                                         p->url, fr->offset, fr->length, fr->tries);
                                r = -EBADMSG;
                        }
                }
                if (r >= 0)
                        return 0;
                if (!(again > 0 && fr->tries < FETCH_RANGE_TRIES))
                        return r;
                log_debug("fetch: %s (retrying)", msg);
        }
}

static void *range_worker(void *userdata) {
        RangePool *p = userdata;
        _cleanup_(http_client_freep) HttpClient *c = http_client_new();
        _cleanup_free_ uint8_t *buf = NULL;
        size_t cap = 0;
        char msg[512] = "";

        for (;;) {
                pthread_mutex_lock(&p->lock);
                FetchRange *fr = p->r >= 0 && p->next < p->n ? &p->ranges[p->next++] : NULL;
                pthread_mutex_unlock(&p->lock);
                if (!fr)
                        break;
                int r = c ? range_fetch(p, c, fr, &buf, &cap, msg, sizeof msg) : -ENOMEM;
                fr->buf = NULL;
                if (r < 0) {
                        pthread_mutex_lock(&p->lock);
                        if (p->r >= 0) {
                                p->r = r;
                                if (msg[0])
                                        snprintf(p->error, p->error_size, "%s", msg);
                        }
                        pthread_mutex_unlock(&p->lock);
                        break;
                }
        }
        return NULL;
}

int fetch_ranges(const char *url, FetchRange *ranges, size_t n, unsigned jobs,
                 unsigned stall_timeout, fetch_range_done_t done, void *userdata, char *error,
                 size_t error_size) {
        RangePool p = { .url = url,
                        .ranges = ranges,
                        .n = n,
                        .stall = stall_timeout,
                        .done = done,
                        .userdata = userdata,
                        .error = error,
                        .error_size = error_size };
        _cleanup_free_ pthread_t *threads = NULL;
        size_t n_threads = 0;

        if (n == 0)
                return 0;
        if (jobs == 0)
                jobs = FETCH_DEFAULT_JOBS;
        for (size_t i = 0; i < n; i++)
                ranges[i].tries = 0;
        (void) pthread_mutex_init(&p.lock, NULL);
        size_t want = MIN((size_t) jobs, n);
        if (want > 1) {
                threads = calloc(want, sizeof(pthread_t));
                if (!threads)
                        return -ENOMEM;
                for (; n_threads < want; n_threads++)
                        if (pthread_create(&threads[n_threads], NULL, range_worker, &p) != 0)
                                break;
        }
        if (n_threads == 0)
                (void) range_worker(&p);
        for (size_t i = 0; i < n_threads; i++)
                (void) pthread_join(threads[i], NULL);
        (void) pthread_mutex_destroy(&p.lock);
        return p.r < 0 ? p.r : 0;
}
