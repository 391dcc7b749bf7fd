/* SPDX-License-Identifier: MIT */
/* settings-store.h: settings generations on disk (docs/api.md).
 *
 *   DIR/N.json      generation N (N >= 1), never changed once written
 *   DIR/current     "N\n": the generation in force (absent: none, factory)
 *   DIR/pending.json the open transaction (PATCHes merged), absent if none
 *   DIR/lock        flock()ed around every operation
 *
 * Each file is written crash-safely (temp, fsync, rename, fsync DIR), the
 * generation before the pointer, so a power cut leaves the old or the new
 * generation in force, never a torn one. */
#pragma once

#include "json-util.h"
#include "settings.h"

/* The generation in force (0: none) and its settings JSON (an empty object for
 * generation 0); ret_json may be NULL. */
int settings_store_current(const char *dir, unsigned *ret_gen, json_t **ret_json);

/* The open transaction's JSON, or -ENOENT if none. */
int settings_store_pending(const char *dir, json_t **ret_json);

/* Merges a JSON merge patch (outside input) into the open transaction,
 * opening one from the current generation if none is open; the result must
 * validate (its sysctl values against the kernel under proc_sys too, unless
 * NULL: settings_check_sysctl), else nothing is written and the error names
 * the path. */
int settings_store_patch(const char *dir, const char *body, size_t size, const char *proc_sys);

/* Drops the open transaction; fine if none. */
int settings_store_discard(const char *dir);

/* Writes the open transaction as generation max+1 and points current at it.
 * -ENOENT "no pending settings transaction" if none is open. */
int settings_store_commit(const char *dir, unsigned *ret_gen);

/* Points current at the newest generation older than it (-ENOENT if none). */
int settings_store_revert(const char *dir, unsigned *ret_gen);

/* Points current at generation gen (which must exist); used by apply to
 * restore the generation before a failed one. */
int settings_store_set_current(const char *dir, unsigned gen);

/* The generation last applied to /etc (DIR/applied; 0: none) and setting it
 * after an apply succeeded. */
int settings_store_applied(const char *dir, unsigned *ret_gen);
int settings_store_set_applied(const char *dir, unsigned gen);
