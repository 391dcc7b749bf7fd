/* SPDX-License-Identifier: MIT */
/* etcd v3 over the JSON gateway (etcd.h). */
#include "etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "http-client.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

/* An answer of the gateway larger than this is not one berth asked for. */
#define ETCD_ANSWER_MAX (1u << 20)
#define ETCD_TIMEOUT_DEFAULT 5u

struct EtcdClient {
        char **endpoints;
        size_t n, first; /* first: the endpoint that answered last */
        unsigned timeout_s;
        HttpClient *http;
        char *answered;
};

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_base64_encode(const void *data, size_t size) {
        const uint8_t *p = data;
        char *out = malloc((size + 2) / 3 * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                if (i + 1 < size)
                        v |= (uint32_t) p[i + 1] << 8;
                if (i + 2 < size)
                        v |= p[i + 2];
                *o++ = b64[v >> 18];
                *o++ = b64[(v >> 12) & 63];
                *o++ = i + 1 < size ? b64[(v >> 6) & 63] : '=';
                *o++ = i + 2 < size ? b64[v & 63] : '=';
        }
        *o = 0;
        return out;
}

static int b64_value(char c) {
        const char *p = c ? strchr(b64, c) : NULL;
        return p ? (int) (p - b64) : -1;
}

int etcd_base64_decode(const char *s, char **ret, size_t *ret_size) {
        size_t n = strlen(s), k = 0;
        _cleanup_free_ char *out = NULL;

        if (n % 4 != 0)
                return -EINVAL;
        out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i += 4) {
                int v[4];
                bool last = i + 4 == n;
                for (size_t j = 0; j < 4; j++) {
                        v[j] = b64_value(s[i + j]);
                        /* '=' only as the last one or two characters. */
                        if (v[j] < 0 && !(s[i + j] == '=' && last && j >= 2))
                                return -EINVAL;
                }
                if (v[2] < 0 && v[3] >= 0)
                        return -EINVAL;
                uint32_t x = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 |
                             (uint32_t) MAX(v[2], 0) << 6 | (uint32_t) MAX(v[3], 0);
                out[k++] = (char) (x >> 16);
                if (v[2] >= 0)
                        out[k++] = (char) (x >> 8);
                if (v[3] >= 0)
                        out[k++] = (char) x;
        }
        out[k] = 0;
        *ret = TAKE_PTR(out);
        *ret_size = k;
        return 0;
}

int etcd_client_new(char *const *endpoints, unsigned timeout_s, EtcdClient **ret) {
        _cleanup_(etcd_client_freep) EtcdClient *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        if (strv_isempty(endpoints))
                return error_setf(EINVAL, "no etcd endpoints");
        for (char *const *e = endpoints; *e; e++) {
                _cleanup_free_ char *host = NULL, *path = NULL;
                unsigned port;
                bool tls;
                int r = http_url_parse(*e, &tls, &host, &port, &path);
                if (r < 0)
                        return error_wrapf(r, "etcd endpoint");
                _cleanup_free_ char *base = strdup(*e);
                if (!base)
                        return -ENOMEM;
                /* "http://h:2379/" and "http://h:2379" are the same endpoint. */
                while (strlen(base) > 0 && base[strlen(base) - 1] == '/')
                        base[strlen(base) - 1] = 0;
                r = strv_push(&c->endpoints, TAKE_PTR(base));
                if (r < 0)
                        return r;
        }
        c->n = strv_length(c->endpoints);
        c->timeout_s = timeout_s ?: ETCD_TIMEOUT_DEFAULT;
        c->http = http_client_new();
        if (!c->http)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

EtcdClient *etcd_client_free(EtcdClient *c) {
        if (!c)
                return NULL;
        strv_free(c->endpoints);
        http_client_free(c->http);
        free(c);
        return NULL;
}

const char *etcd_endpoint(const EtcdClient *c) {
        return c->answered;
}

typedef struct Answer {
        char *data;
        size_t size;
} Answer;

static int answer_data(const void *data, size_t size, void *userdata) {
        Answer *a = userdata;
        if (a->size + size > ETCD_ANSWER_MAX)
                return error_setf(EFBIG, "the answer is larger than %u bytes", ETCD_ANSWER_MAX);
        char *n = realloc(a->data, a->size + size + 1);
        if (!n)
                return -ENOMEM;
        memcpy(n + a->size, data, size);
        a->data = n;
        a->size += size;
        a->data[a->size] = 0;
        return 0;
}

/* POSTs body to path on the first endpoint that answers. *ret_url names
 * the request for the messages about its answer. */
static int request(EtcdClient *c, const char *path, const char *body, Answer *ret, char **ret_url) {
        _cleanup_free_ char *why = NULL;

        for (size_t k = 0; k < c->n; k++) {
                size_t i = (c->first + k) % c->n;
                _cleanup_free_ char *url = strdup_printf("%s%s", c->endpoints[i], path);
                Answer a = {};
                int status = 0;
                if (!url)
                        return -ENOMEM;
                HttpGet g = {
                        .url = url,
                        .connect_timeout_s = c->timeout_s,
                        .read_timeout_s = c->timeout_s,
                        .on_data = answer_data,
                        .userdata = &a,
                        .post_body = body,
                        .post_size = strlen(body),
                };
                int r = http_get(c->http, &g, &status);
                if (r >= 0) {
                        c->first = i;
                        c->answered = c->endpoints[i];
                        *ret = a;
                        *ret_url = TAKE_PTR(url);
                        return 0;
                }
                free(a.data);
                if (r == -ENOMEM)
                        return r;
                /* The endpoint answered, but not to this request: another
                 * member would say the same. */
                if (status >= 400 && status < 500)
                        return r;
                char *n = strdup_printf("%s%s%s", strempty(why), why ? "; " : "", error_message(r));
                if (!n)
                        return -ENOMEM;
                free(why);
                why = n;
                error_clear();
                log_debug("etcd: %s", why);
        }
        return error_setf(EHOSTUNREACH, "etcd unreachable: %s", strna(why));
}

/* An int64 of the gateway: a JSON string of digits (or a number); absent: 0. */
static int get_int64(json_t *o, const char *field, const char *what, int64_t *ret) {
        json_t *v = json_object_get(o, field);
        *ret = 0;
        if (!v)
                return 0;
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end;
                errno = 0;
                long long x = strtoll(s, &end, 10);
                if (errno == 0 && end != s && !*end && s[0] != ' ' && s[0] != '+') {
                        *ret = x;
                        return 0;
                }
        }
        return error_setf(EBADMSG, "%s: field \"%s\": not an integer", what, field);
}

static int get_b64(json_t *o, const char *field, const char *what, char **ret, size_t *ret_size) {
        json_t *v = json_object_get(o, field);
        if (!v) {
                *ret = strdup("");
                *ret_size = 0;
                return *ret ? 0 : -ENOMEM;
        }
        if (!json_is_string(v))
                return error_setf(EBADMSG, "%s: field \"%s\": not a string", what, field);
        int r = etcd_base64_decode(json_string_value(v), ret, ret_size);
        if (r == -EINVAL)
                return error_setf(EBADMSG, "%s: field \"%s\": not base64", what, field);
        return r;
}

static int parse_object(const char *data, size_t size, const char *what, json_t **ret) {
        _cleanup_free_ char *msg = NULL;
        int r = json_parse_bounded(data, size, ret, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_setf(EBADMSG, "%s: not JSON: %s", what, strna(msg));
        if (!json_is_object(*ret)) {
                json_decref(*ret);
                return error_setf(EBADMSG, "%s: not a JSON object", what);
        }
        return 0;
}

int etcd_parse_range(const char *data, size_t size, const char *key, const char *what,
                     EtcdKv *ret) {
        json_t *j = NULL, *kvs, *kv;
        size_t i;
        int r = parse_object(data, size, what, &j);
        if (r < 0)
                return r;
        kvs = json_object_get(j, "kvs");
        if (!kvs) {
                json_decref(j);
                return 0; /* the gateway leaves out empty lists */
        }
        if (!json_is_array(kvs)) {
                json_decref(j);
                return error_setf(EBADMSG, "%s: field \"kvs\": not a list", what);
        }
        r = 0;
        json_array_foreach(kvs, i, kv) {
                _cleanup_free_ char *k = NULL;
                size_t ksize;
                EtcdKv v = {};
                if (!json_is_object(kv)) {
                        r = error_setf(EBADMSG, "%s: field \"kvs[%zu]\": not an object", what, i);
                        break;
                }
                r = get_b64(kv, "key", what, &k, &ksize);
                if (r < 0)
                        break;
                if (ksize != strlen(key) || memcmp(k, key, ksize) != 0)
                        continue;
                if ((r = get_int64(kv, "mod_revision", what, &v.mod_revision)) < 0 ||
                    (r = get_b64(kv, "value", what, &v.value, &v.size)) < 0)
                        break;
                if (v.mod_revision <= 0) {
                        free(v.value);
                        r = error_setf(EBADMSG, "%s: field \"kvs[%zu].mod_revision\": missing",
                                       what, i);
                        break;
                }
                *ret = v;
                r = 1;
                break;
        }
        json_decref(j);
        return r;
}

int etcd_parse_txn(const char *data, size_t size, const char *what) {
        json_t *j = NULL, *v;
        int r = parse_object(data, size, what, &j);
        if (r < 0)
                return r;
        if (!json_object_get(j, "header"))
                r = error_setf(EBADMSG, "%s: field \"header\": missing", what);
        else if (!(v = json_object_get(j, "succeeded")))
                r = 0; /* false is left out */
        else if (!json_is_boolean(v))
                r = error_setf(EBADMSG, "%s: field \"succeeded\": not a boolean", what);
        else
                r = json_is_true(v);
        json_decref(j);
        return r;
}

void etcd_kv_done(EtcdKv *kv) {
        free(kv->value);
        *kv = (EtcdKv){};
}

int etcd_get(EtcdClient *c, const char *key, EtcdKv *ret) {
        _cleanup_free_ char *k = etcd_base64_encode(key, strlen(key)), *body = NULL, *url = NULL;
        Answer a = {};
        if (!k)
                return -ENOMEM;
        body = strdup_printf("{\"key\":\"%s\"}", k);
        if (!body)
                return -ENOMEM;
        int r = request(c, "/v3/kv/range", body, &a, &url);
        if (r < 0)
                return r;
        r = etcd_parse_range(a.data ?: "", a.size, key, url, ret);
        free(a.data);
        return r;
}

int etcd_cas(EtcdClient *c, const char *key, int64_t mod_revision, const char *value, size_t size) {
        _cleanup_free_ char *k = etcd_base64_encode(key, strlen(key)),
                            *v = etcd_base64_encode(value, size), *body = NULL, *url = NULL;
        Answer a = {};
        if (!k || !v)
                return -ENOMEM;
        /* An absent key has create_revision 0; a present one's mod_revision
         * changes with every write. */
        if (mod_revision == 0)
                body = strdup_printf("{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\","
                                     "\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
                                     "\"success\":[{\"request_put\":{\"key\":\"%s\","
                                     "\"value\":\"%s\"}}]}",
                                     k, k, v);
        else
                body = strdup_printf("{\"compare\":[{\"key\":\"%s\",\"target\":\"MOD\","
                                     "\"result\":\"EQUAL\",\"mod_revision\":\"%" PRId64 "\"}],"
                                     "\"success\":[{\"request_put\":{\"key\":\"%s\","
                                     "\"value\":\"%s\"}}]}",
                                     k, mod_revision, k, v);
        if (!body)
                return -ENOMEM;
        int r = request(c, "/v3/kv/txn", body, &a, &url);
        if (r < 0)
                return r;
        r = etcd_parse_txn(a.data ?: "", a.size, url);
        free(a.data);
        return r;
}

int etcd_parse_lease(const char *data, size_t size, const char *what, int64_t *ret_id,
                     int64_t *ret_ttl) {
        json_t *j = NULL, *o;
        int64_t id = 0, ttl = 0;
        int r = parse_object(data, size, what, &j);
        if (r < 0)
                return r;
        o = json_object_get(j, "result") ?: j; /* keepalive streams {"result": ...} */
        if (!json_is_object(o))
                r = error_setf(EBADMSG, "%s: field \"result\": not an object", what);
        else if (!json_object_get(o, "header"))
                r = error_setf(EBADMSG, "%s: field \"header\": missing", what);
        else if ((r = get_int64(o, "ID", what, &id)) >= 0 &&
                 (r = get_int64(o, "TTL", what, &ttl)) >= 0) {
                if (id <= 0)
                        r = error_setf(EBADMSG, "%s: field \"ID\": missing", what);
                else {
                        *ret_id = id;
                        *ret_ttl = ttl > 0 ? ttl : -1;
                        r = 0;
                }
        }
        json_decref(j);
        return r;
}

/* POSTs body to path and parses the lease answer. */
static int lease_call(EtcdClient *c, const char *path, const char *body, int64_t *ret_id,
                      int64_t *ret_ttl) {
        _cleanup_free_ char *url = NULL;
        Answer a = {};
        if (!body)
                return -ENOMEM;
        int r = request(c, path, body, &a, &url);
        if (r < 0)
                return r;
        r = etcd_parse_lease(a.data ?: "", a.size, url, ret_id, ret_ttl);
        free(a.data);
        return r;
}

int etcd_lease_grant(EtcdClient *c, unsigned ttl_s, int64_t *ret_id) {
        _cleanup_free_ char *body = strdup_printf("{\"TTL\":\"%u\"}", ttl_s);
        int64_t ttl;
        return lease_call(c, "/v3/lease/grant", body, ret_id, &ttl);
}

static int lease_ttl_call(EtcdClient *c, const char *path, int64_t id, int64_t *ret_ttl) {
        _cleanup_free_ char *body = strdup_printf("{\"ID\":\"%" PRId64 "\"}", id);
        int64_t got;
        return lease_call(c, path, body, &got, ret_ttl);
}

int etcd_lease_keepalive(EtcdClient *c, int64_t id, int64_t *ret_ttl) {
        return lease_ttl_call(c, "/v3/lease/keepalive", id, ret_ttl);
}

int etcd_lease_ttl(EtcdClient *c, int64_t id, int64_t *ret_ttl) {
        return lease_ttl_call(c, "/v3/lease/timetolive", id, ret_ttl);
}

int etcd_lease_revoke(EtcdClient *c, int64_t id) {
        _cleanup_free_ char *body = strdup_printf("{\"ID\":\"%" PRId64 "\"}", id), *url = NULL;
        Answer a = {};
        if (!body)
                return -ENOMEM;
        int r = request(c, "/v3/lease/revoke", body, &a, &url);
        free(a.data);
        return r;
}
