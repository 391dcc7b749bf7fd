/* SPDX-License-Identifier: MIT */
/* tuf.h: The Update Framework 1.0 metadata as berth's repository publishes
 * and its update agent checks it: the four top-level roles (root, timestamp,
 * snapshot, targets), Ed25519 keys (key id = SHA-256 of the key's canonical
 * JSON), signatures over the canonical JSON of "signed", thresholds,
 * versions and expiry. Metadata comes from the network, so tuf_parse() types
 * every field it uses and names the field in its one error message; nothing
 * of a file is used before tuf_verify() accepted its signatures.
 *
 * Berth's targets carry custom fields: {"image", "version", "channel",
 * "architecture", "root_hash", "file"}, one target per artifact of a release
 * named "<image>/<version>/<file>"; a usr image patch also "base_root_hash". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "digest.h"
#include "json-util.h"
#include "macro.h"

#define TUF_SPEC_VERSION "1.0.31"
#define TUF_KEYID_SIZE SHA256_HEX_SIZE
/* Most keys per role and keys per root; more is refused as outside input. */
#define TUF_KEYS_MAX 32
/* Bounds on files fetched before their length is known from a signed parent. */
#define TUF_ROOT_SIZE_MAX (512u << 10)
#define TUF_TIMESTAMP_SIZE_MAX (64u << 10)
#define TUF_META_SIZE_MAX (8u << 20)

typedef enum TufRole {
        TUF_ROOT,
        TUF_TIMESTAMP,
        TUF_SNAPSHOT,
        TUF_TARGETS,
        _TUF_ROLE_MAX,
        _TUF_ROLE_INVALID = -22,
} TufRole;

const char *tuf_role_to_string(TufRole r);

typedef struct TufKey {
        char keyid[TUF_KEYID_SIZE];
        uint8_t public_key[ED25519_KEY_SIZE];
} TufKey;

typedef struct TufRoleKeys {
        char (*keyids)[TUF_KEYID_SIZE];
        size_t n_keyids;
        unsigned threshold;
} TufRoleKeys;

typedef struct TufSignature {
        char keyid[TUF_KEYID_SIZE];
        uint8_t sig[ED25519_SIG_SIZE];
        bool valid_form; /* false: sig was not 128 hex digits (counts as bad) */
} TufSignature;

/* An entry of timestamp's or snapshot's "meta". */
typedef struct TufMetaFile {
        char *name; /* "snapshot.json", "targets.json" */
        uint64_t version;
        uint64_t length;              /* 0: not given */
        char sha256[SHA256_HEX_SIZE]; /* "": not given */
} TufMetaFile;

typedef struct TufTarget {
        char *name;
        uint64_t length;
        char sha256[SHA256_HEX_SIZE];
        /* berth's custom fields; NULL when the target has none */
        char *image, *version, *channel, *architecture, *root_hash, *file;
        char *base_root_hash; /* a usr image patch's base (usr-patch.h), else NULL */
} TufTarget;

typedef struct TufMetadata {
        TufRole type;
        char *spec_version;
        uint64_t version;
        int64_t expires; /* seconds since the epoch */
        /* root */
        bool consistent_snapshot;
        TufKey *keys;
        size_t n_keys;
        TufRoleKeys roles[_TUF_ROLE_MAX];
        /* timestamp, snapshot */
        TufMetaFile *meta;
        size_t n_meta;
        /* targets */
        TufTarget *targets;
        size_t n_targets;
        /* the envelope */
        TufSignature *signatures;
        size_t n_signatures;
        char *signed_canonical; /* the bytes the signatures cover */
        size_t signed_size;
} TufMetadata;

TufMetadata *tuf_metadata_free(TufMetadata *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(TufMetadata *, tuf_metadata_free);

/* Parses one metadata file of role `expected` (its "_type" must match). name
 * is the file name for messages. -EBADMSG with "NAME: signed.FIELD: what" for
 * anything that is not such metadata. */
int tuf_parse(const char *data, size_t size, TufRole expected, const char *name, TufMetadata **ret);

/* 0 if at least the threshold of root's keys for `role` signed m (each key
 * counted once); -EKEYREJECTED otherwise, naming what was wrong (a bad
 * signature, a key the role does not have, too few signatures). */
int tuf_verify(const TufMetadata *m, const TufMetadata *root, TufRole role, const char *name);

/* -EKEYEXPIRED if m expired before now. */
int tuf_check_expiry(const TufMetadata *m, time_t now, const char *name);

/* The entry of a timestamp's or snapshot's meta, or NULL. */
const TufMetaFile *tuf_find_meta(const TufMetadata *m, const char *name);
/* A key of a root by key id, or NULL. */
const TufKey *tuf_find_key(const TufMetadata *root, const char *keyid);

/* "2026-11-26T12:00:00Z" <-> seconds. -EINVAL for anything else. */
int tuf_parse_time(const char *s, int64_t *ret);
int tuf_format_time(int64_t t, char ret[static 21]);

/* Writing (the publisher). */

/* The key id of a public key and its JSON ({"keytype", "keyval", "scheme"}). */
int tuf_key_id(const uint8_t public_key[static ED25519_KEY_SIZE], char ret[static TUF_KEYID_SIZE]);
json_t *tuf_key_json(const uint8_t public_key[static ED25519_KEY_SIZE]);

typedef struct TufSigner {
        uint8_t private_key[ED25519_KEY_SIZE];
        uint8_t public_key[ED25519_KEY_SIZE];
        char keyid[TUF_KEYID_SIZE];
} TufSigner;

/* Signs `signed` (a "signed" object, not stolen) with each signer and returns
 * the envelope {"signatures": [...], "signed": ...} as text (caller frees). */
int tuf_sign(json_t *signed_obj, const TufSigner *signers, size_t n_signers, char **ret_text,
             size_t *ret_size);

/* Key files of `berth keygen`: {"keytype": "ed25519", "scheme": "ed25519",
 * "keyval": {"public": HEX, "private": HEX}}, mode 0600. */
int tuf_signer_write(const TufSigner *s, const char *path);
int tuf_signer_read(const char *path, TufSigner *ret);
int tuf_signer_generate(TufSigner *ret);
