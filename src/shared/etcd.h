/* SPDX-License-Identifier: MIT */
/* etcd.h: a small etcd v3 client over etcd's JSON gRPC gateway (etcd 3.4:
 * POST /v3/kv/range and /v3/kv/txn, keys and values in base64, 64-bit
 * integers as JSON strings), on berth's own HTTP client (http-client.h):
 * http:// and https:// endpoints (peers checked against the system CA
 * store, as every HTTPS connection of berth), tried in the order given; the
 * one that answered is asked first next time. Leases (POST /v3/lease/grant,
 * keepalive, timetolive, revoke) as tokens with a TTL. No client
 * certificates, no authentication, no watches. An EtcdClient is not shared between
 * threads. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct EtcdClient EtcdClient;

/* Endpoints are base URLs ("http://10.0.0.1:2379"); timeout_s bounds the
 * connect and each wait for data of one request (0: 5 s). Returns -EINVAL
 * (error set, naming the endpoint) for a URL that is not http or https. */
int etcd_client_new(char *const *endpoints, unsigned timeout_s, EtcdClient **ret);
EtcdClient *etcd_client_free(EtcdClient *c);
static inline void etcd_client_freep(EtcdClient **c) {
        etcd_client_free(*c);
}

typedef struct EtcdKv {
        char *value; /* NUL-terminated (value may hold NULs: size says) */
        size_t size;
        int64_t mod_revision;
} EtcdKv;
void etcd_kv_done(EtcdKv *kv);

/* The value of key: 1 with *ret filled, 0 when the key does not exist.
 * Errors (error set, naming the endpoint and, for a bad answer, the field):
 * -EHOSTUNREACH when no endpoint answered (each one's reason in the
 * message), -EPROTO for an HTTP error status, -EBADMSG for an answer that
 * is not what etcd sends. */
int etcd_get(EtcdClient *c, const char *key, EtcdKv *ret);

/* Compare and swap in one transaction: writes value at key only if the
 * key's mod_revision is still mod_revision (0: only if the key does not
 * exist). 1 written, 0 the comparison failed (someone else wrote first),
 * < 0 as etcd_get. */
int etcd_cas(EtcdClient *c, const char *key, int64_t mod_revision, const char *value, size_t size);

/* A lease of ttl_s seconds: its ID (> 0). */
int etcd_lease_grant(EtcdClient *c, unsigned ttl_s, int64_t *ret_id);
/* Renews lease id for its full TTL: *ret_ttl the seconds it has now, or -1
 * when it expired (or never existed). */
int etcd_lease_keepalive(EtcdClient *c, int64_t id, int64_t *ret_ttl);
/* The seconds lease id has left, -1 when it expired (or never existed). */
int etcd_lease_ttl(EtcdClient *c, int64_t id, int64_t *ret_ttl);
/* Ends lease id now (-EPROTO, HTTP 404, when it no longer exists). */
int etcd_lease_revoke(EtcdClient *c, int64_t id);

/* The endpoint that answered last (NULL before any answer). */
const char *etcd_endpoint(const EtcdClient *c);

/* Parsers of the gateway's answers (exposed for tests and fuzzing); what
 * names the source in errors. etcd_parse_range: 1 found (first kv whose key
 * is key), 0 none. etcd_parse_txn: 1 succeeded, 0 not. -EBADMSG with the
 * field named for anything else. */
int etcd_parse_range(const char *data, size_t size, const char *key, const char *what, EtcdKv *ret);
int etcd_parse_txn(const char *data, size_t size, const char *what);
/* A lease answer (grant, timetolive, keepalive's {"result": ...}): its ID
 * and TTL (-1 for an expired lease; keepalive leaves TTL out then). */
int etcd_parse_lease(const char *data, size_t size, const char *what, int64_t *ret_id,
                     int64_t *ret_ttl);

/* Standard base64 (RFC 4648, padded). */
char *etcd_base64_encode(const void *data, size_t size);
/* Returns -EINVAL for anything but padded standard base64. */
int etcd_base64_decode(const char *s, char **ret, size_t *ret_size);
