/* SPDX-License-Identifier: MIT */
#include "repo.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "digest.h"
#include "error.h"
#include "fetch.h"
#include "deb.h"
#include "fileio.h"
#include "spawn-util.h"
#include "log.h"
#include "strv.h"

#define DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

#define strcaseeq_(a, b) (strcasecmp((a), (b)) == 0)

static void repo_index_done(RepoIndex *i) {
        free(i->base_uri);
        free(i->suite);
        free(i->component);
        free(i->packages_path);
        free(i->origin);
}

RepoSet *repo_set_free(RepoSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                repo_index_done(&s->indexes[i]);
        free(s->indexes);
        free(s);
        return NULL;
}

/* "http://host/debian" + "dists/bookworm/InRelease" -> "host_debian_dists_bookworm_InRelease",
 * as apt names its lists: no scheme, '/' as '_', nothing but [A-Za-z0-9._+-]. */
static char *cache_name(const char *uri, const char *rest) {
        const char *s = strstr(uri, "://");
        s = s ? s + 3 : uri;
        char *n = strdup_printf("%s/%s", s, rest);
        if (!n)
                return NULL;
        for (char *p = n; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(".+-", *p))
                        *p = '_';
        /* No leading dots: the name must never be "." or ".." or hidden. */
        for (char *p = n; *p == '.'; p++)
                *p = '_';
        return n;
}

static int memfd_high(const char *name) {
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fd > 3)
                return fd;
        /* Keep it away from the fds the child is given. */
        int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);
        int saved = errno;
        safe_close(fd);
        return n < 0 ? -saved : n;
}

static char *read_memfd(int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return NULL;
        size_t n = (size_t) MIN(st.st_size, 64 * 1024);
        char *b = malloc(n + 1);
        if (!b)
                return NULL;
        ssize_t k = pread(fd, b, n, 0);
        b[k > 0 ? (size_t) k : 0] = 0;
        return b;
}

/* gpgv's stderr on one line for the message: lines joined with "; ", runs of
 * blanks collapsed. */
static char *squash_message(const char *s) {
        char *out = malloc(strlen(s) * 2 + 1), *w = out;
        if (!out)
                return NULL;
        for (const char *r = s; *r; r++) {
                if (*r == '\n') {
                        while (w > out && w[-1] == ' ')
                                w--;
                        if (w > out && r[1]) {
                                *w++ = ';';
                                *w++ = ' ';
                        }
                } else if (isspace((unsigned char) *r)) {
                        if (w > out && w[-1] != ' ')
                                *w++ = ' ';
                } else
                        *w++ = *r;
        }
        while (w > out && (isspace((unsigned char) w[-1]) || w[-1] == ';'))
                w--;
        *w = 0;
        return out;
}

/* Verifies a clearsigned file with gpgv against keyring and writes the signed
 * text (only that) to output. On failure ret_msg says what gpgv said. */
static int gpgv_verify(const char *keyring, const char *signed_file, const char *output,
                       char **ret_msg) {
        _cleanup_close_ int status_fd = -EBADF, err_fd = -EBADF;
        pid_t pid;
        int r, st;

        status_fd = memfd_high("gpgv-status");
        if (status_fd < 0)
                return status_fd;
        err_fd = memfd_high("gpgv-stderr");
        if (err_fd < 0)
                return err_fd;
        if (unlink(output) < 0 && errno != ENOENT)
                return -errno;

        char *argv[] = {
                (char *) "gpgv",      (char *) "--status-fd", (char *) "3",
                (char *) "--keyring", (char *) keyring,       (char *) "--output",
                (char *) output,      (char *) signed_file,   NULL,
        };
        r = spawn_start(argv, &(SpawnOptions){ .quiet = true, .err_fd = err_fd, .fd3 = status_fd },
                        &pid);
        if (r < 0) {
                *ret_msg = strdup_printf("cannot run gpgv: %s", strerror(-r));
                return r;
        }
        r = spawn_wait(pid, &st);
        if (r < 0 && r != -EPROTO && r != -ENOENT)
                return r;

        _cleanup_free_ char *status = read_memfd(status_fd);
        _cleanup_free_ char *err = read_memfd(err_fd);
        if (!status || !err)
                return -ENOMEM;
        bool good = WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(status, "[GNUPG:] VALIDSIG ") &&
                    strstr(status, "[GNUPG:] GOODSIG ") && !strstr(status, "[GNUPG:] BADSIG ") &&
                    !strstr(status, "[GNUPG:] ERRSIG ");
        if (!good) {
                *ret_msg = *err ? squash_message(err) : strdup("gpgv found no valid signature");
                (void) unlink(output);
                return -EBADMSG;
        }
        return 0;
}

/* RFC 2822 dates as in Release files: "Sat, 10 May 2025 09:05:02 UTC". */
int repo_release_parse_date(const char *s, time_t *ret) {
        struct tm tm = {};
        const char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
        if (!e)
                e = strptime(s, "%d %b %Y %H:%M:%S", &tm);
        if (!e)
                return -EINVAL;
        while (isspace((unsigned char) *e))
                e++;
        long off = 0;
        if (*e == '+' || *e == '-') {
                /* hhmm: a larger number is no offset and would overflow below. */
                char *end;
                if (!isdigit((unsigned char) e[1]))
                        return -EINVAL;
                long hhmm = strtol(e + 1, &end, 10);
                if (end - (e + 1) > 4)
                        return -EINVAL;
                off = (hhmm / 100) * 3600 + (hhmm % 100) * 60;
                if (*e == '-')
                        off = -off;
        } else if (*e && strncasecmp(e, "UTC", 3) != 0 && strncasecmp(e, "GMT", 3) != 0 &&
                   *e != 'Z')
                return -EINVAL;
        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t - off;
        return 0;
}

static void format_time(time_t t, char buf[static 64]) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, 64, "%a, %d %b %Y %H:%M:%S UTC", &tm) == 0)
                (void) snprintf(buf, 64, "%lld", (long long) t);
}

void repo_release_done(RepoRelease *r) {
        if (!r)
                return;
        free(r->origin);
        free(r->label);
        free(r->suite);
        free(r->codename);
        free(r->date);
        free(r->valid_until);
        free(r->sha256);
        *r = (RepoRelease){};
}

static int release_parse(char *text, RepoRelease *ret) {
        RepoRelease rel = {};
        char **cur = NULL;
        char *p = text, *l;

        while ((l = strsep(&p, "\n"))) {
                if (l[0] == ' ' || l[0] == '\t') {
                        if (cur == &rel.sha256) {
                                char *n = strdup_printf("%s%s\n", rel.sha256 ?: "", l);
                                if (!n)
                                        goto oom;
                                free(rel.sha256);
                                rel.sha256 = n;
                        }
                        continue;
                }
                cur = NULL;
                char *colon = strchr(l, ':');
                if (!colon)
                        continue;
                *colon = 0;
                char *v = colon + 1;
                while (isspace((unsigned char) *v))
                        v++;
                size_t vl = strlen(v);
                while (vl > 0 && isspace((unsigned char) v[vl - 1]))
                        v[--vl] = 0;
                char **field = strcaseeq_(l, "Origin")        ? &rel.origin
                               : strcaseeq_(l, "Label")       ? &rel.label
                               : strcaseeq_(l, "Suite")       ? &rel.suite
                               : strcaseeq_(l, "Codename")    ? &rel.codename
                               : strcaseeq_(l, "Date")        ? &rel.date
                               : strcaseeq_(l, "Valid-Until") ? &rel.valid_until
                               : strcaseeq_(l, "SHA256")      ? &rel.sha256
                                                              : NULL;
                if (!field)
                        continue;
                free(*field);
                *field = strdup(v);
                if (!*field)
                        goto oom;
                cur = field;
                if (field == &rel.sha256)
                        (*field)[0] = 0;
        }
        *ret = rel;
        return 0;
oom:
        repo_release_done(&rel);
        return -ENOMEM;
}

int repo_release_parse_string(const char *data, size_t size, RepoRelease *ret) {
        _cleanup_free_ char *text = malloc(size + 1);
        if (!text)
                return -ENOMEM;
        if (size > 0)
                memcpy(text, data, size);
        text[size] = 0;
        return release_parse(text, ret);
}

/* Finds "path" in the SHA256 section: its digest and size. */
bool repo_release_lookup(const RepoRelease *rel, const char *path, char hex[static SHA256_HEX_SIZE],
                         uint64_t *size) {
        const char *p = rel->sha256;
        while (p && *p) {
                const char *eol = strchrnul(p, '\n');
                char h[65], name[1024];
                unsigned long long sz;
                _cleanup_free_ char *line = strndup(p, (size_t) (eol - p));
                if (line && sscanf(line, " %64s %llu %1023s", h, &sz, name) == 3 &&
                    streq(name, path) && strlen(h) == 64) {
                        memcpy(hex, h, 65);
                        *size = sz;
                        return true;
                }
                p = *eol ? eol + 1 : eol;
        }
        return false;
}

/* State for one source x suite while it is being loaded. */
typedef struct Pending {
        size_t index;     /* into the RepoSet */
        char *compressed; /* cache path of Packages.xz/.gz */
        char *url;
        char sha256[SHA256_HEX_SIZE];
        uint64_t size;
} Pending;

static int load_release(const SpecSource *src, const char *suite, bool check_valid_until,
                        const char *lists, bool *noticed, RepoRelease *ret_rel) {
        _cleanup_free_ char *name = NULL, *path = NULL, *verified = NULL, *url = NULL, *msg = NULL,
                            *text = NULL;
        const char *keyring = src->signed_by ?: DEFAULT_KEYRING;
        RepoRelease rel = {};
        int r;

        url = strdup_printf("%s/dists/%s/InRelease", src->uri, suite);
        name = cache_name(src->uri, strchr(url + strlen(src->uri), '/') + 1);
        if (!url || !name)
                return -ENOMEM;
        path = path_join(lists, name);
        verified = strdup_printf("%s.verified", path);
        if (!path || !verified)
                return -ENOMEM;

        FetchItem it = { .url = url, .dest = path };
        r = fetch_many(&it, 1, 1);
        if (r < 0)
                return error_wrapf(r, "Failed to fetch %s (%s)", url, it.error);

        r = gpgv_verify(keyring, path, verified, &msg);
        if (r < 0)
                return error_wrapf(r, "%s: signature check with keyring %s failed: %s", url,
                                   keyring, msg ?: "?");

        r = read_full_file(verified, &text, NULL, 0);
        if (r < 0)
                return error_wrapf(r, "Failed to read %s", verified);
        r = release_parse(text, &rel);
        if (r < 0)
                return r;

        if (rel.valid_until) {
                time_t until, now = time(NULL);
                char when[64];
                if (repo_release_parse_date(rel.valid_until, &until) < 0) {
                        /* Log before freeing: the message quotes the field. */
                        r = error_setf(EBADMSG, "%s: cannot parse Valid-Until '%s'", url,
                                       rel.valid_until);
                        repo_release_done(&rel);
                        return r;
                }
                format_time(until, when);
                if (check_valid_until && now > until) {
                        repo_release_done(&rel);
                        return error_setf(EKEYEXPIRED,
                                          "%s: the release file expired on %s (Valid-Until); the "
                                          "mirror is stale",
                                          url, when);
                }
                if (!check_valid_until && !*noticed) {
                        log_notice("Valid-Until of the repositories is ignored (%s says %s): the "
                                   "build "
                                   "host's apt configuration sets Acquire::Check-Valid-Until false",
                                   url, when);
                        *noticed = true;
                }
        }
        if (!rel.sha256) {
                repo_release_done(&rel);
                return error_setf(EBADMSG, "%s: no SHA256 section", url);
        }
        if ((!rel.suite || !streq(rel.suite, suite)) &&
            (!rel.codename || !streq(rel.codename, suite)))
                log_warning("%s: Release is for suite '%s' (codename '%s'), not '%s'", url,
                            rel.suite ?: "?", rel.codename ?: "?", suite);
        log_debug("%s: verified with %s, Date: %s", url, keyring, rel.date ?: "-");
        *ret_rel = rel;
        return 0;
}

static int add_index(RepoSet *s, const SpecSource *src, const char *suite, const char *component,
                     const RepoRelease *rel, const char *lists, const char *arch, Pending *pend) {
        static const char *const exts[] = { ".xz", ".gz", "" };
        _cleanup_free_ char *base = NULL;
        char hex[SHA256_HEX_SIZE];
        uint64_t size = 0;
        const char *ext = NULL;

        for (size_t i = 0; i < ELEMENTSOF(exts) && !ext; i++) {
                _cleanup_free_ char *rp =
                        strdup_printf("%s/binary-%s/Packages%s", component, arch, exts[i]);
                if (!rp)
                        return -ENOMEM;
                if (repo_release_lookup(rel, rp, hex, &size))
                        ext = exts[i];
        }
        if (!ext)
                return error_setf(ENOENT,
                                  "%s/dists/%s/InRelease lists no %s/binary-%s/Packages index",
                                  src->uri, suite, component, arch);

        _cleanup_free_ char *rest =
                strdup_printf("dists/%s/%s/binary-%s/Packages", suite, component, arch);
        if (!rest)
                return -ENOMEM;
        base = cache_name(src->uri, rest);
        if (!base)
                return -ENOMEM;

        RepoIndex *n = realloc(s->indexes, sizeof(RepoIndex) * (s->n + 1));
        if (!n)
                return -ENOMEM;
        s->indexes = n;
        RepoIndex *ri = &s->indexes[s->n];
        *ri = (RepoIndex) {
                .base_uri = strdup(src->uri),
                .suite = strdup(suite),
                .component = strdup(component),
                .packages_path = path_join(lists, base),
                .origin = strdup(rel->origin ?: rel->label ?: ""),
        };
        *pend = (Pending){ .index = s->n, .size = size };
        memcpy(pend->sha256, hex, sizeof hex);
        pend->url = strdup_printf("%s/%s%s", src->uri, rest, ext);
        pend->compressed = strdup_printf("%s%s", ri->packages_path ?: "", *ext ? ext : ".raw");
        s->n++;
        if (!ri->base_uri || !ri->suite || !ri->component || !ri->packages_path || !ri->origin ||
            !pend->url || !pend->compressed)
                return -ENOMEM;
        return 0;
}

/* The decompressed Packages is current if its stamp names the compressed file's digest. */
static int decompress_if_needed(const Pending *p, const RepoIndex *ri) {
        _cleanup_free_ char *stamp = strdup_printf("%s.sha256", ri->packages_path);
        _cleanup_free_ char *old = NULL;
        int r;

        if (!stamp)
                return -ENOMEM;
        if (read_full_file(stamp, &old, NULL, 4096) >= 0 && strneq(old, p->sha256, 64) &&
            access(ri->packages_path, R_OK) == 0) {
                log_debug("%s: cached, up to date", ri->packages_path);
                return 0;
        }
        (void) unlink(stamp);
        r = deb_decompress_file(p->compressed, ri->packages_path);
        if (r < 0)
                return error_wrapf(r, "Failed to decompress %s", p->compressed);
        r = write_file_atomic(stamp, p->sha256, 64, 0644);
        if (r < 0)
                return error_wrapf(r, "Failed to write %s", stamp);
        return 0;
}

static void pending_free_many(Pending *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(p[i].compressed);
                free(p[i].url);
        }
        free(p);
}

int repo_set_load(const SpecSource *sources, size_t n_sources, const char *arch,
                  bool check_valid_until, const char *cache_dir, RepoSet **ret) {
        _cleanup_(repo_set_freep) RepoSet *s = NULL;
        _cleanup_free_ char *lists = NULL;
        _cleanup_free_ FetchItem *items = NULL;
        Pending *pend = NULL;
        size_t n_pend = 0;
        bool noticed = false;
        int r;

        if (n_sources == 0)
                return error_setf(EINVAL, "No package sources configured");
        s = calloc(1, sizeof *s);
        lists = path_join(cache_dir, "lists");
        if (!s || !lists)
                return -ENOMEM;
        r = mkdir_p(lists, 0755);
        if (r < 0)
                return error_wrapf(r, "Failed to create %s", lists);

        for (size_t i = 0; i < n_sources; i++) {
                const SpecSource *src = &sources[i];
                STRV_FOREACH(suite, src->suites) {
                        RepoRelease rel = {};
                        r = load_release(src, *suite, check_valid_until, lists, &noticed, &rel);
                        if (r < 0)
                                goto finish;
                        STRV_FOREACH(comp, src->components) {
                                Pending *np = realloc(pend, sizeof(Pending) * (n_pend + 1));
                                if (!np) {
                                        r = -ENOMEM;
                                        break;
                                }
                                pend = np;
                                pend[n_pend] = (Pending){};
                                r = add_index(s, src, *suite, *comp, &rel, lists, arch,
                                              &pend[n_pend]);
                                n_pend++;
                                if (r < 0)
                                        break;
                        }
                        repo_release_done(&rel);
                        if (r < 0)
                                goto finish;
                }
        }

        /* Fetch every index at once; cached ones whose digest matches stay. */
        items = calloc(n_pend, sizeof(FetchItem));
        if (!items) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n_pend; i++)
                items[i] = (FetchItem){
                        .url = pend[i].url,
                        .dest = pend[i].compressed,
                        .sha256 = pend[i].sha256,
                        .size = pend[i].size,
                };
        r = fetch_many(items, n_pend, 4);
        if (r < 0) {
                for (size_t i = 0; i < n_pend; i++)
                        if (items[i].result < 0) {
                                r = error_setf(-items[i].result, "package index: %s",
                                               items[i].error);
                                break;
                        }
                goto finish;
        }
        for (size_t i = 0; i < n_pend; i++) {
                r = decompress_if_needed(&pend[i], &s->indexes[pend[i].index]);
                if (r < 0)
                        goto finish;
        }
        *ret = TAKE_PTR(s);
        r = 0;
finish:
        pending_free_many(pend, n_pend);
        return r;
}
