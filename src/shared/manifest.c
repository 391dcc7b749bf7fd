/* SPDX-License-Identifier: MIT */
#include "manifest.h"

#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "digest.h"
#include "error.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "macro.h"

#define SPDX_NOASSERTION "NOASSERTION"
#define VERITY_BLOCK_BYTES 4096

static json_t *str_or_noassert(const char *s) {
        return json_string(isempty(s) ? SPDX_NOASSERTION : s);
}

static int cmp_pkg(const void *a, const void *b) {
        const Package *x = *(const Package *const *) a, *y = *(const Package *const *) b;
        int c = strcmp(strempty(x->name), strempty(y->name));
        if (c == 0)
                c = strcmp(strempty(x->architecture), strempty(y->architecture));
        if (c == 0)
                c = strcmp(strempty(x->version), strempty(y->version));
        return c;
}

/* Packages in a stable order, without touching the caller's list. */
static int sorted_packages(const PackageList *l, const Package ***ret, size_t *ret_n) {
        const Package **v;
        size_t n = l ? l->n : 0;

        v = calloc(MAX(n, (size_t) 1), sizeof(Package *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = &l->packages[i];
        if (n > 1)
                qsort(v, n, sizeof(Package *), cmp_pkg);
        *ret = v;
        *ret_n = n;
        return 0;
}

typedef struct ArtifactSum {
        const char *name;
        uint64_t size;
        char sha256[SHA256_HEX_SIZE];
} ArtifactSum;

static int cmp_art(const void *a, const void *b) {
        return strcmp(((const ArtifactSum *) a)->name, ((const ArtifactSum *) b)->name);
}

static int artifact_sums(const ManifestInfo *m, ArtifactSum **ret) {
        _cleanup_free_ ArtifactSum *v =
                calloc(MAX(m->n_artifacts, (size_t) 1), sizeof(ArtifactSum));
        int r;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_artifacts; i++) {
                struct stat st;
                if (!m->artifacts[i].name || !m->artifacts[i].path)
                        return -EINVAL;
                if (stat(m->artifacts[i].path, &st) < 0)
                        return error_wrapf(-errno, "%s", m->artifacts[i].path);
                r = sha256_file_hex(m->artifacts[i].path, v[i].sha256);
                if (r < 0)
                        return error_wrapf(r, "%s", m->artifacts[i].path);
                v[i].name = m->artifacts[i].name;
                v[i].size = (uint64_t) st.st_size;
        }
        if (m->n_artifacts > 1)
                qsort(v, m->n_artifacts, sizeof(ArtifactSum), cmp_art);
        *ret = TAKE_PTR(v);
        return 0;
}

static int dump_atomic(json_t *doc, const char *dest) {
        _cleanup_free_ char *s = NULL, *t = NULL;

        s = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
        if (!s)
                return -ENOMEM;
        t = strdup_printf("%s\n", s);
        if (!t)
                return -ENOMEM;
        return write_file_atomic(dest, t, strlen(t), 0644);
}

static int check_info(const ManifestInfo *m) {
        if (!m || isempty(m->name) || isempty(m->version) || (m->n_artifacts > 0 && !m->artifacts))
                return -EINVAL;
        return 0;
}

static int write_manifest(const ManifestInfo *m, const ArtifactSum *arts, const char *dest) {
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_free_ const Package **pkgs = NULL;
        json_t *jp, *ja;
        size_t n_pkgs;
        int r;

        r = sorted_packages(m->packages, &pkgs, &n_pkgs);
        if (r < 0)
                return r;

        doc = json_object();
        if (!doc)
                return -ENOMEM;
        if ((r = json_set(doc, "name", json_string(m->name))) < 0 ||
            (r = json_set(doc, "version", json_string(m->version))) < 0 ||
            (r = json_set(doc, "flavor", json_string_or_null(m->flavor))) < 0 ||
            (r = json_set(doc, "architecture", json_string(m->architecture ?: "amd64"))) < 0 ||
            (r = json_set(doc, "root_hash", json_string_or_null(m->root_hash))) < 0 ||
            (r = json_set(doc, "verity_salt", json_string_or_null(m->verity_salt))) < 0 ||
            (r = json_set(doc, "kernel_version", json_string_or_null(m->kernel_version))) < 0 ||
            (r = json_set(doc, "cmdline", json_string_or_null(m->cmdline))) < 0 ||
            (r = json_set(doc, "source_date_epoch", json_integer(m->source_date_epoch))) < 0 ||
            (r = json_set(doc, "usr_tree_bytes", json_integer((json_int_t) m->usr_tree_bytes))) <
                    0 ||
            (r = json_set(doc, "package_count", json_integer((json_int_t) n_pkgs))) < 0 ||
            (r = json_set(doc, "berth_version", json_string(BERTH_VERSION))) < 0)
                return r;
        /* The hash tree's block size goes with its salt (the delta updater
         * needs both); berth's verity blocks are always 4 KiB. */
        if (m->verity_salt &&
            (r = json_set(doc, "verity_block_size", json_integer(VERITY_BLOCK_BYTES))) < 0)
                return r;

        jp = json_array();
        if ((r = json_set(doc, "packages", jp)) < 0)
                return r;
        for (size_t i = 0; i < n_pkgs; i++) {
                const Package *p = pkgs[i];
                json_t *o = json_object();
                if ((r = json_append(jp, o)) < 0 ||
                    (r = json_set(o, "name", json_string_or_null(p->name))) < 0 ||
                    (r = json_set(o, "version", json_string_or_null(p->version))) < 0 ||
                    (r = json_set(o, "architecture", json_string_or_null(p->architecture))) < 0 ||
                    (r = json_set(o, "sha256", json_string(p->sha256))) < 0 ||
                    (r = json_set(o, "size", json_integer((json_int_t) p->size))) < 0 ||
                    (r = json_set(o, "installed_size_kib",
                                  json_integer((json_int_t) p->installed_size))) < 0 ||
                    (r = json_set(o, "source", json_string_or_null(p->source ?: p->name))) < 0)
                        return r;
        }

        ja = json_array();
        if ((r = json_set(doc, "artifacts", ja)) < 0)
                return r;
        for (size_t i = 0; i < m->n_artifacts; i++) {
                json_t *o = json_object();
                if ((r = json_append(ja, o)) < 0 ||
                    (r = json_set(o, "name", json_string(arts[i].name))) < 0 ||
                    (r = json_set(o, "size", json_integer((json_int_t) arts[i].size))) < 0 ||
                    (r = json_set(o, "sha256", json_string(arts[i].sha256))) < 0)
                        return r;
        }
        return dump_atomic(doc, dest);
}

/* SPDX identifiers allow [A-Za-z0-9.-] only. */
static char *spdx_id(const char *prefix, const char *name, const char *suffix) {
        char *s = strdup_printf("%s%s%s%s", prefix, name, suffix ? "-" : "", strempty(suffix));
        if (!s)
                return NULL;
        for (char *c = s + strlen(prefix); *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
                        *c = '-';
        return s;
}

/* purl components are percent-encoded (a Debian version may hold ':' and '+'). */
static char *purl_encode(const char *s) {
        static const char hexchars[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr(".-_~", *c))
                        *o++ = (char) *c;
                else {
                        *o++ = '%';
                        *o++ = hexchars[*c >> 4];
                        *o++ = hexchars[*c & 15];
                }
        }
        *o = 0;
        return out;
}

static json_t *spdx_checksums(const char *sha256) {
        json_t *a = json_array(), *o = json_object();
        if (!a || !o || json_object_set_new(o, "algorithm", json_string("SHA256")) < 0 ||
            json_object_set_new(o, "checksumValue", json_string(sha256)) < 0 ||
            json_array_append_new(a, o) < 0) {
                json_decref(a);
                json_decref(o);
                return NULL;
        }
        return a;
}

static int spdx_relationship(json_t *rels, const char *a, const char *type, const char *b) {
        json_t *o = json_object();
        int r;
        if ((r = json_append(rels, o)) < 0 ||
            (r = json_set(o, "spdxElementId", json_string(a))) < 0 ||
            (r = json_set(o, "relationshipType", json_string(type))) < 0 ||
            (r = json_set(o, "relatedSpdxElement", json_string(b))) < 0)
                return r;
        return 0;
}

/* The artifact whose checksum stands for the image: the disk image if there
 * is one, else the usr image. */
static const ArtifactSum *image_artifact(const ArtifactSum *a, size_t n) {
        static const char *const preferred[] = { ".raw", ".img", ".erofs" };
        for (size_t k = 0; k < ELEMENTSOF(preferred); k++)
                for (size_t i = 0; i < n; i++) {
                        size_t l = strlen(a[i].name), e = strlen(preferred[k]);
                        if (l >= e && streq(a[i].name + l - e, preferred[k]))
                                return &a[i];
                }
        return NULL;
}

static int sbom_package(json_t *pkgs, json_t *rels, const Package *p, const Package *prev,
                        const Package *next) {
        _cleanup_free_ char *id = NULL, *purl = NULL, *ename = NULL, *ever = NULL, *earch = NULL,
                            *supplier = NULL;
        json_t *o, *refs, *ref;
        bool dup;
        int r;

        if (isempty(p->name) || isempty(p->version))
                return -EINVAL;
        /* Same name twice (multiarch): the architecture keeps the ids unique. */
        dup = (prev && streq(prev->name, p->name)) || (next && streq(next->name, p->name));
        id = spdx_id("SPDXRef-Package-", p->name, dup ? (p->architecture ?: "any") : NULL);
        ename = purl_encode(p->name);
        ever = purl_encode(p->version);
        earch = purl_encode(p->architecture ?: "all");
        if (!id || !ename || !ever || !earch)
                return -ENOMEM;
        purl = strdup_printf("pkg:deb/debian/%s@%s?arch=%s", ename, ever, earch);
        supplier = isempty(p->origin) ? strdup(SPDX_NOASSERTION)
                                      : strdup_printf("Organization: %s", p->origin);
        if (!purl || !supplier)
                return -ENOMEM;

        o = json_object();
        if ((r = json_append(pkgs, o)) < 0 || (r = json_set(o, "SPDXID", json_string(id))) < 0 ||
            (r = json_set(o, "name", json_string(p->name))) < 0 ||
            (r = json_set(o, "versionInfo", json_string(p->version))) < 0 ||
            (r = json_set(o, "supplier", json_string(supplier))) < 0 ||
            (r = json_set(o, "downloadLocation", str_or_noassert(p->url))) < 0 ||
            (r = json_set(o, "filesAnalyzed", json_false())) < 0 ||
            (r = json_set(o, "licenseConcluded", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "licenseDeclared", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "copyrightText", json_string(SPDX_NOASSERTION))) < 0)
                return r;
        if (!isempty(p->sha256) && (r = json_set(o, "checksums", spdx_checksums(p->sha256))) < 0)
                return r;
        if (!isempty(p->source)) {
                _cleanup_free_ char *si = strdup_printf("built package from: %s %s", p->source,
                                                        p->source_version ?: p->version);
                if (!si || (r = json_set(o, "sourceInfo", json_string(si))) < 0)
                        return -ENOMEM;
        }
        refs = json_array();
        ref = json_object();
        if ((r = json_set(o, "externalRefs", refs)) < 0 || (r = json_append(refs, ref)) < 0 ||
            (r = json_set(ref, "referenceCategory", json_string("PACKAGE-MANAGER"))) < 0 ||
            (r = json_set(ref, "referenceType", json_string("purl"))) < 0 ||
            (r = json_set(ref, "referenceLocator", json_string(purl))) < 0)
                return r;
        return spdx_relationship(rels, "SPDXRef-Image", "CONTAINS", id);
}

static int write_sbom(const ManifestInfo *m, const ArtifactSum *arts, const char *dest) {
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_free_ const Package **pkgs = NULL;
        _cleanup_free_ char *docname = NULL, *ns = NULL, *creator = NULL;
        const ArtifactSum *img;
        json_t *ci, *creators, *jp, *rels, *o;
        char created[32];
        struct tm tm;
        time_t t;
        size_t n_pkgs;
        int r;

        r = sorted_packages(m->packages, &pkgs, &n_pkgs);
        if (r < 0)
                return r;
        img = image_artifact(arts, m->n_artifacts);

        t = (time_t) m->source_date_epoch;
        if (!gmtime_r(&t, &tm) || strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        docname = strdup_printf("%s-%s", m->name, m->version);
        ns = strdup_printf("https://berth.invalid/spdx/%s-%s-%s", m->name, m->version,
                           m->root_hash
                                   ?: img ? img->sha256
                                          : "unknown");
        creator = strdup_printf("Tool: berth-%s", BERTH_VERSION);
        if (!docname || !ns || !creator)
                return -ENOMEM;

        doc = json_object();
        ci = json_object();
        creators = json_array();
        if (!doc)
                return -ENOMEM;
        if ((r = json_set(doc, "spdxVersion", json_string("SPDX-2.3"))) < 0 ||
            (r = json_set(doc, "dataLicense", json_string("CC0-1.0"))) < 0 ||
            (r = json_set(doc, "SPDXID", json_string("SPDXRef-DOCUMENT"))) < 0 ||
            (r = json_set(doc, "name", json_string(docname))) < 0 ||
            (r = json_set(doc, "documentNamespace", json_string(ns))) < 0 ||
            (r = json_set(doc, "creationInfo", ci)) < 0 ||
            (r = json_set(ci, "created", json_string(created))) < 0 ||
            (r = json_set(ci, "creators", creators)) < 0 ||
            (r = json_append(creators, json_string(creator))) < 0)
                return r;

        jp = json_array();
        rels = json_array();
        if ((r = json_set(doc, "packages", jp)) < 0 ||
            (r = json_set(doc, "relationships", rels)) < 0)
                return r;
        if ((r = json_set(doc, "documentDescribes", json_pack("[s]", "SPDXRef-Image"))) < 0)
                return r;

        /* The image itself. */
        o = json_object();
        if ((r = json_append(jp, o)) < 0 ||
            (r = json_set(o, "SPDXID", json_string("SPDXRef-Image"))) < 0 ||
            (r = json_set(o, "name", json_string(m->name))) < 0 ||
            (r = json_set(o, "versionInfo", json_string(m->version))) < 0 ||
            (r = json_set(o, "supplier", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "downloadLocation", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "filesAnalyzed", json_false())) < 0 ||
            (r = json_set(o, "primaryPackagePurpose", json_string("OPERATING-SYSTEM"))) < 0 ||
            (r = json_set(o, "licenseConcluded", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "licenseDeclared", json_string(SPDX_NOASSERTION))) < 0 ||
            (r = json_set(o, "copyrightText", json_string(SPDX_NOASSERTION))) < 0)
                return r;
        if (img) {
                if ((r = json_set(o, "packageFileName", json_string(img->name))) < 0 ||
                    (r = json_set(o, "checksums", spdx_checksums(img->sha256))) < 0)
                        return r;
        }
        if (m->description && (r = json_set(o, "description", json_string(m->description))) < 0)
                return r;
        r = spdx_relationship(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_pkgs; i++) {
                r = sbom_package(jp, rels, pkgs[i], i > 0 ? pkgs[i - 1] : NULL,
                                 i + 1 < n_pkgs ? pkgs[i + 1] : NULL);
                if (r < 0)
                        return r == -EINVAL
                                       ? error_wrapf(r, "package %zu has no name or version", i)
                                       : r;
        }
        return dump_atomic(doc, dest);
}

/* The public entry points hash the artifacts (the disk image is hundreds of
 * MiB) once per call; manifest_and_sbom_write() hashes once for both files. */
int manifest_write(const ManifestInfo *m, const char *dest) {
        _cleanup_free_ ArtifactSum *arts = NULL;
        int r;

        if (!dest || check_info(m) < 0)
                return -EINVAL;
        r = artifact_sums(m, &arts);
        if (r < 0)
                return r;
        return write_manifest(m, arts, dest);
}

int sbom_write(const ManifestInfo *m, const char *dest) {
        _cleanup_free_ ArtifactSum *arts = NULL;
        int r;

        if (!dest || check_info(m) < 0)
                return -EINVAL;
        r = artifact_sums(m, &arts);
        if (r < 0)
                return r;
        return write_sbom(m, arts, dest);
}

int manifest_and_sbom_write(const ManifestInfo *m, const char *manifest_dest,
                            const char *sbom_dest) {
        _cleanup_free_ ArtifactSum *arts = NULL;
        int r;

        if (!manifest_dest || !sbom_dest || check_info(m) < 0)
                return -EINVAL;
        r = artifact_sums(m, &arts);
        if (r < 0)
                return r;
        r = write_manifest(m, arts, manifest_dest);
        if (r < 0)
                return r;
        return write_sbom(m, arts, sbom_dest);
}

/* ---- reader ---- */

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        free(m->name);
        free(m->version);
        free(m->flavor);
        free(m->architecture);
        free(m->root_hash);
        free(m->verity_salt);
        free(m->kernel_version);
        free(m->cmdline);
        for (size_t i = 0; i < m->n_artifacts; i++)
                free(m->artifacts[i].name);
        free(m->artifacts);
        package_list_clear(&m->packages);
        free(m);
        return NULL;
}

typedef struct Reader {
        char **msg;
        char path[64]; /* "packages[3]" */
} Reader;

static int bad(Reader *rd, const char *key, const char *what) {
        if (rd->msg && !*rd->msg)
                *rd->msg = strdup_printf("%s%s%s: %s", rd->path, rd->path[0] ? "." : "", key, what);
        return -EBADMSG;
}

static bool hex_ok(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

/* A string field; required or optional (null or absent). Control characters
 * are refused: these strings end up in logs and on the API. */
static int get_str(Reader *rd, json_t *o, const char *key, bool required, size_t max, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                if (required)
                        return bad(rd, key, "missing");
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return bad(rd, key, "expected a string");
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 && required)
                return bad(rd, key, "empty");
        if (n > max || strlen(s) != n)
                return bad(rd, key, "too long or contains NUL");
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return bad(rd, key, "contains control characters");
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_uint(Reader *rd, json_t *o, const char *key, bool required, uint64_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!v) {
                if (required)
                        return bad(rd, key, "missing");
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return bad(rd, key, "expected a non-negative integer");
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

static int get_sha256(Reader *rd, json_t *o, const char *key, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_free_ char *s = NULL;
        int r = get_str(rd, o, key, true, 64, &s);
        if (r < 0)
                return r;
        if (!hex_ok(s, 64))
                return bad(rd, key, "expected 64 lowercase hex digits");
        memcpy(ret, s, SHA256_HEX_SIZE);
        return 0;
}

int manifest_parse(const char *data, size_t size, Manifest **ret, char **ret_msg) {
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        Reader rd = { .msg = ret_msg };
        json_t *arts, *pkgs;
        uint64_t sde;
        int r;

        if (ret_msg)
                *ret_msg = NULL;
        r = json_parse_bounded(data, size, &doc, ret_msg);
        if (r < 0)
                return r;
        if (!json_is_object(doc))
                return bad(&rd, "(document)", "expected an object");
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        if ((r = get_str(&rd, doc, "name", true, 128, &m->name)) < 0 ||
            (r = get_str(&rd, doc, "version", true, 128, &m->version)) < 0 ||
            (r = get_str(&rd, doc, "flavor", false, 32, &m->flavor)) < 0 ||
            (r = get_str(&rd, doc, "architecture", true, 32, &m->architecture)) < 0 ||
            (r = get_str(&rd, doc, "root_hash", false, 64, &m->root_hash)) < 0 ||
            (r = get_str(&rd, doc, "verity_salt", false, 64, &m->verity_salt)) < 0 ||
            (r = get_uint(&rd, doc, "verity_block_size", false, &m->verity_block_size)) < 0 ||
            (r = get_str(&rd, doc, "kernel_version", false, 128, &m->kernel_version)) < 0 ||
            (r = get_str(&rd, doc, "cmdline", false, 4096, &m->cmdline)) < 0 ||
            (r = get_uint(&rd, doc, "source_date_epoch", false, &sde)) < 0 ||
            (r = get_uint(&rd, doc, "usr_tree_bytes", false, &m->usr_tree_bytes)) < 0)
                return r;
        if (sde > INT64_MAX)
                return bad(&rd, "source_date_epoch", "out of range");
        m->source_date_epoch = (int64_t) sde;
        if (m->verity_salt && !hex_ok(m->verity_salt, 64))
                return bad(&rd, "verity_salt", "expected 64 lowercase hex digits");
        if (m->verity_block_size != 0 && m->verity_block_size != VERITY_BLOCK_BYTES)
                return bad(&rd, "verity_block_size", "expected 4096");
        if (m->root_hash && !hex_ok(m->root_hash, 64))
                return bad(&rd, "root_hash", "expected 64 lowercase hex digits");

        arts = json_object_get(doc, "artifacts");
        if (!json_is_array(arts))
                return bad(&rd, "artifacts", "expected an array");
        if (json_array_size(arts) > 64)
                return bad(&rd, "artifacts", "more than 64 entries");
        m->artifacts = calloc(MAX(json_array_size(arts), (size_t) 1), sizeof(ManifestArtifact));
        if (!m->artifacts)
                return -ENOMEM;
        for (size_t i = 0; i < json_array_size(arts); i++) {
                json_t *a = json_array_get(arts, i);
                ManifestArtifact *x = &m->artifacts[m->n_artifacts];
                snprintf(rd.path, sizeof rd.path, "artifacts[%zu]", i);
                if (!json_is_object(a))
                        return bad(&rd, "(entry)", "expected an object");
                if ((r = get_str(&rd, a, "name", true, 255, &x->name)) < 0)
                        return r;
                m->n_artifacts++;
                if (strchr(x->name, '/') || streq(x->name, ".") || streq(x->name, ".."))
                        return bad(&rd, "name", "expected a plain file name");
                if ((r = get_uint(&rd, a, "size", true, &x->size)) < 0 ||
                    (r = get_sha256(&rd, a, "sha256", x->sha256)) < 0)
                        return r;
        }

        pkgs = json_object_get(doc, "packages");
        rd.path[0] = 0;
        if (!json_is_array(pkgs))
                return bad(&rd, "packages", "expected an array");
        if (json_array_size(pkgs) > 100000)
                return bad(&rd, "packages", "too many entries");
        for (size_t i = 0; i < json_array_size(pkgs); i++) {
                json_t *o = json_array_get(pkgs, i);
                Package *p;
                snprintf(rd.path, sizeof rd.path, "packages[%zu]", i);
                if (!json_is_object(o))
                        return bad(&rd, "(entry)", "expected an object");
                p = package_list_add(&m->packages);
                if (!p)
                        return -ENOMEM;
                if ((r = get_str(&rd, o, "name", true, 128, &p->name)) < 0 ||
                    (r = get_str(&rd, o, "version", true, 128, &p->version)) < 0 ||
                    (r = get_str(&rd, o, "architecture", false, 32, &p->architecture)) < 0 ||
                    (r = get_str(&rd, o, "source", false, 128, &p->source)) < 0 ||
                    (r = get_sha256(&rd, o, "sha256", p->sha256)) < 0 ||
                    (r = get_uint(&rd, o, "size", false, &p->size)) < 0 ||
                    (r = get_uint(&rd, o, "installed_size_kib", false, &p->installed_size)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_read(const char *path, Manifest **ret, char **ret_msg) {
        _cleanup_free_ char *data = NULL, *msg = NULL;
        size_t n;
        int r;

        if (ret_msg)
                *ret_msg = NULL;
        r = read_full_file(path, &data, &n, JSON_SIZE_MAX + 1);
        if (r < 0)
                return r;
        r = manifest_parse(data, n, ret, &msg);
        if (r < 0 && ret_msg)
                *ret_msg = strdup_printf("%s: %s", path, msg ?: "not a manifest");
        return r;
}

const ManifestArtifact *manifest_find_artifact(const Manifest *m, const char *name) {
        for (size_t i = 0; i < m->n_artifacts; i++)
                if (streq(m->artifacts[i].name, name))
                        return &m->artifacts[i];
        return NULL;
}
