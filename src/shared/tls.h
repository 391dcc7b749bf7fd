/* SPDX-License-Identifier: MIT */
/* tls.h: TLS client connections with OpenSSL's libssl (the only place that
 * calls libssl). Peers are verified against the system CA store
 * (/etc/ssl/certs/ca-certificates.crt and OpenSSL's default paths, or
 * $SSL_CERT_FILE / $SSL_CERT_DIR instead) and the host name (or IP address)
 * of the URL; TLS 1.2 at least. The socket is
 * non-blocking; every call waits with poll() up to its timeout. */
#pragma once

#include <sys/types.h>

typedef struct TlsConn TlsConn;

/* Handshakes on the connected socket fd (not owned) for host, within
 * timeout_ms. Returns 0, or -ETIMEDOUT, -ECONNREFUSED, -EPROTO with the
 * error set (OpenSSL's reason, the certificate check that failed). */
int tls_connect(int fd, const char *host, int timeout_ms, TlsConn **ret);

/* Reads up to n bytes, waiting at most timeout_ms for the first. Returns the
 * count, 0 at the end of the stream, or a negative errno (error set). */
ssize_t tls_read(TlsConn *t, void *buf, size_t n, int timeout_ms);

/* Writes all n bytes, waiting at most timeout_ms for progress each time. */
int tls_write_all(TlsConn *t, const void *buf, size_t n, int timeout_ms);

/* Frees the session (sends no close_notify: the socket is closed next). */
TlsConn *tls_free(TlsConn *t);
