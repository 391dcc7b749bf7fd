/* SPDX-License-Identifier: MIT */
/* TLS client connections with libssl (tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"

#define TLS_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct TlsConn {
        SSL *ssl;
        int fd;
};

/* One context for the process: loading the CA store once, shared by the
 * download threads (SSL_CTX is safe to share once set up). */
static SSL_CTX *tls_ctx;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_ctx_init(void) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_default_verify_paths(ctx) != 1) {
                SSL_CTX_free(ctx);
                return;
        }
        /* OpenSSL's default paths (/usr/lib/ssl/cert.pem, certs/) come from
         * Debian's openssl package, which images leave out; the composer
         * builds the bundle itself (docs/tailoring.md). */
        if (!getenv(X509_get_default_cert_file_env()) && access(TLS_CA_BUNDLE, R_OK) == 0)
                (void) SSL_CTX_load_verify_locations(ctx, TLS_CA_BUNDLE, NULL);
        ERR_clear_error();
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* A server that closes without close_notify: the HTTP framing says
         * whether the body was complete. */
        SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        tls_ctx = ctx;
}

static int openssl_error(int code, const char *what) {
        char buf[256] = "unknown error";
        unsigned long e = ERR_peek_last_error();
        if (e)
                ERR_error_string_n(e, buf, sizeof buf);
        ERR_clear_error();
        return error_setf(code, "%s: %s", what, buf);
}

/* After an SSL call returned r <= 0: waits and returns 1 to call again,
 * 0 at a clean end of stream, or a negative errno (error set). */
static int tls_wait(TlsConn *t, int r, int timeout_ms, const char *what) {
        int e = SSL_get_error(t->ssl, r), k;
        switch (e) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
                k = fd_wait(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_ms);
                if (k == -ETIMEDOUT)
                        return error_setf(ETIMEDOUT, "TLS %s: no progress in %d s", what,
                                          timeout_ms / 1000);
                return k < 0 ? k : 1;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                ERR_clear_error();
                if (errno == 0 || errno == EAGAIN)
                        return 0;
                return error_setf(errno, "TLS %s: %s", what, strerror(errno));
        default:
                return openssl_error(EPROTO, what);
        }
}

int tls_connect(int fd, const char *host, int timeout_ms, TlsConn **ret) {
        unsigned char addr[16];
        bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
        TlsConn *t;
        int r;

        (void) pthread_once(&tls_once, tls_ctx_init);
        if (!tls_ctx)
                return openssl_error(EPROTO, "cannot set up TLS with the system CA store");
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->fd = fd;
        t->ssl = SSL_new(tls_ctx);
        if (!t->ssl) {
                free(t);
                return openssl_error(ENOMEM, "TLS");
        }
        if (SSL_set_fd(t->ssl, fd) != 1 ||
            (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1
                   : (SSL_set_tlsext_host_name(t->ssl, host) != 1 ||
                      SSL_set1_host(t->ssl, host) != 1))) {
                tls_free(t);
                return openssl_error(EINVAL, "TLS: bad host name");
        }
        for (;;) {
                r = SSL_connect(t->ssl);
                if (r == 1)
                        break;
                long v = SSL_get_verify_result(t->ssl);
                if (v != X509_V_OK) {
                        tls_free(t);
                        ERR_clear_error();
                        return error_setf(EPROTO, "TLS: the certificate of %s is not trusted: %s",
                                          host, X509_verify_cert_error_string(v));
                }
                r = tls_wait(t, r, timeout_ms, "handshake");
                if (r <= 0) {
                        tls_free(t);
                        return r < 0 ? r
                                     : error_setf(ECONNRESET,
                                                  "TLS handshake: %s closed the connection", host);
                }
        }
        *ret = t;
        return 0;
}

ssize_t tls_read(TlsConn *t, void *buf, size_t n, int timeout_ms) {
        for (;;) {
                size_t got = 0;
                int r = SSL_read_ex(t->ssl, buf, n, &got);
                if (r == 1)
                        return (ssize_t) got;
                r = tls_wait(t, r, timeout_ms, "read");
                if (r <= 0)
                        return r;
        }
}

int tls_write_all(TlsConn *t, const void *buf, size_t n, int timeout_ms) {
        const char *p = buf;
        while (n > 0) {
                size_t done = 0;
                int r = SSL_write_ex(t->ssl, p, n, &done);
                if (r == 1) {
                        p += done;
                        n -= done;
                        continue;
                }
                r = tls_wait(t, r, timeout_ms, "write");
                if (r == 0)
                        return error_setf(EPIPE, "TLS write: the connection was closed");
                if (r < 0)
                        return r;
        }
        return 0;
}

TlsConn *tls_free(TlsConn *t) {
        if (!t)
                return NULL;
        SSL_free(t->ssl);
        free(t);
        return NULL;
}
