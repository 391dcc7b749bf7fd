/* SPDX-License-Identifier: MIT */
#include "publish.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delta-index.h"
#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "tuf.h"
#include "usr-patch.h"

#define SIGNERS_MAX TUF_KEYS_MAX
#define DAY 86400

/* The artifacts of a release, as `berth build` names them. */
static const char *const release_files[] = {
        "usr.erofs", "usr.verity", "vmlinuz", "initrd", "cmdline", "manifest.json",
};

static int key_path(const char *dir, TufRole role, unsigned i, char **ret) {
        *ret = i == 0 ? strdup_printf("%s/%s.key", dir, tuf_role_to_string(role))
                      : strdup_printf("%s/%s-%u.key", dir, tuf_role_to_string(role), i + 1);
        return *ret ? 0 : -ENOMEM;
}

/* ROLE.key, ROLE-2.key, ... of dir, as many as exist (at least one). */
static int load_signers(const char *dir, TufRole role, TufSigner ret[static SIGNERS_MAX],
                        size_t *ret_n) {
        size_t n = 0;
        int r;

        for (unsigned i = 0; i < SIGNERS_MAX; i++) {
                _cleanup_free_ char *p = NULL;
                r = key_path(dir, role, i, &p);
                if (r < 0)
                        return r;
                if (access(p, F_OK) < 0) {
                        if (i == 0)
                                return error_setf(ENOENT, "%s: no such key file", p);
                        break;
                }
                r = tuf_signer_read(p, &ret[n]);
                if (r < 0)
                        return r;
                n++;
        }
        *ret_n = n;
        return 0;
}

static int read_metadata(const char *path, TufRole role, TufMetadata **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(path, &data, &size, TUF_META_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", path);
        return tuf_parse(data, size, role, path, ret);
}

static int expiry(unsigned days, char ret[static 21]) {
        return tuf_format_time((int64_t) time(NULL) + (int64_t) days * DAY, ret);
}

static int write_signed(const char *path, json_t *signed_obj, const TufSigner *s, size_t n) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = tuf_sign(signed_obj, s, n, &text, &size);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, size, 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", path) : 0;
}

int publish_keygen(const KeygenOptions *o) {
        TufSigner signers[_TUF_ROLE_MAX][SIGNERS_MAX], old[SIGNERS_MAX], all[2 * SIGNERS_MAX];
        _cleanup_(tuf_metadata_freep) TufMetadata *old_root = NULL;
        unsigned n = o->threshold ?: 1;
        size_t n_old = 0, n_all = 0;
        uint64_t version = 1;
        char expires[21];
        json_t *keys, *roles, *root;
        int r;

        if (n > 8)
                return error_setf(EINVAL, "threshold %u: at most 8 keys per role", n);
        r = mkdir_p(o->output_dir, 0700);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", o->output_dir);
        if (o->rotate_from) {
                _cleanup_free_ char *p = path_join(o->rotate_from, "root.json");
                if (!p)
                        return -ENOMEM;
                r = read_metadata(p, TUF_ROOT, &old_root);
                if (r < 0)
                        return r;
                r = load_signers(o->rotate_from, TUF_ROOT, old, &n_old);
                if (r < 0)
                        return r;
                version = old_root->version + 1;
                /* The whole chain goes with the new keys: a repository
                 * published from here serves every step of it. */
                for (uint64_t v = 1; v < version; v++) {
                        _cleanup_free_ char *from = strdup_printf("%s/%" PRIu64 ".root.json",
                                                                  o->rotate_from, v),
                                            *to = strdup_printf("%s/%" PRIu64 ".root.json",
                                                                o->output_dir, v);
                        if (!from || !to)
                                return -ENOMEM;
                        r = copy_file(from, to, 0644);
                        if (r < 0)
                                return error_wrapf(r, "cannot copy %s", from);
                }
        }
        r = expiry(o->expires_days ?: 365, expires);
        if (r < 0)
                return r;
        keys = json_object();
        roles = json_object();
        if (!keys || !roles)
                return -ENOMEM;
        for (TufRole role = 0; role < _TUF_ROLE_MAX; role++) {
                json_t *ids = json_array();
                if (!ids)
                        return -ENOMEM;
                for (unsigned i = 0; i < n; i++) {
                        _cleanup_free_ char *p = NULL;
                        TufSigner *s = &signers[role][i];
                        if ((r = tuf_signer_generate(s)) < 0 ||
                            (r = key_path(o->output_dir, role, i, &p)) < 0 ||
                            (r = tuf_signer_write(s, p)) < 0 ||
                            (r = json_set(keys, s->keyid, tuf_key_json(s->public_key))) < 0 ||
                            (r = json_append(ids, json_string(s->keyid))) < 0) {
                                json_decref(ids);
                                return r;
                        }
                }
                r = json_set(roles, tuf_role_to_string(role),
                             json_pack("{s:o, s:I}", "keyids", ids, "threshold", (json_int_t) n));
                if (r < 0)
                        return r;
        }
        root = json_pack("{s:s, s:s, s:I, s:s, s:b, s:o, s:o}", "_type", "root", "spec_version",
                         TUF_SPEC_VERSION, "version", (json_int_t) version, "expires", expires,
                         "consistent_snapshot", 1, "keys", keys, "roles", roles);
        if (!root)
                return -ENOMEM;
        /* A new root is signed by its own root keys and, when it replaces
         * one, by the old root's keys, so clients can follow the chain. */
        for (unsigned i = 0; i < n; i++)
                all[n_all++] = signers[TUF_ROOT][i];
        for (size_t i = 0; i < n_old; i++)
                all[n_all++] = old[i];
        _cleanup_free_ char *vpath = strdup_printf("%s/%" PRIu64 ".root.json", o->output_dir,
                                                   version),
                            *path = path_join(o->output_dir, "root.json");
        r = !vpath || !path ? -ENOMEM : write_signed(vpath, root, all, n_all);
        if (r >= 0)
                r = write_signed(path, root, all, n_all);
        json_decref(root);
        explicit_bzero(signers, sizeof signers);
        explicit_bzero(old, sizeof old);
        explicit_bzero(all, sizeof all);
        if (r < 0)
                return r;
        log_info("keys and root metadata version %" PRIu64 " in %s", version, o->output_dir);
        return 0;
}

/* Copies every N.root.json of the key directory the repository lacks, and
 * root.json when the key directory's is newer. */
static int sync_roots(const char *key_dir, const char *repo, TufMetadata **ret_root) {
        _cleanup_(tuf_metadata_freep) TufMetadata *root = NULL, *repo_root = NULL;
        _cleanup_free_ char *kp = path_join(key_dir, "root.json"),
                            *rp = path_join(repo, "root.json");
        int r;

        if (!kp || !rp)
                return -ENOMEM;
        r = read_metadata(kp, TUF_ROOT, &root);
        if (r < 0)
                return r;
        if (access(rp, F_OK) == 0) {
                r = read_metadata(rp, TUF_ROOT, &repo_root);
                if (r < 0)
                        return r;
                if (repo_root->version > root->version)
                        return error_setf(ESTALE,
                                          "%s: version %" PRIu64 " is newer than %s "
                                          "(version %" PRIu64 "): use the newest keys",
                                          rp, repo_root->version, kp, root->version);
        }
        for (uint64_t v = 1; v <= root->version; v++) {
                _cleanup_free_ char *from = strdup_printf("%s/%" PRIu64 ".root.json", key_dir, v),
                                    *to = strdup_printf("%s/%" PRIu64 ".root.json", repo, v);
                if (!from || !to)
                        return -ENOMEM;
                if (access(to, F_OK) == 0)
                        continue;
                r = copy_file(from, to, 0644);
                if (r < 0)
                        return error_wrapf(r, "cannot copy %s into the repository", from);
        }
        r = copy_file(kp, rp, 0644);
        if (r < 0)
                return error_wrapf(r, "cannot write %s", rp);
        *ret_root = TAKE_PTR(root);
        return 0;
}

static int check_signers(const TufMetadata *root, TufRole role, const TufSigner *s, size_t n,
                         const char *key_dir) {
        const TufRoleKeys *rk = &root->roles[role];
        unsigned good = 0;

        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < rk->n_keyids; j++)
                        if (streq(rk->keyids[j], s[i].keyid))
                                good++;
        if (good < rk->threshold)
                return error_setf(
                        EKEYREJECTED,
                        "%s: %u %s key(s) that root version %" PRIu64 " trusts, %u needed", key_dir,
                        good, tuf_role_to_string(role), root->version, rk->threshold);
        return 0;
}

/* The signed part of the current targets metadata and the versions of the
 * three roles; all zero and an empty "targets" for a new repository. */
static int current_state(const char *repo, json_t **ret_targets,
                         uint64_t ret_v[static _TUF_ROLE_MAX]) {
        _cleanup_(tuf_metadata_freep) TufMetadata *ts = NULL, *snap = NULL;
        _cleanup_free_ char *tp = path_join(repo, "timestamp.json"), *sp = NULL, *gp = NULL,
                            *data = NULL, *msg = NULL;
        json_t *j = NULL, *t;
        size_t size;
        int r;

        memset(ret_v, 0, sizeof(uint64_t) * _TUF_ROLE_MAX);
        if (!tp)
                return -ENOMEM;
        if (access(tp, F_OK) < 0) {
                *ret_targets = json_object();
                return *ret_targets ? 0 : -ENOMEM;
        }
        r = read_metadata(tp, TUF_TIMESTAMP, &ts);
        if (r < 0)
                return r;
        ret_v[TUF_TIMESTAMP] = ts->version;
        ret_v[TUF_SNAPSHOT] = tuf_find_meta(ts, "snapshot.json")->version;
        sp = strdup_printf("%s/%" PRIu64 ".snapshot.json", repo, ret_v[TUF_SNAPSHOT]);
        if (!sp)
                return -ENOMEM;
        r = read_metadata(sp, TUF_SNAPSHOT, &snap);
        if (r < 0)
                return r;
        ret_v[TUF_TARGETS] = tuf_find_meta(snap, "targets.json")->version;
        gp = strdup_printf("%s/%" PRIu64 ".targets.json", repo, ret_v[TUF_TARGETS]);
        if (!gp)
                return -ENOMEM;
        r = read_full_file(gp, &data, &size, TUF_META_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", gp);
        r = json_parse_bounded(data, size, &j, &msg);
        if (r < 0)
                return error_setf(EBADMSG, "%s: %s", gp, msg ?: "");
        t = json_object_get(json_object_get(j, "signed"), "targets");
        if (!json_is_object(t)) {
                json_decref(j);
                return error_setf(EBADMSG, "%s: signed.targets: expected an object", gp);
        }
        *ret_targets = json_incref(t);
        json_decref(j);
        return 0;
}

static int add_target(const char *repo, json_t *targets, const Manifest *m, const char *channel,
                      const char *dir, const char *file, const char *base_root_hash) {
        _cleanup_free_ char *src = path_join(dir, file), *name = NULL, *dest = NULL, *tmp = NULL,
                            *ddir = NULL;
        char sha[SHA256_HEX_SIZE];
        struct stat st;
        json_t *old;
        int r;

        if (!src)
                return -ENOMEM;
        if (stat(src, &st) < 0)
                return error_wrapf(-errno, "%s", src);
        r = sha256_file_hex(src, sha);
        if (r < 0)
                return error_wrapf(r, "cannot hash %s", src);
        name = strdup_printf("%s/%s/%s", m->name, m->version, file);
        ddir = strdup_printf("%s/targets/%s/%s", repo, m->name, m->version);
        /* Consistent snapshots: a target's file name starts with its hash. */
        dest = strdup_printf("%s/%s.%s", ddir, sha, file);
        tmp = strdup_printf("%s.tmp", dest);
        if (!name || !ddir || !dest || !tmp)
                return -ENOMEM;
        old = json_object_get(targets, name);
        if (old) {
                const char *h = json_string_value(
                        json_object_get(json_object_get(old, "hashes"), "sha256"));
                if (!h || !streq(h, sha))
                        return error_setf(EEXIST,
                                          "%s %s is already published with other "
                                          "content (%s differs): give the image a new version",
                                          m->name, m->version, file);
        }
        r = mkdir_p(ddir, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", ddir);
        if (access(dest, F_OK) < 0) {
                r = copy_file(src, tmp, 0644);
                if (r >= 0 && rename(tmp, dest) < 0)
                        r = -errno;
                if (r < 0) {
                        (void) unlink(tmp);
                        return error_wrapf(r, "cannot copy %s into the repository", src);
                }
        }
        json_t *e = json_pack("{s:I, s:{s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "length",
                              (json_int_t) st.st_size, "hashes", "sha256", sha, "custom", "image",
                              m->name, "version", m->version, "channel", channel, "architecture",
                              m->architecture ?: "amd64", "root_hash", m->root_hash, "file", file);
        if (e && base_root_hash &&
            json_set(json_object_get(e, "custom"), "base_root_hash", json_string(base_root_hash)) <
                    0) {
                json_decref(e);
                return -ENOMEM;
        }
        return json_set(targets, name, e);
}

/* The delta updater's hint files (delta-index.h), made from the release's
 * hash tree and initrd in a scratch directory of the repository and published
 * as targets like the rest. An initrd that is not a sequence of zstd frames
 * (an image composed before they were) gets no initrd.frames. */
static int add_delta_hints(const char *repo, json_t *targets, const Manifest *m,
                           const char *channel, const char *image_dir) {
        _cleanup_free_ char *tmp = strdup_printf("%s/targets/.hints.XXXXXX", repo), *parts = NULL,
                            *frames = NULL, *verity = path_join(image_dir, "usr.verity"),
                            *initrd = path_join(image_dir, "initrd");
        int r;

        if (!tmp || !verity || !initrd)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return error_wrapf(-errno, "cannot create %s", tmp);
        parts = path_join(tmp, "usr.verity.parts");
        frames = path_join(tmp, "initrd.frames");
        r = parts && frames ? 0 : -ENOMEM;
        if (r >= 0)
                r = verity_parts_write(verity, parts);
        if (r >= 0)
                r = add_target(repo, targets, m, channel, tmp, "usr.verity.parts", NULL);
        if (r >= 0 && initrd_frames_write(initrd, frames) >= 0)
                r = add_target(repo, targets, m, channel, tmp, "initrd.frames", NULL);
        else if (r >= 0)
                error_clear();
        (void) rm_rf(tmp);
        return r;
}

typedef struct Base {
        const char *version, *root_hash, *usr_sha, *verity_sha;
} Base;

static int cmp_base_newest_first(const void *a, const void *b) {
        return -strverscmp(((const Base *) a)->version, ((const Base *) b)->version);
}

static const char *custom_field(json_t *target, const char *key) {
        return json_string_value(json_object_get(json_object_get(target, "custom"), key));
}

static const char *target_sha(json_t *target) {
        return json_string_value(json_object_get(json_object_get(target, "hashes"), "sha256"));
}

/* The earlier releases of the image (same architecture, lower version) whose
 * usr image and hash tree the current targets hold, newest first. */
static int find_bases(json_t *targets, const Manifest *m, Base **ret, size_t *ret_n) {
        _cleanup_free_ Base *bases = calloc(json_object_size(targets) + 1, sizeof(Base));
        const char *k;
        json_t *v;
        size_t n = 0;

        if (!bases)
                return -ENOMEM;
        json_object_foreach(targets, k, v) {
                const char *image = custom_field(v, "image"), *version = custom_field(v, "version"),
                           *arch = custom_field(v, "architecture"), *file = custom_field(v, "file"),
                           *root = custom_field(v, "root_hash");
                if (!image || !version || !arch || !file || !root || !streq(file, "usr.erofs") ||
                    !streq(image, m->name) || !streq(arch, m->architecture ?: "amd64") ||
                    strverscmp(version, m->version) >= 0 || streq(root, m->root_hash))
                        continue;
                _cleanup_free_ char *vname = strdup_printf("%s/%s/usr.verity", image, version);
                if (!vname)
                        return -ENOMEM;
                json_t *vt = json_object_get(targets, vname);
                if (!vt || !target_sha(vt) || !target_sha(v))
                        continue;
                bases[n++] = (Base){ .version = version,
                                     .root_hash = root,
                                     .usr_sha = target_sha(v),
                                     .verity_sha = target_sha(vt) };
        }
        qsort(bases, n, sizeof(Base), cmp_base_newest_first);
        *ret = TAKE_PTR(bases);
        *ret_n = n;
        return 0;
}

/* usr.erofs.patch-ROOT16 (usr-patch.h) against each of the newest
 * o->patch_bases earlier releases; one that already exists is kept, one that
 * would not be smaller than the blocks it carries is left out. */
static int add_patches(const PublishOptions *o, json_t *targets, const Manifest *m,
                       const char *channel) {
        _cleanup_free_ Base *bases = NULL;
        _cleanup_free_ char *tmp = NULL, *img = path_join(o->image_dir, "usr.erofs"),
                            *ver = path_join(o->image_dir, "usr.verity");
        size_t n;
        int r;

        if (o->patch_bases == 0)
                return 0;
        if (!img || !ver)
                return -ENOMEM;
        r = find_bases(targets, m, &bases, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && i < o->patch_bases; i++) {
                const Base *b = &bases[i];
                _cleanup_free_ char *file = strdup_printf(USR_PATCH_PREFIX "%.16s", b->root_hash),
                                    *name = NULL, *dest = NULL, *base_img = NULL, *base_ver = NULL;
                struct timespec t0, t1;
                UsrPatchMakeStats st;

                if (!file)
                        return -ENOMEM;
                name = strdup_printf("%s/%s/%s", m->name, m->version, file);
                base_img = strdup_printf("%s/targets/%s/%s/%s.usr.erofs", o->repo_dir, m->name,
                                         b->version, b->usr_sha);
                base_ver = strdup_printf("%s/targets/%s/%s/%s.usr.verity", o->repo_dir, m->name,
                                         b->version, b->verity_sha);
                if (!name || !base_img || !base_ver)
                        return -ENOMEM;
                if (json_object_get(targets, name))
                        continue; /* published before: kept as it is */
                if (!tmp) {
                        tmp = strdup_printf("%s/targets/.patches.XXXXXX", o->repo_dir);
                        if (!tmp)
                                return -ENOMEM;
                        if (!mkdtemp(tmp)) {
                                r = error_wrapf(-errno, "cannot create %s", tmp);
                                free(tmp);
                                tmp = NULL;
                                return r;
                        }
                }
                dest = path_join(tmp, file);
                if (!dest) {
                        r = -ENOMEM;
                        break;
                }
                UsrPatchMakeOptions po = {
                        .base_image = base_img,
                        .base_verity = base_ver,
                        .base_root_hash = b->root_hash,
                        .new_image = img,
                        .new_verity = ver,
                        .new_root_hash = m->root_hash,
                        .level = o->patch_level ?: PUBLISH_PATCH_LEVEL,
                        .dest = dest,
                };
                (void) clock_gettime(CLOCK_MONOTONIC, &t0);
                r = usr_patch_make(&po, &st);
                (void) clock_gettime(CLOCK_MONOTONIC, &t1);
                if (r < 0)
                        break;
                double secs =
                        (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
                if (r == 0) {
                        log_info("no patch from %s: %" PRIu64 " new blocks, a patch would not be "
                                 "smaller",
                                 b->version, st.carried);
                        continue;
                }
                log_info("patch from %s: %" PRIu64 " bytes for %" PRIu64 " new blocks (%.2f MiB), "
                         "zstd level %d, %.1f s",
                         b->version, st.size, st.carried, (double) st.carried * 4096 / 1048576.0,
                         po.level, secs);
                r = add_target(o->repo_dir, targets, m, channel, tmp, file, b->root_hash);
                if (r < 0)
                        break;
        }
        if (tmp)
                (void) rm_rf(tmp);
        return r < 0 ? r : 0;
}

static int meta_entry(const char *path, uint64_t version, json_t **ret) {
        char sha[SHA256_HEX_SIZE];
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return -errno;
        r = sha256_file_hex(path, sha);
        if (r < 0)
                return r;
        *ret = json_pack("{s:I, s:I, s:{s:s}}", "version", (json_int_t) version, "length",
                         (json_int_t) st.st_size, "hashes", "sha256", sha);
        return *ret ? 0 : -ENOMEM;
}

int publish_image(const PublishOptions *o) {
        _cleanup_(tuf_metadata_freep) TufMetadata *root = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *mpath = NULL, *msg = NULL, *tdir = NULL, *gpath = NULL, *spath = NULL,
                            *tspath = NULL;
        TufSigner s[_TUF_ROLE_MAX][SIGNERS_MAX];
        size_t n[_TUF_ROLE_MAX] = {};
        uint64_t v[_TUF_ROLE_MAX];
        const char *channel = o->channel ?: "stable";
        char expires[21];
        json_t *targets = NULL, *signed_obj, *entry;
        int r;

        mpath = path_join(o->image_dir, "manifest.json");
        tdir = path_join(o->repo_dir, "targets");
        if (!mpath || !tdir)
                return -ENOMEM;
        r = manifest_read(mpath, &m, &msg);
        if (r < 0)
                return msg ? error_setf(-r, "%s", msg) : error_wrapf(r, "cannot read %s", mpath);
        if (!m->root_hash)
                return error_setf(EINVAL,
                                  "%s: no root_hash: only immutable images can be "
                                  "published",
                                  mpath);
        r = mkdir_p(tdir, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", tdir);
        r = sync_roots(o->key_dir, o->repo_dir, &root);
        if (r < 0)
                return r;
        for (TufRole role = TUF_TIMESTAMP; role < _TUF_ROLE_MAX; role++) {
                r = load_signers(o->key_dir, role, s[role], &n[role]);
                if (r < 0)
                        return r;
                r = check_signers(root, role, s[role], n[role], o->key_dir);
                if (r < 0)
                        return r;
        }
        r = expiry(o->expires_days, expires);
        if (r < 0)
                return r;
        r = current_state(o->repo_dir, &targets, v);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(release_files) && r >= 0; i++)
                r = add_target(o->repo_dir, targets, m, channel, o->image_dir, release_files[i],
                               NULL);
        if (r >= 0)
                r = add_delta_hints(o->repo_dir, targets, m, channel, o->image_dir);
        if (r >= 0)
                r = add_patches(o, targets, m, channel);
        /* A Secure Boot image's signed UKI, which the updater installs as
         * the slot's entry. */
        _cleanup_free_ char *uki = path_join(o->image_dir, "uki.efi");
        if (r >= 0 && !uki)
                r = -ENOMEM;
        if (r >= 0 && access(uki, F_OK) == 0)
                r = add_target(o->repo_dir, targets, m, channel, o->image_dir, "uki.efi", NULL);
        if (r < 0) {
                json_decref(targets);
                return r;
        }

        /* targets, then snapshot, then timestamp: a client sees the new
         * release only once everything it points to is in place. */
        gpath = strdup_printf("%s/%" PRIu64 ".targets.json", o->repo_dir, v[TUF_TARGETS] + 1);
        spath = strdup_printf("%s/%" PRIu64 ".snapshot.json", o->repo_dir, v[TUF_SNAPSHOT] + 1);
        tspath = path_join(o->repo_dir, "timestamp.json");
        if (!gpath || !spath || !tspath) {
                json_decref(targets);
                return -ENOMEM;
        }
        signed_obj = json_pack("{s:s, s:s, s:I, s:s, s:o}", "_type", "targets", "spec_version",
                               TUF_SPEC_VERSION, "version", (json_int_t) v[TUF_TARGETS] + 1,
                               "expires", expires, "targets", targets);
        if (!signed_obj)
                return -ENOMEM;
        r = write_signed(gpath, signed_obj, s[TUF_TARGETS], n[TUF_TARGETS]);
        json_decref(signed_obj);
        if (r < 0)
                return r;

        r = meta_entry(gpath, v[TUF_TARGETS] + 1, &entry);
        if (r < 0)
                return error_wrapf(r, "%s", gpath);
        signed_obj = json_pack("{s:s, s:s, s:I, s:s, s:{s:o}}", "_type", "snapshot", "spec_version",
                               TUF_SPEC_VERSION, "version", (json_int_t) v[TUF_SNAPSHOT] + 1,
                               "expires", expires, "meta", "targets.json", entry);
        if (!signed_obj)
                return -ENOMEM;
        r = write_signed(spath, signed_obj, s[TUF_SNAPSHOT], n[TUF_SNAPSHOT]);
        json_decref(signed_obj);
        if (r < 0)
                return r;

        r = meta_entry(spath, v[TUF_SNAPSHOT] + 1, &entry);
        if (r < 0)
                return error_wrapf(r, "%s", spath);
        signed_obj =
                json_pack("{s:s, s:s, s:I, s:s, s:{s:o}}", "_type", "timestamp", "spec_version",
                          TUF_SPEC_VERSION, "version", (json_int_t) v[TUF_TIMESTAMP] + 1, "expires",
                          expires, "meta", "snapshot.json", entry);
        if (!signed_obj)
                return -ENOMEM;
        r = write_signed(tspath, signed_obj, s[TUF_TIMESTAMP], n[TUF_TIMESTAMP]);
        json_decref(signed_obj);
        explicit_bzero(s, sizeof s);
        if (r < 0)
                return r;
        log_info("published %s %s (%s, channel %s) to %s: targets version %" PRIu64, m->name,
                 m->version, m->architecture ?: "amd64", channel, o->repo_dir, v[TUF_TARGETS] + 1);
        return 0;
}
