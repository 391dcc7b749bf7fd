/* SPDX-License-Identifier: MIT */
#include "fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "digest.h"
#include "fileio.h"
#include "log.h"

#define FETCH_DEFAULT_JOBS 4u
#define FETCH_MAX_TRIES 3

static void curl_init_once(void) {
        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_multi_cleanupp(CURLM **m) {
        if (*m)
                (void) curl_multi_cleanup(*m);
}

typedef struct Transfer {
        FetchItem *item;
        CURL *easy;
        char *partial;
        int fd;
        uint64_t resume_from; /* bytes already in the partial file at start */
        uint64_t written;     /* bytes written in this transfer */
        bool restarted;       /* server ignored the Range: partial truncated */
        int tries;
        int write_errno; /* why writing the partial file failed, 0 if it did not */
        char curl_error[CURL_ERROR_SIZE];
} Transfer;

typedef struct Progress {
        size_t done, total;
        uint64_t bytes;    /* bytes received in this run */
        uint64_t expected; /* sum of the known sizes still to fetch */
        bool tty;
        struct timespec last;
        size_t last_logged;
} Progress;

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

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->written == 0 && t->resume_from > 0 && !t->restarted) {
                long code = 0;
                (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
                if (code == 200) {
                        /* The server sent the whole file, not the range. */
                        if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
                                return 0;
                        t->resume_from = 0;
                        t->restarted = true;
                }
        }
        for (size_t off = 0; off < n;) {
                ssize_t k = write(t->fd, data + off, n - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        t->write_errno = errno;
                        return 0;
                }
                off += (size_t) k;
        }
        t->written += n;
        if (t->item->size > 0 && t->resume_from + t->written > t->item->size)
                return 0; /* more than promised: stop early */
        if (t->item->max_size > 0 && t->resume_from + t->written > t->item->max_size)
                return 0;
        return n;
}

static void transfer_done(Transfer *t) {
        if (t->easy)
                curl_easy_cleanup(t->easy);
        t->easy = NULL;
        t->fd = safe_close(t->fd);
        free(t->partial);
        t->partial = NULL;
}

/* The options every transfer shares: fail on HTTP errors, follow redirects,
 * the stall timeout (0: 30 s to connect, 60 s under 1 KiB/s). */
static void easy_setup(CURL *easy, const char *url, curl_write_callback cb, void *data,
                       char *errbuf, unsigned stall) {
        (void) curl_easy_setopt(easy, CURLOPT_URL, url);
        (void) curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cb);
        (void) curl_easy_setopt(easy, CURLOPT_WRITEDATA, data);
        (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, data);
        (void) curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
        (void) curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
        (void) curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        (void) curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
        (void) curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, stall ? (long) stall : 30L);
        (void) curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        (void) curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, stall ? (long) stall : 60L);
        (void) curl_easy_setopt(easy, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
}

/* Opens the partial file and sets up an easy handle. */
static int transfer_start(Transfer *t, CURLM *multi, Progress *pg) {
        FetchItem *it = t->item;
        struct stat st;

        if (!t->partial) {
                t->partial = strdup_printf("%s.partial", it->dest);
                if (!t->partial)
                        return -ENOMEM;
        }
        t->fd = open(t->partial, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (t->fd < 0)
                return -errno;
        if (fstat(t->fd, &st) < 0)
                return -errno;
        t->resume_from = (uint64_t) st.st_size;
        if ((!it->sha256 && t->tries <= 1) || (it->size > 0 && t->resume_from >= it->size)) {
                /* Without a digest a resumed file could mix two versions; or nothing is left
                 * to fetch, which means garbage: start over. */
                if (ftruncate(t->fd, 0) < 0)
                        return -errno;
                t->resume_from = 0;
        }
        t->written = 0;
        t->write_errno = 0;
        t->restarted = false;
        t->curl_error[0] = 0;

        t->easy = curl_easy_init();
        if (!t->easy)
                return -ENOMEM;
        easy_setup(t->easy, it->url, write_cb, t, t->curl_error, it->stall_timeout);
        if (t->resume_from > 0)
                (void) curl_easy_setopt(t->easy, CURLOPT_RESUME_FROM_LARGE,
                                        (curl_off_t) t->resume_from);
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
                return -EIO;
        log_debug("fetch: %s%s", it->url, t->resume_from > 0 ? " (resuming)" : "");
        return 0;
}

/* Decides what happened to a finished transfer. Returns 1 to try again. */
static int transfer_finish(Transfer *t, CURLcode cc, Progress *pg) {
        FetchItem *it = t->item;
        long code = 0;
        int r;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        if (cc != CURLE_OK) {
                const char *msg = t->curl_error[0] ? t->curl_error : curl_easy_strerror(cc);
                bool missing = (cc == CURLE_HTTP_RETURNED_ERROR && code == 404) ||
                               cc == CURLE_FILE_COULDNT_READ_FILE ||
                               cc == CURLE_REMOTE_FILE_NOT_FOUND;
                if (cc == CURLE_HTTP_RETURNED_ERROR && code == 416 && t->resume_from > 0) {
                        /* Range not satisfiable: the partial file is bad, start over. */
                        (void) unlink(t->partial);
                        return 1;
                }
                if (cc == CURLE_WRITE_ERROR && it->size > 0 &&
                    t->resume_from + t->written > it->size) {
                        (void) unlink(t->partial);
                        item_fail(it, -EBADMSG, "%s: more data than the expected %" PRIu64 " bytes",
                                  it->url, it->size);
                        return 0;
                }
                if (cc == CURLE_WRITE_ERROR && it->max_size > 0 &&
                    t->resume_from + t->written > it->max_size) {
                        (void) unlink(t->partial);
                        item_fail(it, -EFBIG, "%s: larger than %" PRIu64 " bytes", it->url,
                                  it->max_size);
                        return 0;
                }
                if (cc == CURLE_WRITE_ERROR && t->write_errno) {
                        item_fail(it, -t->write_errno, "cannot write %s: %s", t->partial,
                                  strerror(t->write_errno));
                        return 0;
                }
                if (cc == CURLE_OPERATION_TIMEDOUT && !(t->tries < FETCH_MAX_TRIES)) {
                        item_fail(it, -ETIMEDOUT, "%s: timed out after %d tries (%s)", it->url,
                                  t->tries, msg);
                        return 0;
                }
                bool transient = !missing && (cc != CURLE_HTTP_RETURNED_ERROR || code >= 500) &&
                                 cc != CURLE_WRITE_ERROR && cc != CURLE_UNSUPPORTED_PROTOCOL &&
                                 cc != CURLE_URL_MALFORMAT;
                if (transient && t->tries < FETCH_MAX_TRIES)
                        return 1; /* the partial file stays: the next try resumes */
                item_fail(it,
                          missing                            ? -ENOENT
                          : cc == CURLE_OPERATION_TIMEDOUT   ? -ETIMEDOUT
                          : cc == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
                          : cc == CURLE_COULDNT_RESOLVE_HOST ? -EHOSTUNREACH
                                                             : -EIO,
                          "%s: %s", it->url, msg);
                return 0;
        }

        if (fsync(t->fd) < 0) {
                item_fail(it, -errno, "%s: fsync failed: %m", t->partial);
                return 0;
        }
        r = verify_file(it, t->partial);
        if (r < 0) {
                bool resumed = t->resume_from > 0;
                (void) unlink(t->partial);
                if (r != -EBADMSG)
                        item_fail(it, r, "%s: cannot verify: %s", t->partial, strerror(-r));
                else if (resumed && t->tries < FETCH_MAX_TRIES)
                        return 1; /* maybe the old partial data was bad: once more, whole */
                return 0;
        }
        if (rename(t->partial, it->dest) < 0) {
                item_fail(it, -errno, "rename %s: %m", it->dest);
                return 0;
        }
        _cleanup_free_ char *dir = strdup(it->dest);
        if (dir) {
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir) {
                        *slash = 0;
                        (void) fsync_directory(dir);
                }
        }
        it->result = 0;
        it->error[0] = 0;
        return 0;
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

int fetch_many(FetchItem *items, size_t n, unsigned jobs) {
        _cleanup_(curl_multi_cleanupp) CURLM *multi = NULL;
        _cleanup_free_ Transfer *ts = NULL;
        Progress pg = { .tty = isatty(STDERR_FILENO) };
        size_t next = 0, running = 0;
        int first_error = 0;

        if (n == 0)
                return 0;
        if (jobs == 0)
                jobs = FETCH_DEFAULT_JOBS;
        (void) pthread_once(&curl_once, curl_init_once);

        ts = calloc(n, sizeof(Transfer));
        multi = curl_multi_init();
        if (!ts || !multi)
                return -ENOMEM;
        (void) curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) jobs);

        /* Which items need a download at all. */
        size_t *todo = calloc(n, sizeof(size_t));
        size_t n_todo = 0;
        if (!todo)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                items[i].result = 0;
                items[i].error[0] = 0;
                ts[i].item = &items[i];
                ts[i].fd = -EBADF;
                if (cached_ok(&items[i]))
                        continue;
                int r = mkdir_parents(items[i].dest, 0755);
                if (r < 0) {
                        item_fail(&items[i], r, "cannot create the directory of %s: %s",
                                  items[i].dest, strerror(-r));
                        continue;
                }
                todo[n_todo++] = i;
                pg.expected += items[i].size;
        }
        pg.total = n_todo;
        (void) clock_gettime(CLOCK_MONOTONIC, &pg.last);

        for (;;) {
                while (running < jobs && next < n_todo) {
                        Transfer *t = &ts[todo[next++]];
                        t->tries++;
                        int r = transfer_start(t, multi, &pg);
                        if (r < 0) {
                                item_fail(t->item, r, "%s: cannot start: %s", t->item->url,
                                          strerror(-r));
                                transfer_done(t);
                                pg.done++;
                                continue;
                        }
                        running++;
                }
                if (running == 0)
                        break;

                int still = 0;
                if (curl_multi_perform(multi, &still) != CURLM_OK)
                        break;
                CURLMsg *m;
                int left;
                bool again = false;
                while ((m = curl_multi_info_read(multi, &left))) {
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        Transfer *t = NULL;
                        (void) curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                        CURLcode cc = m->data.result;
                        (void) curl_multi_remove_handle(multi, t->easy);
                        running--;
                        pg.bytes += t->written;
                        int retry = transfer_finish(t, cc, &pg);
                        curl_easy_cleanup(t->easy);
                        t->easy = NULL;
                        t->fd = safe_close(t->fd);
                        if (retry > 0) {
                                t->tries++;
                                log_debug("fetch: retrying %s", t->item->url);
                                int r = transfer_start(t, multi, &pg);
                                if (r >= 0) {
                                        running++;
                                        again = true;
                                        continue;
                                }
                                item_fail(t->item, r, "%s: cannot restart: %s", t->item->url,
                                          strerror(-r));
                        }
                        transfer_done(t);
                        pg.done++;
                        progress_show(&pg, false);
                }
                if (still > 0 && !again)
                        (void) curl_multi_poll(multi, NULL, 0, 250, NULL);
                progress_show(&pg, false);
        }
        free(todo);

        if (pg.tty || pg.total >= 10)
                progress_show(&pg, true);

        for (size_t i = 0; i < n; i++) {
                transfer_done(&ts[i]);
                if (items[i].result < 0 && first_error == 0)
                        first_error = items[i].result;
        }
        return first_error;
}

int fetch_url(const char *url, const char *dest) {
        FetchItem it = { .url = url, .dest = dest };
        int r = fetch_many(&it, 1, 1);
        if (r < 0)
                log_debug("%s", it.error);
        return r;
}

typedef struct RangeTransfer {
        FetchRange *range;
        CURL *easy;
        uint8_t *buf; /* the range's bytes, reused from one range to the next */
        size_t cap;
        bool not_partial; /* the answer was not 206 */
        char curl_error[CURL_ERROR_SIZE];
} RangeTransfer;

static size_t range_write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        RangeTransfer *t = userdata;
        FetchRange *fr = t->range;
        size_t n = size * nmemb;
        long code = 0;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code != 206) {
                t->not_partial = true;
                return 0;
        }
        if (fr->received + n > fr->length)
                return 0; /* more than asked for */
        memcpy(fr->buf + fr->received, data, n);
        fr->received += n;
        return n;
}

static int range_start(RangeTransfer *t, CURLM *multi, const char *url, unsigned stall) {
        char range[64];

        if (t->cap < t->range->length) {
                uint8_t *b = realloc(t->buf, t->range->length);
                if (!b)
                        return -ENOMEM;
                t->buf = b;
                t->cap = t->range->length;
        }
        t->range->buf = t->buf;
        t->range->received = 0;
        t->range->tries++;
        t->not_partial = false;
        t->curl_error[0] = 0;
        t->easy = curl_easy_init();
        if (!t->easy)
                return -ENOMEM;
        snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, t->range->offset,
                 t->range->offset + t->range->length - 1);
        easy_setup(t->easy, url, range_write_cb, t, t->curl_error, stall);
        (void) curl_easy_setopt(t->easy, CURLOPT_RANGE, range);
        return curl_multi_add_handle(multi, t->easy) == CURLM_OK ? 0 : -EIO;
}

int fetch_ranges(const char *url, FetchRange *ranges, size_t n, unsigned jobs,
                 unsigned stall_timeout, fetch_range_done_t done, void *userdata, char *error,
                 size_t error_size) {
        _cleanup_(curl_multi_cleanupp) CURLM *multi = NULL;
        _cleanup_free_ RangeTransfer *ts = NULL;
        size_t next = 0, running = 0;
        int r = 0;

        if (n == 0)
                return 0;
        if (jobs == 0)
                jobs = FETCH_DEFAULT_JOBS;
        (void) pthread_once(&curl_once, curl_init_once);
        ts = calloc(jobs, sizeof(RangeTransfer));
        multi = curl_multi_init();
        if (!ts || !multi)
                return -ENOMEM;
        (void) curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) jobs);
        for (size_t i = 0; i < n; i++)
                ranges[i].tries = 0;

        while (r >= 0) {
                for (size_t s = 0; s < jobs && next < n; s++) {
                        if (ts[s].easy)
                                continue;
                        ts[s].range = &ranges[next++];
                        r = range_start(&ts[s], multi, url, stall_timeout);
                        if (r < 0)
                                break;
                        running++;
                }
                if (r < 0 || running == 0)
                        break;
                int still = 0;
                if (curl_multi_perform(multi, &still) != CURLM_OK) {
                        r = -EIO;
                        snprintf(error, error_size, "%s: curl_multi_perform failed", url);
                        break;
                }
                CURLMsg *m;
                int left;
                while (r >= 0 && (m = curl_multi_info_read(multi, &left))) {
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        RangeTransfer *t = NULL;
                        (void) curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                        CURLcode cc = m->data.result;
                        FetchRange *fr = t->range;
                        long code = 0;
                        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
                        (void) curl_multi_remove_handle(multi, t->easy);
                        curl_easy_cleanup(t->easy);
                        t->easy = NULL;
                        running--;
                        int again = 0;
                        if (t->not_partial) {
                                snprintf(error, error_size,
                                         "%s: the server answered a Range request with %ld, "
                                         "not 206 Partial Content",
                                         url, code);
                                r = -EPROTO;
                        } else if (cc == CURLE_OK && fr->received != fr->length) {
                                snprintf(error, error_size,
                                         "%s: bytes %" PRIu64 "+%" PRIu64 ": got %" PRIu64 " bytes",
                                         url, fr->offset, fr->length, fr->received);
                                again = 1;
                                r = -EBADMSG;
                        } else if (cc == CURLE_WRITE_ERROR) {
                                snprintf(error, error_size,
                                         "%s: bytes %" PRIu64 "+%" PRIu64
                                         ": more data than asked for",
                                         url, fr->offset, fr->length);
                                r = -EBADMSG;
                        } else if (cc != CURLE_OK) {
                                bool transient = cc != CURLE_HTTP_RETURNED_ERROR || code >= 500;
                                snprintf(error, error_size, "%s: %s", url,
                                         t->curl_error[0] ? t->curl_error : curl_easy_strerror(cc));
                                again = transient;
                                r = code == 404                      ? -ENOENT
                                    : code == 416                    ? -EBADMSG
                                    : cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
                                    : cc == CURLE_COULDNT_CONNECT    ? -ECONNREFUSED
                                                                     : -EIO;
                        } else {
                                again = done(fr, userdata);
                                if (again < 0) {
                                        r = again;
                                        break;
                                }
                                if (again > 0) {
                                        snprintf(error, error_size,
                                                 "%s: bytes %" PRIu64 "+%" PRIu64
                                                 " were refused %u times",
                                                 url, fr->offset, fr->length, fr->tries);
                                        r = -EBADMSG;
                                }
                        }
                        if (r < 0 && again && fr->tries < FETCH_RANGE_TRIES) {
                                log_debug("fetch: %s (retrying)", error);
                                r = range_start(t, multi, url, stall_timeout);
                                if (r >= 0)
                                        running++;
                        }
                }
                if (r >= 0 && still > 0)
                        (void) curl_multi_poll(multi, NULL, 0, 250, NULL);
        }
        for (size_t s = 0; s < jobs; s++) {
                if (ts[s].easy) {
                        (void) curl_multi_remove_handle(multi, ts[s].easy);
                        curl_easy_cleanup(ts[s].easy);
                }
                free(ts[s].buf);
        }
        for (size_t i = 0; i < n; i++)
                ranges[i].buf = NULL;
        return r < 0 ? r : 0;
}
