/* SPDX-License-Identifier: MIT */
/* publish.h: berth's update repository on the publisher's side (host only):
 * signing keys and the first root metadata (`berth keygen`), and adding a
 * composed image to a static TUF 1.0 repository (`berth publish`). Layout and
 * key rotation: docs/updates.md. */
#pragma once

#include <stdint.h>

typedef struct KeygenOptions {
        const char *output_dir;  /* keys and root metadata go here */
        unsigned threshold;      /* keys per role and their threshold (default 1) */
        unsigned expires_days;   /* root expiry (default 365) */
        const char *rotate_from; /* a key directory whose root this one replaces */
} KeygenOptions;

/* Writes DIR/{root,timestamp,snapshot,targets}.key (mode 0600; with a
 * threshold N > 1, ROLE.key, ROLE-2.key ... ROLE-N.key), DIR/root.json and
 * DIR/V.root.json. With rotate_from, V is the old root's version + 1, the new
 * root is signed by the old root keys too, and the old V-1... .root.json files
 * are carried over so a repository gets the whole chain. */
int publish_keygen(const KeygenOptions *o);

typedef struct PublishOptions {
        const char *repo_dir;
        const char *key_dir;
        const char *image_dir; /* a `berth build` output directory */
        const char *channel;   /* default "stable" */
        unsigned expires_days; /* targets, snapshot, timestamp (default 30; 0: now) */
        unsigned patch_bases;  /* usr image patches against this many earlier releases */
        int patch_level;       /* their zstd level; 0: PUBLISH_PATCH_LEVEL */
} PublishOptions;

#define PUBLISH_PATCH_BASES 2
#define PUBLISH_PATCH_LEVEL 19

/* Adds the image's artifacts as targets (with the delta updater's hint files
 * and usr image patches against up to patch_bases earlier releases of the
 * image) and signs new targets, snapshot and timestamp metadata. Creates the
 * repository if needed. */
int publish_image(const PublishOptions *o);
