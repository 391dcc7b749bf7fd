/* SPDX-License-Identifier: MIT */
/* tufclient.h: the client side of TUF 1.0's detailed workflow (section 5):
 * from the trusted root, follow N+1.root.json while it exists (each signed by
 * the old and the new root keys), then timestamp, snapshot and targets, each
 * signed by its role's threshold of keys, none expired, none older than
 * what was seen before (rollback), snapshot and targets matching the length
 * and hash their parent signed. What passed is kept in meta_dir as the new
 * trusted state; nothing is kept from a refresh that fails. */
#pragma once

#include "tuf.h"

typedef struct TufClientOptions {
        const char *base_url;  /* repository; metadata at BASE/NAME */
        const char *root_path; /* the root the image trusts (under /usr) */
        const char *meta_dir;  /* trusted metadata seen before; created */
        unsigned timeout;      /* stall timeout for downloads, seconds (0: default) */
} TufClientOptions;

/* Refreshes and returns the verified targets metadata. */
int tuf_client_refresh(const TufClientOptions *o, TufMetadata **ret_targets);

/* The targets metadata kept by the last successful refresh (not re-checked
 * for expiry), for `berth update status`. -ENOENT if none. */
int tuf_client_load_targets(const char *meta_dir, TufMetadata **ret_targets);
