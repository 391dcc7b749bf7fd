/* SPDX-License-Identifier: MIT */
#include "update.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delta.h"
#include "digest.h"
#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "gpt.h"
#include "initrd-delta.h"
#include "journal.h"
#include "log.h"
#include "macro.h"
#include "partition.h"
#include "rebootlock.h"
#include "slot.h"
#include "strv.h"
#include "target.h"
#include "tufclient.h"
#include "usr-patch.h"
#include "verity-tree.h"

/* The files of a release the updater installs. */
enum { RF_USR, RF_VERITY, RF_KERNEL, RF_INITRD, RF_CMDLINE, RF_UKI, RF_PARTS, RF_FRAMES, _RF_MAX };
static const char *const release_file[_RF_MAX] = {
        [RF_USR] = "usr.erofs",          [RF_VERITY] = "usr.verity",    [RF_KERNEL] = "vmlinuz",
        [RF_INITRD] = "initrd",          [RF_CMDLINE] = "cmdline",      [RF_UKI] = "uki.efi",
        [RF_PARTS] = "usr.verity.parts", [RF_FRAMES] = "initrd.frames",
};
/* A Secure Boot release has a signed UKI; the others do not. The delta's
 * hint files (delta-index.h) are new: older releases lack them. */
#define RELEASE_FILE_OPTIONAL(f) ((f) == RF_UKI || (f) == RF_PARTS || (f) == RF_FRAMES)
#define RELEASE_FILE_HINT(f) ((f) == RF_PARTS || (f) == RF_FRAMES)

typedef struct Release {
        const char *image, *version, *root_hash;
        const TufTarget *files[_RF_MAX];
        const TufTarget *patch; /* usr.erofs.patch-* whose base is the running slot, or NULL */
        unsigned n_patches;     /* patches of the release, for other bases too */
} Release;

typedef struct Ctx {
        const UpdateOptions *o;
        const char *state_dir;
        char *repo, *channel, *root_path, *meta_dir, *download_dir;
        int lock_fd;
        UpdateTarget t;
        TufMetadata *targets;
        Release rel;
} Ctx;

static void ctx_done(Ctx *c) {
        free(c->repo);
        free(c->channel);
        free(c->root_path);
        free(c->meta_dir);
        free(c->download_dir);
        safe_close(c->lock_fd);
        update_target_done(&c->t);
        tuf_metadata_free(c->targets);
}

int update_config_value(const char *conf, const char *key, char **ret) {
        size_t n = strlen(key);
        const char *last = NULL;
        for (const char *l = conf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, n) && l[n] == '=')
                        last = l + n + 1;
        *ret = NULL;
        if (!last)
                return 0;
        *ret = strndup(last, strcspn(last, "\n"));
        return *ret ? 0 : -ENOMEM;
}

int update_config_load(const UpdateOptions *o, char **ret) {
        const char *paths[2] = { NULL, o->config_dir ? NULL : UPDATE_SETTINGS_CONF };
        _cleanup_free_ char *image = path_join(o->config_dir ?: UPDATE_CONFIG_DIR, "update.conf");
        _cleanup_free_ char *all = NULL;
        int r;

        if (!image)
                return -ENOMEM;
        paths[0] = image;
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *data = NULL;
                size_t size;
                if (!paths[i])
                        continue;
                r = read_full_file(paths[i], &data, &size, 64 << 10);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return error_wrapf(r, "cannot read %s", paths[i]);
                char *n = strdup_printf("%s%s\n", strempty(all), data);
                if (!n)
                        return -ENOMEM;
                free(all);
                all = n;
        }
        *ret = TAKE_PTR(all);
        return 0;
}

static int note_rollback(const Ctx *c);

static int ctx_init(Ctx *c, const UpdateOptions *o, bool need_repo) {
        const char *cdir = o->config_dir ?: UPDATE_CONFIG_DIR;
        _cleanup_free_ char *conf_path = path_join(cdir, "update.conf"), *conf = NULL;
        int r;

        *c = (Ctx){ .o = o, .lock_fd = -EBADF, .state_dir = o->state_dir ?: UPDATE_STATE_DIR };
        if (!conf_path)
                return -ENOMEM;
        r = update_config_load(o, &conf);
        if (r < 0)
                return r;
        if (conf && ((r = update_config_value(conf, "Repository", &c->repo)) < 0 ||
                     (r = update_config_value(conf, "Channel", &c->channel)) < 0))
                return r;
        if (o->repo_url) {
                free(c->repo);
                c->repo = strdup(o->repo_url);
        }
        if (o->channel) {
                free(c->channel);
                c->channel = strdup(o->channel);
        }
        if (!c->channel)
                c->channel = strdup("stable");
        c->root_path = o->root_path ? strdup(o->root_path) : path_join(cdir, "root.json");
        c->meta_dir = path_join(c->state_dir, "metadata");
        c->download_dir = path_join(c->state_dir, "downloads");
        if ((o->repo_url && !c->repo) || !c->channel || !c->root_path || !c->meta_dir ||
            !c->download_dir)
                return -ENOMEM;
        /* "http://host/repo/" and "http://host/repo" name the same repository. */
        while (c->repo && strlen(c->repo) > 1 && c->repo[strlen(c->repo) - 1] == '/')
                c->repo[strlen(c->repo) - 1] = 0;
        if (need_repo && !c->repo)
                return error_setf(ENOENT,
                                  "no update repository: no --repo URL and no Repository= "
                                  "in %s",
                                  conf_path);
        if (need_repo && access(c->root_path, R_OK) < 0)
                return error_setf(ENOENT, "no trusted root metadata at %s%s", c->root_path,
                                  o->root_path ? "" : "; give --root FILE");
        r = mkdir_p(c->state_dir, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create the state directory %s", c->state_dir);
        _cleanup_free_ char *lock = path_join(c->state_dir, "lock");
        if (!lock)
                return -ENOMEM;
        c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (c->lock_fd < 0)
                return error_wrapf(-errno, "cannot open %s", lock);
        if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK
                               ? error_setf(EBUSY, "another berth update is running (%s)", lock)
                               : error_wrapf(-errno, "cannot lock %s", lock);
        r = update_target_open(o->disk, o->esp_dir, &c->t);
        if (r < 0)
                return r;
        return note_rollback(c);
}

static int read_bad(const Ctx *c, char ***ret) {
        _cleanup_free_ char *p = path_join(c->state_dir, "bad-versions"), *data = NULL;
        size_t size;
        int r;

        if (!p)
                return -ENOMEM;
        *ret = NULL;
        r = read_full_file(p, &data, &size, 1 << 20);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        return strv_extend_words(ret, data, false);
}

static bool is_bad(char **bad, const char *version) {
        for (char **b = bad; b && *b; b++)
                if (streq(*b, version))
                        return true;
        return false;
}

/* Whether a patch's base is the release in slot p: its partition UUIDs are
 * derived from the root hash (partition.h), both halves of it. */
static bool patch_is_for_slot(const TufTarget *t, const SlotPair *p) {
        char data[UUID_STRING_SIZE], verity[UUID_STRING_SIZE];
        return p->labelled && usr_partuuids_from_hex(t->base_root_hash, data, verity) >= 0 &&
               strcasecmp(data, p->data.uuid) == 0 && strcasecmp(verity, p->verity.uuid) == 0;
}

/* The newest complete release of the channel for this architecture that is
 * newer than the running version and not marked bad. Returns 1 with c->rel
 * set, 0 when the running version is the newest. */
static int select_release(Ctx *c) {
        _cleanup_strv_free_ char **bad = NULL;
        const char *cur = c->t.slots[c->t.current].version, *newest = NULL, *other_arch = NULL;
        const TufTarget *best = NULL;
        int r;

        r = read_bad(c, &bad);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->targets->n_targets; i++) {
                const TufTarget *t = &c->targets->targets[i];
                if (!t->version || !streq(t->channel, c->channel))
                        continue;
                if (!streq(t->architecture, c->t.architecture)) {
                        other_arch = t->architecture;
                        continue;
                }
                if (!newest || strverscmp(t->version, newest) > 0)
                        newest = t->version;
                if (strverscmp(t->version, cur) <= 0 || is_bad(bad, t->version))
                        continue;
                if (!best || strverscmp(t->version, best->version) > 0)
                        best = t;
        }
        if (!newest && other_arch)
                return error_setf(ENOPKG,
                                  "channel %s has releases for %s only, none for this "
                                  "machine's %s",
                                  c->channel, other_arch, c->t.architecture);
        if (!newest)
                return error_setf(ENOPKG, "channel %s of %s has no releases", c->channel, c->repo);
        if (strverscmp(newest, cur) < 0)
                return error_setf(EPERM,
                                  "the newest release in channel %s is %s, older than "
                                  "the installed %s: refusing a downgrade",
                                  c->channel, newest, cur);
        if (!best && is_bad(bad, newest) && strverscmp(newest, cur) > 0)
                return error_setf(EPERM,
                                  "release %s is marked bad on this machine (berth "
                                  "update mark-bad); waiting for a newer one",
                                  newest);
        if (!best)
                return 0;
        c->rel = (Release){ .image = best->image,
                            .version = best->version,
                            .root_hash = best->root_hash };
        for (size_t i = 0; i < c->targets->n_targets; i++) {
                const TufTarget *t = &c->targets->targets[i];
                if (!t->version || !streq(t->version, best->version) ||
                    !streq(t->channel, c->channel) || !streq(t->architecture, c->t.architecture))
                        continue;
                if (!streq(t->root_hash, best->root_hash) || !streq(t->image, best->image))
                        return error_setf(EBADMSG,
                                          "release %s: its targets disagree on the "
                                          "image or root hash",
                                          best->version);
                for (size_t f = 0; f < _RF_MAX; f++)
                        if (streq(t->file, release_file[f]))
                                c->rel.files[f] = t;
                if (strneq(t->file, USR_PATCH_PREFIX, strlen(USR_PATCH_PREFIX)) &&
                    t->base_root_hash) {
                        c->rel.n_patches++;
                        if (patch_is_for_slot(t, &c->t.slots[c->t.current]))
                                c->rel.patch = t;
                }
        }
        for (size_t f = 0; f < _RF_MAX; f++)
                if (!c->rel.files[f] && !RELEASE_FILE_OPTIONAL(f))
                        return error_setf(EBADMSG, "release %s has no %s target", best->version,
                                          release_file[f]);
        return 1;
}

/* Adds version to the bad list (once). */
static int add_bad(const Ctx *c, const char *version) {
        _cleanup_strv_free_ char **bad = NULL;
        _cleanup_free_ char *text = NULL, *p = NULL;
        int r = read_bad(c, &bad);
        if (r < 0)
                return r;
        if (is_bad(bad, version))
                return 0;
        if (strv_extend(&bad, version) < 0)
                return -ENOMEM;
        text = strv_join(bad, "\n");
        p = path_join(c->state_dir, "bad-versions");
        if (!text || !p)
                return -ENOMEM;
        r = write_file_atomic(p, text, strlen(text), 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 1;
}

/* A release this agent installed whose entry ran out of tries failed boot
 * assessment: systemd-boot fell back to the other slot. It is recorded as
 * bad, so it is never installed again (the slot is reused for the next
 * release). The entry is renamed into place before the journal says done,
 * so a power cut between the two leaves step boot-files with an entry that
 * systemd-boot boots: that counts as installed too. */
static int note_rollback(const Ctx *c) {
        Journal j;
        int r = journal_read(c->state_dir, &j);
        if (r == -ENOENT || r == -EBADMSG)
                return 0;
        if (r < 0)
                return r;
        const SlotPair *p = &c->t.slots[j.slot];
        if (j.step < JOURNAL_BOOT_FILES || j.slot == c->t.current || !p->entry ||
            !boot_entry_is_bad(&p->boot) || !p->version || !streq(p->version, j.version))
                return 0;
        r = add_bad(c, j.version);
        if (r > 0)
                log_info("release %s in slot %s ran out of boot tries (%s): marked bad, running "
                         "%s in slot %s",
                         j.version, slot_to_string(j.slot), p->entry,
                         strna(c->t.slots[c->t.current].version), slot_to_string(c->t.current));
        return r < 0 ? r : 0;
}

static int refresh(Ctx *c) {
        TufClientOptions to = {
                .base_url = c->repo,
                .root_path = c->root_path,
                .meta_dir = c->meta_dir,
                .timeout = c->o->timeout,
        };
        int r = tuf_client_refresh(&to, &c->targets);
        return r < 0 ? error_wrapf(r, "repository %s", c->repo) : 0;
}

static char *staged(const Ctx *c, size_t f) {
        return strdup_printf("%s/%s/%s", c->download_dir, c->rel.version, release_file[f]);
}

/* Consistent snapshots: the file is served as DIR/HASH.NAME. */
static char *target_url(const Ctx *c, const TufTarget *t) {
        const char *slash = strrchr(t->name, '/');
        return slash ? strdup_printf("%s/targets/%.*s/%s.%s", c->repo, (int) (slash - t->name),
                                     t->name, t->sha256, slash + 1)
                     : strdup_printf("%s/targets/%s.%s", c->repo, t->sha256, t->name);
}

/* The running slot's kernel or initrd when the release's has the same bytes
 * (fetch_many then keeps the staged copy after checking it again). Else the
 * running slot's copy stays as DEST.base, for the initrd's delta. */
static bool reuse_boot_file(Ctx *c, size_t f, const char *dest) {
        const TufTarget *t = c->rel.files[f];
        _cleanup_free_ char *base = strdup_printf("%s.base", dest);
        char path[32], sha[SHA256_HEX_SIZE];
        struct stat st;

        if (!base || access(dest, F_OK) == 0 || !c->t.slots[c->t.current].labelled)
                return false;
        snprintf(path, sizeof path, f == RF_KERNEL ? BOOT_KERNEL_FMT : BOOT_INITRD_FMT,
                 slot_to_string(c->t.current));
        if (mkdir_parents(dest, 0755) < 0 || esp_get_file(&c->t.esp, path + 1, base) < 0) {
                error_clear();
                (void) unlink(base);
                return false;
        }
        if (stat(base, &st) == 0 && (uint64_t) st.st_size == t->length &&
            sha256_file_hex(base, sha) >= 0 && streq(sha, t->sha256) && rename(base, dest) == 0)
                return true;
        return false;
}

static int fetch_items(FetchItem *items, size_t n);
static FetchItem release_item(const Ctx *c, size_t f, const char *url, const char *dest);

/* A hint file of the release (delta-index.h), fetched and checked against
 * its target: 1 when there, 0 when the release has none. */
static int fetch_hint(Ctx *c, size_t f, char *const urls[static _RF_MAX],
                      char *const dests[static _RF_MAX], uint64_t *fetched) {
        if (!c->rel.files[f])
                return 0;
        bool had = access(dests[f], F_OK) == 0;
        FetchItem it = release_item(c, f, urls[f], dests[f]);
        int r = fetch_items(&it, 1);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Only a hint: the delta goes on without it. */
                printf("delta: %s not used: %s\n", release_file[f], error_message(r));
                error_clear();
                return 0;
        }
        if (!had)
                *fetched += c->rel.files[f]->length;
        return 1;
}

/* The initrd from the running slot's frames and ranges of the release's
 * (initrd-delta.h). 1 if assembled, 0 if it must be fetched whole. */
static int download_initrd_delta(Ctx *c, char *const urls[static _RF_MAX],
                                 char *const dests[static _RF_MAX], InitrdDeltaStats *ret,
                                 uint64_t *fetched) {
        _cleanup_free_ char *base = strdup_printf("%s.base", dests[RF_INITRD]);
        int r;

        if (!base)
                return -ENOMEM;
        if (c->o->full || access(dests[RF_INITRD], F_OK) == 0 || access(base, F_OK) < 0)
                return 0;
        r = fetch_hint(c, RF_FRAMES, urls, dests, fetched);
        if (r <= 0)
                return r;
        InitrdDeltaOptions o = {
                .base_path = base,
                .frames_path = dests[RF_FRAMES],
                .url = urls[RF_INITRD],
                .length = c->rel.files[RF_INITRD]->length,
                .dest = dests[RF_INITRD],
                .timeout = c->o->timeout,
        };
        r = initrd_delta_assemble(&o, ret);
        if (r == -ENOMEDIUM) {
                printf("initrd: full download: %s\n", error_message(r));
                error_clear();
                return 0;
        }
        return r < 0 ? r : 1;
}

/* The usr image from the running slot's blocks and ranges of the release's
 * (delta.h). 1 if assembled, 0 if the whole file must be fetched (said why),
 * < 0 on error. */
static int download_delta(Ctx *c, char *const urls[static _RF_MAX],
                          char *const dests[static _RF_MAX], DeltaStats *ret, uint64_t *fetched) {
        const SlotPair *base = &c->t.slots[c->t.current];
        _cleanup_free_ char *name = NULL;
        int r;

        if (c->o->full) {
                printf("full download (--full)\n");
                return 0;
        }
        if (!base->labelled) {
                printf("full download: slot %s holds no release to start from\n",
                       slot_to_string(c->t.current));
                return 0;
        }
        name = strdup_printf("slot %s", slot_to_string(c->t.current));
        if (!name)
                return -ENOMEM;
        r = access(dests[RF_VERITY], F_OK) < 0 ? fetch_hint(c, RF_PARTS, urls, dests, fetched) : 0;
        if (r < 0)
                return r;
        const TufTarget *pt = c->rel.patch;
        _cleanup_free_ char *patch_url = pt ? target_url(c, pt) : NULL,
                            *patch_path = pt ? strdup_printf("%s.patch", dests[RF_USR]) : NULL;
        if (pt && (!patch_url || !patch_path))
                return -ENOMEM;
        if (!pt && c->rel.n_patches > 0)
                printf("delta: no patch from slot %s's release (%u for other releases): "
                       "fetching ranges\n",
                       slot_to_string(c->t.current), c->rel.n_patches);
        DeltaOptions d = {
                .patch_url = patch_url,
                .patch_path = patch_path,
                .patch_sha256 = pt ? pt->sha256 : NULL,
                .patch_length = pt ? pt->length : 0,
                .patch_base_root_hash = pt ? pt->base_root_hash : NULL,
                .parts_path = r > 0 ? dests[RF_PARTS] : NULL,
                .base_path = c->t.disk,
                .base_data_offset = base->data.offset,
                .base_data_size = base->data.size,
                .base_verity_offset = base->verity.offset,
                .base_name = name,
                .verity_path = dests[RF_VERITY],
                .verity_url = urls[RF_VERITY],
                .verity_length = c->rel.files[RF_VERITY]->length,
                .root_hash = c->rel.root_hash,
                .url = urls[RF_USR],
                .length = c->rel.files[RF_USR]->length,
                .key = c->rel.files[RF_USR]->sha256,
                .dest = dests[RF_USR],
                .timeout = c->o->timeout,
        };
        r = delta_assemble(&d, ret);
        if (r == -ENOMEDIUM) {
                printf("full download: %s\n", error_message(r));
                error_clear();
                return 0;
        }
        return r < 0 ? r : 1;
}

static int fetch_items(FetchItem *items, size_t n) {
        int r = fetch_many(items, n, 2);
        if (r < 0)
                for (size_t i = 0; i < n; i++)
                        if (items[i].result < 0)
                                return error_setf(-items[i].result, "%s", items[i].error);
        return r;
}

static FetchItem release_item(const Ctx *c, size_t f, const char *url, const char *dest) {
        return (FetchItem){ .url = url,
                            .dest = dest,
                            .sha256 = c->rel.files[f]->sha256,
                            .size = c->rel.files[f]->length,
                            .stall_timeout = c->o->timeout };
}

static int download(Ctx *c) {
        FetchItem items[_RF_MAX] = {};
        char *urls[_RF_MAX] = {}, *dests[_RF_MAX] = {};
        uint64_t total = 0, fetched = 0, reused = 0;
        DeltaStats ds = {};
        InitrdDeltaStats ids = {};
        size_t n = 0;
        struct timespec t0, t1;
        int r = 0, delta = 0;

        (void) clock_gettime(CLOCK_MONOTONIC, &t0);
        /* Older releases' files are of no use any more. */
        _cleanup_(closedirp) DIR *d = opendir(c->download_dir);
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_name[0] != '.' && !streq(de->d_name, c->rel.version)) {
                        _cleanup_free_ char *p = path_join(c->download_dir, de->d_name);
                        if (p)
                                (void) rm_rf(p);
                }
        for (size_t f = 0; f < _RF_MAX; f++) {
                if (!c->rel.files[f]) /* an optional file the release lacks (uki.efi) */
                        continue;
                /* A release with a UKI boots from it: its kernel and initrd
                 * are in there. */
                if (c->rel.files[RF_UKI] && (f == RF_KERNEL || f == RF_INITRD || f == RF_FRAMES))
                        continue;
                urls[f] = target_url(c, c->rel.files[f]);
                dests[f] = staged(c, f);
                if (!urls[f] || !dests[f]) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        for (size_t f = 0; f < _RF_MAX; f++) {
                if (!urls[f] || RELEASE_FILE_HINT(f))
                        continue;
                total += c->rel.files[f]->length;
                if ((f == RF_KERNEL || f == RF_INITRD) && !c->o->full &&
                    reuse_boot_file(c, f, dests[f]))
                        reused += c->rel.files[f]->length;
                else if (f == RF_INITRD) {
                        r = download_initrd_delta(c, urls, dests, &ids, &fetched);
                        if (r < 0)
                                goto out;
                        if (r == 0 && access(dests[f], F_OK) < 0)
                                fetched += c->rel.files[f]->length;
                        reused += ids.reused_bytes + ids.resumed_bytes;
                        fetched += ids.fetched_bytes;
                } else if (f != RF_USR && f != RF_VERITY && access(dests[f], F_OK) < 0)
                        fetched += c->rel.files[f]->length;
                if (f != RF_USR && f != RF_VERITY)
                        items[n++] = release_item(c, f, urls[f], dests[f]);
        }
        r = fetch_items(items, n);
        if (r < 0)
                goto out;
        bool had_verity = access(dests[RF_VERITY], F_OK) == 0;
        if (access(dests[RF_USR], F_OK) < 0) {
                delta = download_delta(c, urls, dests, &ds, &fetched);
                if (delta < 0) {
                        r = delta;
                        goto out;
                }
                if (delta == 0)
                        fetched += c->rel.files[RF_USR]->length;
        }
        if (delta > 0)
                fetched += ds.tree_fetched + ds.patch_fetched;
        else if (!had_verity)
                fetched += c->rel.files[RF_VERITY]->length;
        /* Hash tree and usr image, assembled or not, are checked against their
         * signed hashes; what is missing is downloaded whole. */
        n = 0;
        for (size_t f = RF_USR; f <= RF_VERITY; f++)
                items[n++] = release_item(c, f, urls[f], dests[f]);
        r = fetch_items(items, n);
        if (r < 0)
                goto out;
        (void) clock_gettime(CLOCK_MONOTONIC, &t1);
        if (delta > 0) {
                fetched += ds.fetched * VERITY_BLOCK_SIZE;
                reused += (ds.reused + ds.resumed) * VERITY_BLOCK_SIZE;
                printf("delta: usr image %.1f MiB: %.1f MiB reused from slot %s%s, %.1f MiB "
                       "fetched in %" PRIu64 " requests",
                       (double) c->rel.files[RF_USR]->length / 1048576.0,
                       (double) ds.reused * VERITY_BLOCK_SIZE / 1048576.0,
                       slot_to_string(c->t.current),
                       ds.damaged > 0 ? " (some blocks damaged there)" : "",
                       (double) ds.fetched * VERITY_BLOCK_SIZE / 1048576.0, ds.requests);
                if (ds.patch_blocks > 0 || ds.patch_fetched > 0)
                        printf(", %.1f MiB from a patch of %" PRIu64 " KiB (%" PRIu64
                               " KiB fetched in this run)",
                               (double) ds.patch_blocks * VERITY_BLOCK_SIZE / 1048576.0,
                               c->rel.patch->length / 1024, ds.patch_fetched / 1024);
                if (ds.patch_mismatched > 0)
                        printf(", %" PRIu64 " blocks of the patch did not match and were fetched",
                               ds.patch_mismatched);
                if (ds.tree_rebuilt > 0)
                        printf(", hash tree %" PRIu64 " KiB fetched (%" PRIu64
                               " blocks of leaves rebuilt from slot %s's, %" PRIu64 " from parts)",
                               ds.tree_fetched / 1024, ds.tree_rebuilt,
                               slot_to_string(c->t.current), ds.tree_from_parts);
                if (ds.resumed > 0)
                        printf(", %.1f MiB written by an interrupted run",
                               (double) ds.resumed * VERITY_BLOCK_SIZE / 1048576.0);
                if (ds.damaged > 0)
                        printf(", %" PRIu64 " damaged blocks of slot %s refetched", ds.damaged,
                               slot_to_string(c->t.current));
                printf("\n");
        }
        if (ids.frames > 0)
                printf("delta: initrd %.1f MiB: %.1f MiB reused from slot %s, %.1f MiB fetched in "
                       "%" PRIu64 " requests (%" PRIu64 " frames)%s\n",
                       (double) c->rel.files[RF_INITRD]->length / 1048576.0,
                       (double) (ids.reused_bytes + ids.resumed_bytes) / 1048576.0,
                       slot_to_string(c->t.current), (double) ids.fetched_bytes / 1048576.0,
                       ids.requests, ids.frames,
                       ids.resumed_bytes > 0 ? ", some written by an interrupted run" : "");
        printf("download: %s %s: %" PRIu64 " bytes fetched, %" PRIu64 " reused locally, of %" PRIu64
               " (%.2f %%), %.1f s\n",
               c->rel.image, c->rel.version, fetched, reused, total,
               total ? 100.0 * (double) fetched / (double) total : 0.0,
               (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
        for (size_t f = RF_KERNEL; f <= RF_INITRD; f++) {
                _cleanup_free_ char *base = dests[f] ? strdup_printf("%s.base", dests[f]) : NULL;
                if (base)
                        (void) unlink(base);
        }
        for (size_t f = 0; f < _RF_MAX; f++) {
                free(urls[f]);
                free(dests[f]);
        }
        return r;
}

/* Writes the staged file into the disk at the partition's offset. */
static int write_partition(const Ctx *c, size_t f, const GptEntry *part) {
        _cleanup_free_ char *src = staged(c, f);
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        _cleanup_free_ uint8_t *buf = malloc(1 << 20);
        struct stat st;
        uint64_t pos = 0;

        if (!src || !buf)
                return -ENOMEM;
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0 || fstat(in, &st) < 0)
                return error_wrapf(-errno, "%s", src);
        if ((uint64_t) st.st_size > part->size)
                return error_setf(ENOSPC,
                                  "%s (%" PRIu64 " bytes) does not fit partition %u "
                                  "(%" PRIu64 " bytes)",
                                  release_file[f], (uint64_t) st.st_size, part->partno, part->size);
        out = open(c->t.disk, O_WRONLY | O_CLOEXEC);
        if (out < 0)
                return error_wrapf(-errno, "cannot open %s for writing", c->t.disk);
        for (;;) {
                ssize_t k = read(in, buf, 1 << 20);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return error_wrapf(-errno, "%s", src);
                if (k == 0)
                        break;
                for (ssize_t done = 0; done < k;) {
                        ssize_t w = pwrite(out, buf + done, (size_t) (k - done),
                                           (off_t) (part->offset + pos + (uint64_t) done));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return error_wrapf(-errno, "writing %s", c->t.disk);
                        done += w;
                }
                pos += (uint64_t) k;
        }
        if (fsync(out) < 0)
                return error_wrapf(-errno, "syncing %s", c->t.disk);
        return 0;
}

static int step(Ctx *c, Journal *j, JournalStep s) {
        j->step = s;
        log_debug("update: step %s", journal_step_to_string(s));
        return journal_write(c->state_dir, j);
}

/* The ESP path of a new entry: a loader entry, or the UKI itself. */
static int entry_path(Slot s, unsigned tries, bool uki, char **ret) {
        char name[BOOT_ENTRY_NAME_MAX];
        BootEntry e;
        int r = boot_entry_new_name(s, tries, uki ? ".efi" : ".conf", name);
        if (r < 0)
                return r;
        r = boot_entry_parse(name, &e);
        if (r < 0)
                return r;
        *ret = strdup_printf("%s/%s", boot_entry_dir(&e), name);
        return *ret ? 0 : -ENOMEM;
}

/* The ESP path of a slot's current entry. */
static char *slot_entry_path(const SlotPair *p) {
        return strdup_printf("%s/%s", boot_entry_dir(&p->boot), p->entry);
}

/* The node's settings add kernel.cmdline words to its running slot's entry
 * (berthd, docs/api.md); the new slot's entry gets them too, or the words
 * would be lost with the update. Only on the running machine. */
static int add_settings_words(Ctx *c, char **line) {
        _cleanup_free_ char *words = NULL, *joined = NULL;
        int r;

        if (!c->t.live)
                return 0;
        r = read_full_file(SETTINGS_CMDLINE_FILE, &words, NULL, 64 << 10);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", SETTINGS_CMDLINE_FILE);
        words[strcspn(words, "\n")] = 0;
        if (isempty(words))
                return 0;
        joined = strdup_printf("%s %s", *line, words);
        if (!joined)
                return -ENOMEM;
        free(*line);
        *line = TAKE_PTR(joined);
        return 0;
}

static int install(Ctx *c) {
        Slot ts = slot_other(c->t.current);
        SlotPair *p = &c->t.slots[ts];
        const char *sn = slot_to_string(ts);
        Journal j = {};
        char data_uuid[UUID_STRING_SIZE], verity_uuid[UUID_STRING_SIZE];
        int r;

        r = journal_read(c->state_dir, &j);
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                return r;
        if (r < 0 || !streq(j.version, c->rel.version) || j.slot != ts ||
            !streq(j.root_hash, c->rel.root_hash)) {
                /* Another release or slot than the journal's: from the start. */
                j = (Journal){ .slot = ts, .step = JOURNAL_NONE };
                snprintf(j.version, sizeof j.version, "%s", c->rel.version);
                snprintf(j.root_hash, sizeof j.root_hash, "%s", c->rel.root_hash);
        } else if (j.step > JOURNAL_NONE)
                log_info("resuming the update to %s in slot %s after step %s", j.version, sn,
                         journal_step_to_string(j.step));
        if (j.step == JOURNAL_DONE && p->entry && p->version && streq(p->version, j.version)) {
                log_info("%s is installed in slot %s already; reboot to use it", j.version, sn);
                return 1;
        }
        if (j.step == JOURNAL_DONE)
                j.step = JOURNAL_NONE; /* the entry went away: do it again */
        r = usr_partuuids_from_hex(c->rel.root_hash, data_uuid, verity_uuid);
        if (r < 0)
                return r;
        /* The journal first: a /var that cannot take it fails the apply
         * before anything on the disk changes. */
        if (j.step == JOURNAL_NONE && (r = journal_write(c->state_dir, &j)) < 0)
                return r;
        r = esp_make_writable(&c->t.esp);
        if (r < 0)
                return r;

        if (j.step < JOURNAL_CLEARED) {
                /* Nothing may boot the slot while it is rewritten. */
                if (p->entry) {
                        _cleanup_free_ char *e = slot_entry_path(p);
                        if (!e)
                                return -ENOMEM;
                        r = esp_remove(&c->t.esp, e);
                        if (r < 0)
                                return r;
                }
                if ((r = gpt_set_partition(c->t.disk, p->data.partno, PART_LABEL_EMPTY, NULL)) <
                            0 ||
                    (r = gpt_set_partition(c->t.disk, p->verity.partno, PART_LABEL_EMPTY, NULL)) <
                            0)
                        return error_wrapf(r, "cannot relabel slot %s on %s", sn, c->t.disk);
                if ((r = step(c, &j, JOURNAL_CLEARED)) < 0)
                        return r;
        }
        if (j.step < JOURNAL_WRITTEN) {
                if ((r = write_partition(c, RF_USR, &p->data)) < 0 ||
                    (r = write_partition(c, RF_VERITY, &p->verity)) < 0 ||
                    (r = step(c, &j, JOURNAL_WRITTEN)) < 0)
                        return r;
        }
        if (j.step < JOURNAL_VERIFIED) {
                r = verity_verify_at(c->t.disk, p->data.offset, p->data.size, c->t.disk,
                                     p->verity.offset, c->rel.root_hash);
                if (r < 0)
                        return error_wrapf(r,
                                           "slot %s does not verify against the signed root "
                                           "hash after writing",
                                           sn);
                if ((r = step(c, &j, JOURNAL_VERIFIED)) < 0)
                        return r;
        }
        if (j.step < JOURNAL_LABELLED) {
                if ((r = gpt_set_partition(c->t.disk, p->data.partno,
                                           usr_partition_label(ts, false), data_uuid)) < 0 ||
                    (r = gpt_set_partition(c->t.disk, p->verity.partno,
                                           usr_partition_label(ts, true), verity_uuid)) < 0)
                        return error_wrapf(r, "cannot label slot %s on %s", sn, c->t.disk);
                if ((r = step(c, &j, JOURNAL_LABELLED)) < 0)
                        return r;
        }
        bool uki = c->rel.files[RF_UKI];
        if (j.step < JOURNAL_BOOT_FILES && !uki) {
                _cleanup_free_ char *k = staged(c, RF_KERNEL), *i = staged(c, RF_INITRD);
                char kp[32], ip[32];
                if (!k || !i)
                        return -ENOMEM;
                snprintf(kp, sizeof kp, BOOT_KERNEL_FMT, sn);
                snprintf(ip, sizeof ip, BOOT_INITRD_FMT, sn);
                if ((r = esp_put_file(&c->t.esp, k, kp + 1)) < 0 ||
                    (r = esp_put_file(&c->t.esp, i, ip + 1)) < 0 ||
                    (r = step(c, &j, JOURNAL_BOOT_FILES)) < 0)
                        return r;
        }
        if (j.step < JOURNAL_DONE && uki) {
                /* The signed UKI is the entry: its command line has no
                 * berth.slot=, so the same bytes boot from either slot. */
                _cleanup_free_ char *u = staged(c, RF_UKI), *entry = NULL;
                r = entry_path(ts, UPDATE_TRIES, true, &entry);
                if (!u || r < 0)
                        return r < 0 ? r : -ENOMEM;
                if ((r = esp_put_file(&c->t.esp, u, entry)) < 0 ||
                    (r = step(c, &j, JOURNAL_DONE)) < 0)
                        return r;
        }
        if (j.step < JOURNAL_DONE) {
                _cleanup_free_ char *cpath = staged(c, RF_CMDLINE), *cmd = NULL, *line = NULL,
                                    *text = NULL, *entry = NULL;
                size_t size;
                if (!cpath)
                        return -ENOMEM;
                r = read_full_file(cpath, &cmd, &size, 64 << 10);
                if (r < 0)
                        return error_wrapf(r, "cannot read %s", cpath);
                r = slot_cmdline_retarget(cmd, c->rel.root_hash, ts, &line);
                if (r < 0)
                        return error_wrapf(r, "release %s", c->rel.version);
                r = add_settings_words(c, &line);
                if (r < 0)
                        return r;
                text = boot_entry_text(c->rel.image, c->rel.version, ts, line);
                r = entry_path(ts, UPDATE_TRIES, false, &entry);
                if (!text || r < 0)
                        return r < 0 ? r : -ENOMEM;
                if ((r = esp_put_text(&c->t.esp, text, entry)) < 0 ||
                    (r = step(c, &j, JOURNAL_DONE)) < 0)
                        return r;
        }
        _cleanup_free_ char *dl = path_join(c->download_dir, c->rel.version);
        if (dl)
                (void) rm_rf(dl);
        printf("installed %s %s into slot %s (entry berth-%s+%u%s); reboot to use it\n",
               c->rel.image, c->rel.version, sn, sn, UPDATE_TRIES, uki ? ".efi" : ".conf");
        return 1;
}

static int check_common(Ctx *c, const UpdateOptions *o) {
        int r = ctx_init(c, o, true);
        if (r < 0)
                return r;
        r = refresh(c);
        if (r < 0)
                return r;
        return select_release(c);
}

int update_check(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = check_common(&c, o);
        if (r < 0)
                return r;
        if (r == 0)
                printf("up to date: %s (channel %s)\n", c.t.slots[c.t.current].version, c.channel);
        else
                printf("update available: %s %s (channel %s, installed %s)\n", c.rel.image,
                       c.rel.version, c.channel, c.t.slots[c.t.current].version);
        return 0;
}

/* The check, then the download of what it found: 1 if downloaded, 0 if up to
 * date (said on stdout), < 0 on error. */
static int check_and_download(Ctx *c, const UpdateOptions *o) {
        int r = check_common(c, o);
        if (r <= 0) {
                if (r == 0)
                        printf("up to date: %s\n", c->t.slots[c->t.current].version);
                return r;
        }
        r = download(c);
        return r < 0 ? r : 1;
}

int update_download(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = check_and_download(&c, o);
        if (r <= 0)
                return r;
        printf("downloaded %s %s to %s/%s\n", c.rel.image, c.rel.version, c.download_dir,
               c.rel.version);
        return 0;
}

int update_apply(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = check_and_download(&c, o);
        if (r <= 0)
                return r;
        r = install(&c);
        if (r <= 0 || !o->reboot || !c.t.live)
                return MIN(r, 0);
        /* berth-init reboots on SIGTERM (docs/init.md). */
        log_info("rebooting into the new release");
        if (kill(1, SIGTERM) < 0)
                return error_wrapf(-errno, "cannot ask PID 1 to reboot");
        return 0;
}

int update_apply_pending(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = check_and_download(&c, o);
        return r <= 0 ? r : install(&c);
}

int update_status(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        _cleanup_strv_free_ char **bad = NULL;
        Journal j;
        int r = ctx_init(&c, o, false);
        if (r < 0)
                return r;
        printf("disk: %s%s\n", c.t.disk, c.t.live ? " (running machine)" : "");
        for (Slot s = 0; s < _SLOT_MAX; s++) {
                const SlotPair *p = &c.t.slots[s];
                printf("slot %s: %s%s", slot_to_string(s),
                       p->labelled ? "usr pair labelled" : "empty",
                       s == c.t.current ? ", running" : "");
                if (p->entry) {
                        printf(", version %s, entry %s", strna(p->version), p->entry);
                        if (boot_entry_is_bad(&p->boot))
                                printf(" (out of tries: bad)");
                        else if (boot_entry_is_counting(&p->boot))
                                printf(" (%d tries left)", p->boot.tries_left);
                        else
                                printf(" (blessed)");
                }
                printf("\n");
        }
        printf("repository: %s, channel %s\n", c.repo ?: "(none)", c.channel);
        r = journal_read(c.state_dir, &j);
        if (r >= 0)
                printf("journal: %s -> slot %s, step %s\n", j.version, slot_to_string(j.slot),
                       journal_step_to_string(j.step));
        else if (r != -ENOENT)
                return r;
        r = read_bad(&c, &bad);
        if (r < 0)
                return r;
        if (bad && bad[0]) {
                _cleanup_free_ char *l = strv_join(bad, " ");
                printf("bad versions: %s\n", strna(l));
        }
        return update_lock_status_line(o, c.state_dir);
}

int update_mark_good(const UpdateOptions *o) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        BootEntry e;
        char blessed[BOOT_ENTRY_NAME_MAX];
        int r = ctx_init(&c, o, false);
        if (r < 0)
                return r;
        const SlotPair *p = &c.t.slots[c.t.current];
        if (!p->entry)
                return error_setf(ENOENT, "slot %s has no loader entry",
                                  slot_to_string(c.t.current));
        if (!boot_entry_is_counting(&p->boot)) {
                printf("slot %s (%s) is blessed already\n", slot_to_string(c.t.current),
                       strna(p->version));
                return 0;
        }
        e = p->boot;
        e.tries_left = -1;
        e.tries_done = 0;
        r = boot_entry_format(&e, blessed);
        if (r < 0)
                return r;
        _cleanup_free_ char *from = slot_entry_path(p),
                            *to = strdup_printf("%s/%s", boot_entry_dir(&e), blessed);
        if (!from || !to)
                return -ENOMEM;
        if ((r = esp_make_writable(&c.t.esp)) < 0 || (r = esp_rename(&c.t.esp, from, to)) < 0)
                return r;
        printf("blessed slot %s (%s): %s -> %s\n", slot_to_string(c.t.current), strna(p->version),
               p->entry, blessed);
        return 0;
}

int update_running_entry(const UpdateOptions *o, bool *ret_counting, char **ret_version) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = ctx_init(&c, o, false);
        if (r < 0)
                return r;
        const SlotPair *p = &c.t.slots[c.t.current];
        *ret_counting = p->entry && boot_entry_is_counting(&p->boot);
        *ret_version = strdup(strna(p->version));
        return *ret_version ? 0 : -ENOMEM;
}

int update_mark_bad(const UpdateOptions *o, const char *version) {
        _cleanup_(ctx_done) Ctx c = { .lock_fd = -EBADF };
        int r = ctx_init(&c, o, false);
        if (r < 0)
                return r;
        r = add_bad(&c, version);
        if (r < 0)
                return r;
        printf("marked %s bad: it will not be installed again\n", version);
        return 0;
}
