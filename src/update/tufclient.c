/* SPDX-License-Identifier: MIT */
#include "tufclient.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define ROOT_CHAIN_MAX 64

typedef struct Client {
        const TufClientOptions *o;
        time_t now;
} Client;

static int read_trusted(const char *dir, const char *name, TufRole role, size_t max,
                        TufMetadata **ret) {
        _cleanup_free_ char *p = path_join(dir, name), *data = NULL;
        size_t size;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, &data, &size, max);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        return tuf_parse(data, size, role, p, ret);
}

/* Downloads BASE/name into meta_dir/incoming/name, bounded by length (exact,
 * when known) or max, checked against sha256 when known; returns its text. */
static int download(Client *c, const char *name, uint64_t length, uint64_t max, const char *sha256,
                    char **ret, size_t *ret_size) {
        _cleanup_free_ char *url = strdup_printf("%s/%s", c->o->base_url, name),
                            *dest = strdup_printf("%s/incoming/%s", c->o->meta_dir, name);
        FetchItem it = {
                .size = length,
                .max_size = length ? 0 : max,
                .sha256 = sha256 && sha256[0] ? sha256 : NULL,
                .stall_timeout = c->o->timeout,
        };
        int r;

        if (!url || !dest)
                return -ENOMEM;
        it.url = url;
        it.dest = dest;
        (void) unlink(dest);
        r = fetch_many(&it, 1, 1);
        if (r < 0) {
                r = it.result < 0 ? it.result : r;
                return r == -ENOENT ? r : error_setf(-r, "%s", it.error[0] ? it.error : url);
        }
        r = read_full_file(dest, ret, ret_size, max);
        (void) unlink(dest);
        return r < 0 ? error_wrapf(r, "cannot read %s", dest) : 0;
}

static int keep(Client *c, const char *name, const char *data, size_t size) {
        _cleanup_free_ char *p = path_join(c->o->meta_dir, name);
        if (!p)
                return -ENOMEM;
        int r = write_file_atomic(p, data, size, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 0;
}

static int forget(Client *c, const char *name) {
        _cleanup_free_ char *p = path_join(c->o->meta_dir, name);
        if (!p)
                return -ENOMEM;
        if (unlink(p) < 0 && errno != ENOENT)
                return error_wrapf(-errno, "cannot remove %s", p);
        return 0;
}

/* 5.3: the trusted root, then every newer root version the repository has. */
static int update_root(Client *c, TufMetadata **ret_root) {
        _cleanup_(tuf_metadata_freep) TufMetadata *root = NULL, *saved = NULL;
        _cleanup_free_ char *data = NULL;
        uint64_t start;
        size_t size;
        int r;

        r = read_full_file(c->o->root_path, &data, &size, TUF_ROOT_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "cannot read the trusted root metadata %s", c->o->root_path);
        r = tuf_parse(data, size, TUF_ROOT, c->o->root_path, &root);
        if (r < 0)
                return r;
        /* A root that a refresh accepted before is as trusted and may be newer. */
        r = read_trusted(c->o->meta_dir, "root.json", TUF_ROOT, TUF_ROOT_SIZE_MAX, &saved);
        if (r < 0 && r != -ENOENT)
                return r;
        if (saved && saved->version > root->version)
                tuf_metadata_free(TAKE_PTR(root)), root = TAKE_PTR(saved);
        start = root->version;

        for (unsigned i = 0; i < ROOT_CHAIN_MAX; i++) {
                _cleanup_(tuf_metadata_freep) TufMetadata *next = NULL;
                _cleanup_free_ char *name = strdup_printf("%" PRIu64 ".root.json",
                                                          root->version + 1),
                                    *text = NULL;
                if (!name)
                        return -ENOMEM;
                r = download(c, name, 0, TUF_ROOT_SIZE_MAX, NULL, &text, &size);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return r;
                if ((r = tuf_parse(text, size, TUF_ROOT, name, &next)) < 0 ||
                    (r = tuf_verify(next, root, TUF_ROOT, name)) < 0 ||
                    (r = tuf_verify(next, next, TUF_ROOT, name)) < 0)
                        return r;
                if (next->version != root->version + 1)
                        return error_setf(EBADMSG, "%s: signed.version is %" PRIu64, name,
                                          next->version);
                r = keep(c, "root.json", text, size);
                if (r < 0)
                        return r;
                tuf_metadata_free(root);
                root = TAKE_PTR(next);
        }
        r = tuf_check_expiry(root, c->now, "root.json");
        if (r < 0)
                return r;
        if (root->version != start) {
                /* 5.3.11: new keys may have replaced the old ones; what the
                 * old keys signed is no reference any more. */
                if ((r = forget(c, "timestamp.json")) < 0 || (r = forget(c, "snapshot.json")) < 0)
                        return r;
                log_info("trusted root metadata is now version %" PRIu64, root->version);
        }
        *ret_root = TAKE_PTR(root);
        return 0;
}

static int rollback_error(const char *name, uint64_t got, uint64_t seen) {
        return error_setf(ESTALE,
                          "%s: version %" PRIu64 " is lower than version %" PRIu64
                          " seen before (a replayed or rolled back repository)",
                          name, got, seen);
}

int tuf_client_refresh(const TufClientOptions *o, TufMetadata **ret_targets) {
        _cleanup_(tuf_metadata_freep) TufMetadata *root = NULL, *ts = NULL, *old_ts = NULL,
                                                  *snap = NULL, *old_snap = NULL, *targets = NULL;
        _cleanup_free_ char *ts_text = NULL, *snap_text = NULL, *t_text = NULL, *incoming = NULL,
                            *snap_name = NULL, *t_name = NULL;
        size_t ts_size, snap_size, t_size;
        Client c = { .o = o, .now = time(NULL) };
        const TufMetaFile *mf, *old_mf;
        int r;

        incoming = strdup_printf("%s/incoming", o->meta_dir);
        if (!incoming)
                return -ENOMEM;
        r = mkdir_p(incoming, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", incoming);
        r = update_root(&c, &root);
        if (r < 0)
                return r;

        /* 5.4 timestamp */
        r = download(&c, "timestamp.json", 0, TUF_TIMESTAMP_SIZE_MAX, NULL, &ts_text, &ts_size);
        if (r == -ENOENT)
                return error_setf(ENOENT, "%s/timestamp.json: not found (404)", o->base_url);
        if (r < 0)
                return r;
        if ((r = tuf_parse(ts_text, ts_size, TUF_TIMESTAMP, "timestamp.json", &ts)) < 0 ||
            (r = tuf_verify(ts, root, TUF_TIMESTAMP, "timestamp.json")) < 0)
                return r;
        r = read_trusted(o->meta_dir, "timestamp.json", TUF_TIMESTAMP, TUF_TIMESTAMP_SIZE_MAX,
                         &old_ts);
        if (r < 0 && r != -ENOENT)
                return r;
        mf = tuf_find_meta(ts, "snapshot.json");
        if (old_ts) {
                old_mf = tuf_find_meta(old_ts, "snapshot.json");
                if (ts->version < old_ts->version)
                        return rollback_error("timestamp.json", ts->version, old_ts->version);
                if (mf->version < old_mf->version)
                        return rollback_error("timestamp.json: meta snapshot.json", mf->version,
                                              old_mf->version);
        }
        r = tuf_check_expiry(ts, c.now, "timestamp.json");
        if (r < 0)
                return r;

        /* 5.5 snapshot (consistent: VERSION.snapshot.json) */
        snap_name = strdup_printf("%" PRIu64 ".snapshot.json", mf->version);
        if (!snap_name)
                return -ENOMEM;
        r = download(&c, snap_name, mf->length, TUF_META_SIZE_MAX, mf->sha256, &snap_text,
                     &snap_size);
        if (r == -ENOENT)
                return error_setf(ENOENT, "%s/%s: not found (404)", o->base_url, snap_name);
        if (r < 0)
                return r;
        if ((r = tuf_parse(snap_text, snap_size, TUF_SNAPSHOT, snap_name, &snap)) < 0 ||
            (r = tuf_verify(snap, root, TUF_SNAPSHOT, snap_name)) < 0)
                return r;
        if (snap->version != mf->version)
                return error_setf(EBADMSG, "%s: version %" PRIu64 ", timestamp.json says %" PRIu64,
                                  snap_name, snap->version, mf->version);
        r = read_trusted(o->meta_dir, "snapshot.json", TUF_SNAPSHOT, TUF_META_SIZE_MAX, &old_snap);
        if (r < 0 && r != -ENOENT)
                return r;
        mf = tuf_find_meta(snap, "targets.json");
        if (old_snap) {
                old_mf = tuf_find_meta(old_snap, "targets.json");
                if (mf->version < old_mf->version)
                        return rollback_error("snapshot.json: meta targets.json", mf->version,
                                              old_mf->version);
        }
        r = tuf_check_expiry(snap, c.now, snap_name);
        if (r < 0)
                return r;

        /* 5.6 targets */
        t_name = strdup_printf("%" PRIu64 ".targets.json", mf->version);
        if (!t_name)
                return -ENOMEM;
        r = download(&c, t_name, mf->length, TUF_META_SIZE_MAX, mf->sha256, &t_text, &t_size);
        if (r == -ENOENT)
                return error_setf(ENOENT, "%s/%s: not found (404)", o->base_url, t_name);
        if (r < 0)
                return r;
        if ((r = tuf_parse(t_text, t_size, TUF_TARGETS, t_name, &targets)) < 0 ||
            (r = tuf_verify(targets, root, TUF_TARGETS, t_name)) < 0)
                return r;
        if (targets->version != mf->version)
                return error_setf(EBADMSG, "%s: version %" PRIu64 ", snapshot says %" PRIu64,
                                  t_name, targets->version, mf->version);
        r = tuf_check_expiry(targets, c.now, t_name);
        if (r < 0)
                return r;

        /* All of it passed: it is the trusted state now. */
        if ((r = keep(&c, "timestamp.json", ts_text, ts_size)) < 0 ||
            (r = keep(&c, "snapshot.json", snap_text, snap_size)) < 0 ||
            (r = keep(&c, "targets.json", t_text, t_size)) < 0)
                return r;
        *ret_targets = TAKE_PTR(targets);
        return 0;
}

int tuf_client_load_targets(const char *meta_dir, TufMetadata **ret_targets) {
        return read_trusted(meta_dir, "targets.json", TUF_TARGETS, TUF_META_SIZE_MAX, ret_targets);
}
