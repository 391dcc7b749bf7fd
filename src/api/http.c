/* SPDX-License-Identifier: MIT */
/* The libmicrohttpd wrapper (http.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "error.h"
#include "fileio.h"
#include "http.h"

struct HttpServer {
        struct MHD_Daemon *daemon;
        HttpHandler handler;
        HttpStreamHandler streamer;
        HttpCompleted completed;
        void *userdata;
        size_t body_max;

        /* Streams with nothing to send wait suspended; a ticker resumes
         * them every HTTP_STREAM_POLL_MS. */
        pthread_mutex_t lock;
        pthread_cond_t tick;
        pthread_t ticker;
        bool ticking, stopping;
        unsigned n_streams;
        struct MHD_Connection *suspended[HTTP_STREAMS_MAX];
        unsigned n_suspended;

        /* Open connections, and when the last one closed (CLOCK_MONOTONIC
         * µs): berthd's idle exit (http_server_idle_usec). */
        unsigned n_connections;
        uint64_t idle_since;
        bool quiesced;
};

static uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

typedef struct Streaming {
        HttpServer *server;
        struct MHD_Connection *connection;
        int fd; /* the client's socket */
        HttpStream stream;
} Streaming;

typedef struct Request {
        char *body;
        size_t size;
        bool too_large;
        bool forbidden;
} Request;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!body)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        (void) MHD_add_response_header(resp, "Content-Type", "application/json");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static bool peer_is_root(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cred;
        socklen_t len = sizeof cred;

        if (!info)
                return false;
        if (getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return false;
        return len == sizeof cred && cred.uid == 0;
}

/* The client closed its end (a follow stream has no other way to learn). */
static bool peer_gone(int fd) {
        char b;
        ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        Streaming *st = cls;
        HttpServer *s = st->server;
        ssize_t n = st->stream.read(st->stream.state, buf, max);

        if (n > 0)
                return n;
        if (n < 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&s->lock);
        if (s->stopping || peer_gone(st->fd) || s->n_suspended >= HTTP_STREAMS_MAX) {
                pthread_mutex_unlock(&s->lock);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        s->suspended[s->n_suspended++] = st->connection;
        MHD_suspend_connection(st->connection);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

static void stream_free(void *cls) {
        Streaming *st = cls;

        pthread_mutex_lock(&st->server->lock);
        st->server->n_streams--;
        pthread_mutex_unlock(&st->server->lock);
        if (st->stream.free)
                st->stream.free(st->stream.state);
        free(st);
}

static void resume_all(HttpServer *s) {
        for (unsigned i = 0; i < s->n_suspended; i++)
                MHD_resume_connection(s->suspended[i]);
        s->n_suspended = 0;
}

static void *ticker_main(void *userdata) {
        HttpServer *s = userdata;
        struct timespec ts;

        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
                (void) clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += HTTP_STREAM_POLL_MS * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                (void) pthread_cond_timedwait(&s->tick, &s->lock, &ts);
                resume_all(s);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

static enum MHD_Result reply_stream(HttpServer *s, struct MHD_Connection *c, HttpStream *stream) {
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct MHD_Response *resp;
        enum MHD_Result ret;
        Streaming *st;

        pthread_mutex_lock(&s->lock);
        bool full = s->n_streams >= HTTP_STREAMS_MAX;
        if (!full)
                s->n_streams++;
        pthread_mutex_unlock(&s->lock);
        st = full || !info ? NULL : calloc(1, sizeof *st);
        if (!st) {
                if (stream->free)
                        stream->free(stream->state);
                if (!full)
                        return MHD_NO;
                return reply(c, 503,
                             strdup_printf("{\"error\": \"%u streams are open already\"}",
                                           HTTP_STREAMS_MAX));
        }
        *st = (Streaming){
                .server = s, .connection = c, .fd = info->connect_fd, .stream = *stream
        };
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st,
                                                 stream_free);
        if (!resp) {
                stream_free(st);
                return MHD_NO;
        }
        (void) MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
        /* A follow stream may be quiet for long: no idle timeout for it. */
        (void) MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
        ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* The query's arguments, %-escaped again where they would be ambiguous. */
typedef struct Query {
        char buf[1024];
        size_t len;
        bool overflow;
} Query;

static void query_put(Query *q, const char *text) {
        for (; text && *text; text++) {
                char esc[4] = { *text, 0 };
                if (strchr("&=%", *text))
                        snprintf(esc, sizeof esc, "%%%02X", (unsigned char) *text);
                size_t n = strlen(esc);
                if (q->len + n >= sizeof q->buf) {
                        q->overflow = true;
                        return;
                }
                memcpy(q->buf + q->len, esc, n + 1);
                q->len += n;
        }
}

static void query_raw(Query *q, char ch) {
        if (q->len + 1 >= sizeof q->buf) {
                q->overflow = true;
                return;
        }
        q->buf[q->len++] = ch;
        q->buf[q->len] = 0;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
        Query *q = cls;

        if (q->len > 0)
                query_raw(q, '&');
        query_put(q, key);
        if (value) {
                query_raw(q, '=');
                query_put(q, value);
        }
        return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
        HttpServer *s = cls;
        Request *req = *con_cls;
        unsigned status = 500;
        char *body = NULL;

        if (!req) {
                req = calloc(1, sizeof *req);
                if (!req)
                        return MHD_NO;
                req->forbidden = !peer_is_root(c);
                *con_cls = req;
                if (req->forbidden)
                        /* Answer before reading the body of a stranger. */
                        return reply(c, 403, strdup("{\"error\": \"the berth API is root only\"}"));
                return MHD_YES;
        }
        if (req->forbidden)
                return MHD_NO;
        if (*upload_size > 0) {
                if (!req->too_large && req->size + *upload_size <= s->body_max) {
                        char *n = realloc(req->body, req->size + *upload_size + 1);
                        if (!n)
                                return MHD_NO;
                        memcpy(n + req->size, upload_data, *upload_size);
                        req->size += *upload_size;
                        n[req->size] = 0;
                        req->body = n;
                } else
                        req->too_large = true;
                *upload_size = 0;
                return MHD_YES;
        }
        if (req->too_large) {
                body = strdup_printf("{\"error\": \"request body larger than %zu bytes\"}",
                                     s->body_max);
                return reply(c, 413, body);
        }
        if (s->streamer) {
                HttpStream stream = {};
                Query q = {};

                (void) MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
                if (q.overflow)
                        return reply(c, 414, strdup("{\"error\": \"query string too long\"}"));
                if (s->streamer(s->userdata, method, url, q.buf, &stream, &status, &body)) {
                        error_clear();
                        return stream.read ? reply_stream(s, c, &stream) : reply(c, status, body);
                }
        }
        s->handler(s->userdata, method, url, req->body ?: "", req->size, &status, &body);
        error_clear();
        return reply(c, status, body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        HttpServer *s = cls;
        Request *req = *con_cls;

        if (req) {
                free(req->body);
                free(req);
                *con_cls = NULL;
        }
        if (s->completed)
                s->completed(s->userdata);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        HttpServer *s = cls;

        pthread_mutex_lock(&s->lock);
        if (code == MHD_CONNECTION_NOTIFY_STARTED)
                s->n_connections++;
        else if (code == MHD_CONNECTION_NOTIFY_CLOSED && s->n_connections > 0 &&
                 --s->n_connections == 0)
                s->idle_since = mono_usec();
        pthread_mutex_unlock(&s->lock);
}

uint64_t http_server_idle_usec(HttpServer *s) {
        uint64_t r = 0;

        pthread_mutex_lock(&s->lock);
        if (s->n_connections == 0)
                r = mono_usec() - s->idle_since + 1;
        pthread_mutex_unlock(&s->lock);
        return r;
}

void http_server_quiesce(HttpServer *s) {
        if (s->quiesced)
                return;
        /* The listening socket stays open (it is the caller's, and PID 1's):
         * what arrives from now on waits in its queue for the next server. */
        (void) MHD_quiesce_daemon(s->daemon);
        s->quiesced = true;
}

void http_server_on_completed(HttpServer *s, HttpCompleted completed) {
        s->completed = completed;
}

int http_server_start(int listen_fd, size_t body_max, unsigned timeout_s, HttpHandler handler,
                      void *userdata, HttpServer **ret) {
        return http_server_start_streams(listen_fd, body_max, timeout_s, handler, NULL, userdata,
                                         ret);
}

int http_server_start_streams(int listen_fd, size_t body_max, unsigned timeout_s,
                              HttpHandler handler, HttpStreamHandler streamer, void *userdata,
                              HttpServer **ret) {
        HttpServer *s = calloc(1, sizeof *s);
        pthread_condattr_t attr;

        if (!s)
                return -ENOMEM;
        s->handler = handler;
        s->streamer = streamer;
        s->userdata = userdata;
        s->body_max = body_max;
        (void) pthread_mutex_init(&s->lock, NULL);
        (void) pthread_condattr_init(&attr);
        (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void) pthread_cond_init(&s->tick, &attr);
        (void) pthread_condattr_destroy(&attr);
        s->idle_since = mono_usec();
        if (streamer) {
                int r = -pthread_create(&s->ticker, NULL, ticker_main, s);
                if (r < 0) {
                        free(s);
                        return error_setf(-r, "cannot start the stream ticker");
                }
                s->ticking = true;
        }
        /* One thread polls and answers: requests run one at a time, so a
         * settings transaction never sees another half-done. */
        s->daemon = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                        MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC,
                0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT, 16u,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024, MHD_OPTION_NOTIFY_COMPLETED,
                on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
        if (!s->daemon) {
                s->daemon = NULL;
                http_server_stop(s);
                return error_setf(EIO, "cannot start the HTTP server (libmicrohttpd)");
        }
        *ret = s;
        return 0;
}

HttpServer *http_server_stop(HttpServer *s) {
        if (!s)
                return NULL;
        /* Streams end: the ticker stops, what waits is resumed once more
         * (and ends, seeing stopping) before the daemon goes. */
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->tick);
        pthread_mutex_unlock(&s->lock);
        if (s->ticking)
                (void) pthread_join(s->ticker, NULL);
        pthread_mutex_lock(&s->lock);
        resume_all(s);
        pthread_mutex_unlock(&s->lock);
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->tick);
        free(s);
        return NULL;
}
