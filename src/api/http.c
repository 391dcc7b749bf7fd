/* SPDX-License-Identifier: MIT */
/* The libmicrohttpd wrapper (http.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "error.h"
#include "fileio.h"
#include "http.h"

struct HttpServer {
        struct MHD_Daemon *daemon;
        HttpHandler handler;
        void *userdata;
        size_t body_max;
};

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
        s->handler(s->userdata, method, url, req->body ?: "", req->size, &status, &body);
        error_clear();
        return reply(c, status, body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        Request *req = *con_cls;

        if (req) {
                free(req->body);
                free(req);
                *con_cls = NULL;
        }
}

int http_server_start(int listen_fd, size_t body_max, unsigned timeout_s, HttpHandler handler,
                      void *userdata, HttpServer **ret) {
        HttpServer *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->handler = handler;
        s->userdata = userdata;
        s->body_max = body_max;
        /* One thread polls and answers: requests run one at a time, so a
         * settings transaction never sees another half-done. */
        s->daemon = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                on_request, s, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_TIMEOUT,
                timeout_s, MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t) 64 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
        if (!s->daemon) {
                free(s);
                return error_setf(EIO, "cannot start the HTTP server (libmicrohttpd)");
        }
        *ret = s;
        return 0;
}

HttpServer *http_server_stop(HttpServer *s) {
        if (!s)
                return NULL;
        MHD_stop_daemon(s->daemon);
        free(s);
        return NULL;
}
