/* SPDX-License-Identifier: MIT */
#include "tuf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canonical-json.h"
#include "error.h"
#include "fileio.h"
#include "hexuuid.h"

static const char *const role_names[_TUF_ROLE_MAX] = {
        [TUF_ROOT] = "root",
        [TUF_TIMESTAMP] = "timestamp",
        [TUF_SNAPSHOT] = "snapshot",
        [TUF_TARGETS] = "targets",
};

const char *tuf_role_to_string(TufRole r) {
        return r >= 0 && r < _TUF_ROLE_MAX ? role_names[r] : NULL;
}

static void target_done(TufTarget *t) {
        free(t->name);
        free(t->image);
        free(t->version);
        free(t->channel);
        free(t->architecture);
        free(t->root_hash);
        free(t->file);
        free(t->base_root_hash);
}

TufMetadata *tuf_metadata_free(TufMetadata *m) {
        if (!m)
                return NULL;
        free(m->spec_version);
        free(m->keys);
        for (size_t i = 0; i < _TUF_ROLE_MAX; i++)
                free(m->roles[i].keyids);
        for (size_t i = 0; i < m->n_meta; i++)
                free(m->meta[i].name);
        free(m->meta);
        for (size_t i = 0; i < m->n_targets; i++)
                target_done(&m->targets[i]);
        free(m->targets);
        free(m->signatures);
        free(m->signed_canonical);
        free(m);
        return NULL;
}

int tuf_parse_time(const char *s, int64_t *ret) {
        struct tm tm = {};
        int n = 0;

        if (!s || strlen(s) != 20 ||
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
            n != 20)
                return -EINVAL;
        for (size_t i = 0; i < 20; i++)
                if ((i == 4 || i == 7)     ? s[i] != '-'
                    : i == 10              ? s[i] != 'T'
                    : (i == 13 || i == 16) ? s[i] != ':'
                    : i == 19              ? s[i] != 'Z'
                                           : (s[i] < '0' || s[i] > '9'))
                        return -EINVAL;
        if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
            tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ret = (int64_t) timegm(&tm);
        return 0;
}

int tuf_format_time(int64_t t, char ret[static 21]) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || strftime(ret, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
                return -EINVAL;
        return 0;
}

/* Typed access to "signed"; every failure names the field. */
typedef struct Ctx {
        const char *name;
} Ctx;

#define BAD(c, fmt, ...) error_setf(EBADMSG, "%s: " fmt, (c)->name, ##__VA_ARGS__)

static int get_member(const Ctx *c, json_t *obj, const char *path, const char *key, json_type type,
                      bool optional, json_t **ret) {
        static const char *const type_names[] = {
                [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
                [JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
                [JSON_REAL] = "a number",    [JSON_TRUE] = "a boolean",
                [JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
        };
        json_t *v = json_object_get(obj, key);

        if (!v) {
                if (optional) {
                        *ret = NULL;
                        return 0;
                }
                return BAD(c, "%s.%s: missing", path, key);
        }
        if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v)))
                return BAD(c, "%s.%s: expected %s", path, key, type_names[type]);
        *ret = v;
        return 0;
}

static int get_string(const Ctx *c, json_t *obj, const char *path, const char *key, bool optional,
                      const char **ret) {
        json_t *v = NULL;
        int r = get_member(c, obj, path, key, JSON_STRING, optional, &v);
        if (r < 0)
                return r;
        if (v &&
            (strlen(json_string_value(v)) != json_string_length(v) || json_string_length(v) > 4096))
                return BAD(c, "%s.%s: expected a string without NUL of at most 4096 bytes", path,
                           key);
        *ret = v ? json_string_value(v) : NULL;
        return 0;
}

static int get_uint(const Ctx *c, json_t *obj, const char *path, const char *key, bool optional,
                    uint64_t min, uint64_t *ret) {
        json_t *v = NULL;
        int r = get_member(c, obj, path, key, JSON_INTEGER, optional, &v);
        if (r < 0)
                return r;
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (json_integer_value(v) < 0 || (uint64_t) json_integer_value(v) < min)
                return BAD(c, "%s.%s: expected an integer of at least %" PRIu64, path, key, min);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

static bool is_hex(const char *s, size_t len) {
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static int parse_keyid(const Ctx *c, const char *path, const char *s, char ret[TUF_KEYID_SIZE]) {
        if (!is_hex(s, 64))
                return BAD(c, "%s: expected a key id of 64 lowercase hex digits", path);
        memcpy(ret, s, TUF_KEYID_SIZE);
        return 0;
}

static int parse_hashes(const Ctx *c, json_t *obj, const char *path, bool optional,
                        char ret[SHA256_HEX_SIZE]) {
        json_t *hashes;
        const char *sha;
        _cleanup_free_ char *p = strdup_printf("%s.hashes", path);
        int r;

        ret[0] = 0;
        if (!p)
                return -ENOMEM;
        r = get_member(c, obj, path, "hashes", JSON_OBJECT, optional, &hashes);
        if (r < 0 || !hashes)
                return r;
        r = get_string(c, hashes, p, "sha256", false, &sha);
        if (r < 0)
                return r;
        if (!is_hex(sha, 64))
                return BAD(c, "%s.sha256: expected 64 lowercase hex digits", p);
        memcpy(ret, sha, SHA256_HEX_SIZE);
        return 0;
}

static int parse_root(const Ctx *c, json_t *s, TufMetadata *m) {
        json_t *keys, *roles, *v, *cs;
        const char *k;
        size_t i = 0;
        int r;

        r = get_member(c, s, "signed", "consistent_snapshot", JSON_TRUE, true, &cs);
        if (r < 0)
                return r;
        m->consistent_snapshot = cs && json_is_true(cs);
        if ((r = get_member(c, s, "signed", "keys", JSON_OBJECT, false, &keys)) < 0 ||
            (r = get_member(c, s, "signed", "roles", JSON_OBJECT, false, &roles)) < 0)
                return r;
        if (json_object_size(keys) > TUF_KEYS_MAX * _TUF_ROLE_MAX)
                return BAD(c, "signed.keys: more than %u keys", TUF_KEYS_MAX * _TUF_ROLE_MAX);
        m->keys = calloc(MAX(json_object_size(keys), (size_t) 1), sizeof(TufKey));
        if (!m->keys)
                return -ENOMEM;
        json_object_foreach(keys, k, v) {
                _cleanup_free_ char *p = strdup_printf("signed.keys['%.64s']", k);
                const char *type, *scheme, *pub;
                json_t *keyval;
                TufKey *key = &m->keys[m->n_keys];

                if (!p)
                        return -ENOMEM;
                r = parse_keyid(c, p, k, key->keyid);
                if (r < 0)
                        return r;
                if (!json_is_object(v))
                        return BAD(c, "%s: expected an object", p);
                if ((r = get_string(c, v, p, "keytype", false, &type)) < 0 ||
                    (r = get_string(c, v, p, "scheme", false, &scheme)) < 0 ||
                    (r = get_member(c, v, p, "keyval", JSON_OBJECT, false, &keyval)) < 0)
                        return r;
                /* Keys of other types may be listed; they can never count
                 * toward a threshold here. */
                if (!streq(type, "ed25519") || !streq(scheme, "ed25519"))
                        continue;
                _cleanup_free_ char *kp = strdup_printf("%s.keyval", p);
                if (!kp)
                        return -ENOMEM;
                r = get_string(c, keyval, kp, "public", false, &pub);
                if (r < 0)
                        return r;
                if (!is_hex(pub, 64) || hex_decode(pub, key->public_key, ED25519_KEY_SIZE) < 0)
                        return BAD(c, "%s.public: expected 64 lowercase hex digits", kp);
                /* The key id must be the key's own hash: a root cannot list
                 * one key under two ids to count it twice. */
                char id[TUF_KEYID_SIZE];
                r = tuf_key_id(key->public_key, id);
                if (r < 0)
                        return r;
                if (!streq(id, key->keyid))
                        return BAD(c, "%s: key id is not the SHA-256 of the key", p);
                m->n_keys++;
        }
        for (TufRole role = 0; role < _TUF_ROLE_MAX; role++) {
                _cleanup_free_ char *p = strdup_printf("signed.roles.%s", role_names[role]);
                json_t *ro, *ids, *id;
                uint64_t threshold;

                if (!p)
                        return -ENOMEM;
                if ((r = get_member(c, roles, "signed.roles", role_names[role], JSON_OBJECT, false,
                                    &ro)) < 0 ||
                    (r = get_member(c, ro, p, "keyids", JSON_ARRAY, false, &ids)) < 0 ||
                    (r = get_uint(c, ro, p, "threshold", false, 1, &threshold)) < 0)
                        return r;
                if (json_array_size(ids) > TUF_KEYS_MAX)
                        return BAD(c, "%s.keyids: more than %u keys", p, TUF_KEYS_MAX);
                if (threshold > json_array_size(ids))
                        return BAD(c, "%s.threshold: %" PRIu64 " is more than the %zu keys", p,
                                   threshold, json_array_size(ids));
                m->roles[role].threshold = (unsigned) threshold;
                m->roles[role].keyids =
                        calloc(MAX(json_array_size(ids), (size_t) 1), TUF_KEYID_SIZE);
                if (!m->roles[role].keyids)
                        return -ENOMEM;
                json_array_foreach(ids, i, id) {
                        _cleanup_free_ char *ip = strdup_printf("%s.keyids[%zu]", p, i);
                        if (!ip)
                                return -ENOMEM;
                        if (!json_is_string(id))
                                return BAD(c, "%s: expected a string", ip);
                        r = parse_keyid(c, ip, json_string_value(id),
                                        m->roles[role].keyids[m->roles[role].n_keyids]);
                        if (r < 0)
                                return r;
                        for (size_t j = 0; j < m->roles[role].n_keyids; j++)
                                if (streq(m->roles[role].keyids[j], json_string_value(id)))
                                        return BAD(c, "%s: listed twice", ip);
                        m->roles[role].n_keyids++;
                }
        }
        return 0;
}

static int parse_meta(const Ctx *c, json_t *s, TufMetadata *m) {
        json_t *meta, *v;
        const char *k;
        int r;

        r = get_member(c, s, "signed", "meta", JSON_OBJECT, false, &meta);
        if (r < 0)
                return r;
        if (json_object_size(meta) > 1024)
                return BAD(c, "signed.meta: more than 1024 entries");
        m->meta = calloc(MAX(json_object_size(meta), (size_t) 1), sizeof(TufMetaFile));
        if (!m->meta)
                return -ENOMEM;
        json_object_foreach(meta, k, v) {
                _cleanup_free_ char *p = strdup_printf("signed.meta['%.64s']", k);
                TufMetaFile *f = &m->meta[m->n_meta];

                if (!p)
                        return -ENOMEM;
                if (!json_is_object(v))
                        return BAD(c, "%s: expected an object", p);
                if ((r = get_uint(c, v, p, "version", false, 1, &f->version)) < 0 ||
                    (r = get_uint(c, v, p, "length", true, 0, &f->length)) < 0 ||
                    (r = parse_hashes(c, v, p, true, f->sha256)) < 0)
                        return r;
                f->name = strdup(k);
                if (!f->name)
                        return -ENOMEM;
                m->n_meta++;
        }
        if (m->type == TUF_TIMESTAMP && !tuf_find_meta(m, "snapshot.json"))
                return BAD(c, "signed.meta: no entry for snapshot.json");
        if (m->type == TUF_SNAPSHOT && !tuf_find_meta(m, "targets.json"))
                return BAD(c, "signed.meta: no entry for targets.json");
        return 0;
}

static int dup_custom(const Ctx *c, json_t *custom, const char *path, const char *key, char **ret) {
        const char *s;
        int r = get_string(c, custom, path, key, false, &s);
        if (r < 0)
                return r;
        if (isempty(s))
                return BAD(c, "%s.%s: empty", path, key);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_targets(const Ctx *c, json_t *s, TufMetadata *m) {
        json_t *targets, *v, *custom;
        const char *k;
        int r;

        r = get_member(c, s, "signed", "targets", JSON_OBJECT, false, &targets);
        if (r < 0)
                return r;
        if (json_object_size(targets) > 65536)
                return BAD(c, "signed.targets: more than 65536 targets");
        m->targets = calloc(MAX(json_object_size(targets), (size_t) 1), sizeof(TufTarget));
        if (!m->targets)
                return -ENOMEM;
        json_object_foreach(targets, k, v) {
                _cleanup_free_ char *p = strdup_printf("signed.targets['%.128s']", k), *cp = NULL;
                TufTarget *t = &m->targets[m->n_targets];

                if (!p)
                        return -ENOMEM;
                if (!json_is_object(v))
                        return BAD(c, "%s: expected an object", p);
                t->name = strdup(k);
                if (!t->name)
                        return -ENOMEM;
                m->n_targets++;
                if ((r = get_uint(c, v, p, "length", false, 0, &t->length)) < 0 ||
                    (r = parse_hashes(c, v, p, false, t->sha256)) < 0 ||
                    (r = get_member(c, v, p, "custom", JSON_OBJECT, true, &custom)) < 0)
                        return r;
                if (!custom)
                        continue;
                cp = strdup_printf("%s.custom", p);
                if (!cp)
                        return -ENOMEM;
                if ((r = dup_custom(c, custom, cp, "image", &t->image)) < 0 ||
                    (r = dup_custom(c, custom, cp, "version", &t->version)) < 0 ||
                    (r = dup_custom(c, custom, cp, "channel", &t->channel)) < 0 ||
                    (r = dup_custom(c, custom, cp, "architecture", &t->architecture)) < 0 ||
                    (r = dup_custom(c, custom, cp, "root_hash", &t->root_hash)) < 0 ||
                    (r = dup_custom(c, custom, cp, "file", &t->file)) < 0)
                        return r;
                if (!is_hex(t->root_hash, 64))
                        return BAD(c, "%s.root_hash: expected 64 lowercase hex digits", cp);
                /* A usr image patch's base (usr-patch.h); optional. */
                const char *base = NULL;
                r = get_string(c, custom, cp, "base_root_hash", true, &base);
                if (r < 0)
                        return r;
                if (base && !is_hex(base, 64))
                        return BAD(c, "%s.base_root_hash: expected 64 lowercase hex digits", cp);
                if (base && !(t->base_root_hash = strdup(base)))
                        return -ENOMEM;
                if (strchr(t->file, '/') || streq(t->file, "..") || streq(t->file, "."))
                        return BAD(c, "%s.file: expected a plain file name", cp);
        }
        return 0;
}

static int parse_signatures(const Ctx *c, json_t *env, TufMetadata *m) {
        json_t *sigs, *v;
        size_t i;
        int r;

        r = get_member(c, env, "", "signatures", JSON_ARRAY, false, &sigs);
        if (r < 0)
                return r;
        if (json_array_size(sigs) > TUF_KEYS_MAX)
                return BAD(c, "signatures: more than %u", TUF_KEYS_MAX);
        m->signatures = calloc(MAX(json_array_size(sigs), (size_t) 1), sizeof(TufSignature));
        if (!m->signatures)
                return -ENOMEM;
        json_array_foreach(sigs, i, v) {
                _cleanup_free_ char *p = strdup_printf("signatures[%zu]", i);
                TufSignature *sg = &m->signatures[m->n_signatures];
                const char *keyid, *sig;

                if (!p)
                        return -ENOMEM;
                if (!json_is_object(v))
                        return BAD(c, "%s: expected an object", p);
                if ((r = get_string(c, v, p, "keyid", false, &keyid)) < 0 ||
                    (r = get_string(c, v, p, "sig", false, &sig)) < 0)
                        return r;
                r = parse_keyid(c, p, keyid, sg->keyid);
                if (r < 0)
                        return r;
                sg->valid_form = is_hex(sig, 2 * ED25519_SIG_SIZE) &&
                                 hex_decode(sig, sg->sig, ED25519_SIG_SIZE) >= 0;
                m->n_signatures++;
        }
        return 0;
}

int tuf_parse(const char *data, size_t size, TufRole expected, const char *name,
              TufMetadata **ret) {
        _cleanup_(tuf_metadata_freep) TufMetadata *m = NULL;
        _cleanup_free_ char *msg = NULL;
        json_t *env = NULL, *s;
        const char *type, *expires, *spec;
        Ctx c = { .name = name };
        int r;

        if (expected < 0 || expected >= _TUF_ROLE_MAX)
                return -EINVAL;
        r = json_parse_bounded(data, size, &env, &msg);
        if (r < 0)
                return BAD(&c, "not JSON: %s", msg ?: "out of memory");
        m = calloc(1, sizeof *m);
        if (!m) {
                json_decref(env);
                return -ENOMEM;
        }
        m->type = expected;
        r = json_is_object(env) ? 0 : BAD(&c, "expected a JSON object");
        if (r >= 0)
                r = get_member(&c, env, "", "signed", JSON_OBJECT, false, &s);
        if (r >= 0)
                r = parse_signatures(&c, env, m);
        if (r >= 0)
                r = get_string(&c, s, "signed", "_type", false, &type);
        if (r >= 0 && !streq(type, role_names[expected]))
                r = BAD(&c, "signed._type: expected \"%s\", got \"%.32s\"", role_names[expected],
                        type);
        if (r >= 0)
                r = get_string(&c, s, "signed", "spec_version", false, &spec);
        if (r >= 0 && !strneq(spec, "1.", 2))
                r = BAD(&c, "signed.spec_version: \"%.32s\" is not 1.x", spec);
        if (r >= 0)
                r = get_uint(&c, s, "signed", "version", false, 1, &m->version);
        if (r >= 0 && m->version > INT64_MAX)
                r = BAD(&c, "signed.version: too large");
        if (r >= 0)
                r = get_string(&c, s, "signed", "expires", false, &expires);
        if (r >= 0 && tuf_parse_time(expires, &m->expires) < 0)
                r = BAD(&c, "signed.expires: expected a time like 2030-01-01T00:00:00Z");
        if (r >= 0)
                m->spec_version = strdup(spec);
        if (r >= 0 && !m->spec_version)
                r = -ENOMEM;
        if (r >= 0)
                switch (expected) {
                case TUF_ROOT:
                        r = parse_root(&c, s, m);
                        break;
                case TUF_TIMESTAMP:
                case TUF_SNAPSHOT:
                        r = parse_meta(&c, s, m);
                        break;
                case TUF_TARGETS:
                        r = parse_targets(&c, s, m);
                        break;
                default:
                        break;
                }
        if (r >= 0) {
                r = json_canonical(s, &m->signed_canonical, &m->signed_size);
                if (r < 0)
                        r = BAD(&c, "signed: %s", error_message(r));
        }
        json_decref(env);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

const TufMetaFile *tuf_find_meta(const TufMetadata *m, const char *name) {
        for (size_t i = 0; i < m->n_meta; i++)
                if (streq(m->meta[i].name, name))
                        return &m->meta[i];
        return NULL;
}

const TufKey *tuf_find_key(const TufMetadata *root, const char *keyid) {
        for (size_t i = 0; i < root->n_keys; i++)
                if (streq(root->keys[i].keyid, keyid))
                        return &root->keys[i];
        return NULL;
}

static bool role_has_key(const TufRoleKeys *rk, const char *keyid) {
        for (size_t i = 0; i < rk->n_keyids; i++)
                if (streq(rk->keyids[i], keyid))
                        return true;
        return false;
}

int tuf_verify(const TufMetadata *m, const TufMetadata *root, TufRole role, const char *name) {
        const TufRoleKeys *rk;
        char counted[TUF_KEYS_MAX][TUF_KEYID_SIZE];
        unsigned good = 0;
        const char *why = NULL;
        char why_key[17] = "";

        if (!m || !root || root->type != TUF_ROOT || role < 0 || role >= _TUF_ROLE_MAX)
                return -EINVAL;
        rk = &root->roles[role];
        for (size_t i = 0; i < m->n_signatures; i++) {
                const TufSignature *sg = &m->signatures[i];
                const TufKey *key;
                bool dup = false;

                if (!role_has_key(rk, sg->keyid) || !(key = tuf_find_key(root, sg->keyid))) {
                        if (!why) {
                                why = "a key the role does not trust";
                                snprintf(why_key, sizeof why_key, "%.16s", sg->keyid);
                        }
                        continue;
                }
                for (unsigned j = 0; j < good; j++)
                        if (streq(counted[j], sg->keyid))
                                dup = true;
                if (dup)
                        continue;
                if (!sg->valid_form || ed25519_verify(key->public_key, m->signed_canonical,
                                                      m->signed_size, sg->sig) < 0) {
                        why = "a signature that does not verify";
                        snprintf(why_key, sizeof why_key, "%.16s", sg->keyid);
                        continue;
                }
                memcpy(counted[good++], sg->keyid, TUF_KEYID_SIZE);
        }
        if (good >= rk->threshold && rk->threshold > 0)
                return 0;
        if (why)
                return error_setf(EKEYREJECTED,
                                  "%s: %u valid %s signature(s), %u required (%s: key %s)", name,
                                  good, role_names[role], rk->threshold, why, why_key);
        return error_setf(EKEYREJECTED, "%s: %u valid %s signature(s), %u required", name, good,
                          role_names[role], rk->threshold);
}

int tuf_check_expiry(const TufMetadata *m, time_t now, const char *name) {
        char when[21] = "?";

        if (m->expires > (int64_t) now)
                return 0;
        (void) tuf_format_time(m->expires, when);
        return error_setf(EKEYEXPIRED, "%s: expired at %s", name, when);
}

json_t *tuf_key_json(const uint8_t public_key[static ED25519_KEY_SIZE]) {
        char hex[2 * ED25519_KEY_SIZE + 1];

        hex_encode(public_key, ED25519_KEY_SIZE, hex);
        return json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                         "public", hex);
}

int tuf_key_id(const uint8_t public_key[static ED25519_KEY_SIZE], char ret[static TUF_KEYID_SIZE]) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        json_t *j = tuf_key_json(public_key);
        int r;

        if (!j)
                return -ENOMEM;
        r = json_canonical(j, &text, &size);
        json_decref(j);
        if (r < 0)
                return r;
        return sha256_buffer_hex(text, size, ret);
}

int tuf_sign(json_t *signed_obj, const TufSigner *signers, size_t n_signers, char **ret_text,
             size_t *ret_size) {
        _cleanup_free_ char *canon = NULL;
        json_t *env = NULL, *sigs;
        size_t size;
        int r;

        r = json_canonical(signed_obj, &canon, &size);
        if (r < 0)
                return r;
        sigs = json_array();
        if (!sigs)
                return -ENOMEM;
        for (size_t i = 0; i < n_signers; i++) {
                uint8_t sig[ED25519_SIG_SIZE];
                char hex[2 * ED25519_SIG_SIZE + 1];

                r = ed25519_sign(signers[i].private_key, canon, size, sig);
                if (r < 0)
                        goto fail;
                hex_encode(sig, sizeof sig, hex);
                r = json_append(sigs,
                                json_pack("{s:s, s:s}", "keyid", signers[i].keyid, "sig", hex));
                if (r < 0)
                        goto fail;
        }
        env = json_pack("{s:o, s:O}", "signatures", sigs, "signed", signed_obj);
        if (!env)
                return -ENOMEM;
        /* Readable on disk; verifiers canonicalize "signed" themselves. */
        char *text = json_dumps(env, JSON_INDENT(1) | JSON_SORT_KEYS);
        json_decref(env);
        if (!text)
                return -ENOMEM;
        if (ret_size)
                *ret_size = strlen(text);
        *ret_text = text;
        return 0;
fail:
        json_decref(sigs);
        return r;
}

int tuf_signer_generate(TufSigner *ret) {
        TufSigner s = {};
        int r = ed25519_generate(s.public_key, s.private_key);
        if (r < 0)
                return r;
        r = tuf_key_id(s.public_key, s.keyid);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int tuf_signer_write(const TufSigner *s, const char *path) {
        char pub[2 * ED25519_KEY_SIZE + 1], priv[2 * ED25519_KEY_SIZE + 1];
        _cleanup_free_ char *text = NULL;
        json_t *j;
        int r;

        hex_encode(s->public_key, ED25519_KEY_SIZE, pub);
        hex_encode(s->private_key, ED25519_KEY_SIZE, priv);
        j = json_pack("{s:s, s:s, s:{s:s, s:s}}", "keytype", "ed25519", "scheme", "ed25519",
                      "keyval", "public", pub, "private", priv);
        explicit_bzero(priv, sizeof priv);
        if (!j)
                return -ENOMEM;
        text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
        json_decref(j);
        if (!text)
                return -ENOMEM;
        r = write_file_atomic(path, text, strlen(text), 0600);
        explicit_bzero(text, strlen(text));
        return r < 0 ? error_wrapf(r, "cannot write %s", path) : 0;
}

int tuf_signer_read(const char *path, TufSigner *ret) {
        _cleanup_free_ char *data = NULL, *msg = NULL;
        const char *pub, *priv;
        TufSigner s = {};
        size_t size;
        json_t *j = NULL;
        int r;

        r = read_full_file(path, &data, &size, 64 << 10);
        if (r < 0)
                return error_wrapf(r, "cannot read key %s", path);
        r = json_parse_bounded(data, size, &j, &msg);
        explicit_bzero(data, size);
        if (r < 0)
                return error_setf(EBADMSG, "%s: not a key file: %s", path, msg ?: "");
        if (json_unpack(j, "{s:{s:s, s:s}}", "keyval", "public", &pub, "private", &priv) < 0 ||
            !is_hex(pub, 64) || !is_hex(priv, 64) ||
            hex_decode(pub, s.public_key, ED25519_KEY_SIZE) < 0 ||
            hex_decode(priv, s.private_key, ED25519_KEY_SIZE) < 0) {
                json_decref(j);
                return error_setf(EBADMSG,
                                  "%s: keyval.public and keyval.private must be 64 hex "
                                  "digits each",
                                  path);
        }
        json_decref(j);
        uint8_t check[ED25519_KEY_SIZE];
        r = ed25519_public_key(s.private_key, check);
        if (r < 0 || memcmp(check, s.public_key, ED25519_KEY_SIZE) != 0)
                return error_setf(EBADMSG, "%s: the public key does not belong to the private key",
                                  path);
        r = tuf_key_id(s.public_key, s.keyid);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}
