/* SPDX-License-Identifier: MIT */
#include "aptsrc.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

void spec_source_done(SpecSource *s) {
        if (!s)
                return;
        free(s->uri);
        s->uri = NULL;
        s->suites = strv_free(s->suites);
        s->components = strv_free(s->components);
        free(s->signed_by);
        s->signed_by = NULL;
}

AptConfig *apt_config_free(AptConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_sources; i++)
                spec_source_done(&c->sources[i]);
        free(c->sources);
        free(c);
        return NULL;
}

#define strcaseeq(a, b) (strcasecmp((a), (b)) == 0)

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static bool strcaseeq_any(const char *v, ...) {
        va_list ap;
        bool found = false;
        va_start(ap, v);
        for (const char *s; (s = va_arg(ap, const char *));)
                if (strcaseeq(v, s)) {
                        found = true;
                        break;
                }
        va_end(ap);
        return found;
}

static char *strip(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        return s;
}

static bool parse_boolean(const char *v, bool *ret) {
        if (strcaseeq_any(v, "yes", "true", "on", "1", "enable", NULL)) {
                *ret = true;
                return true;
        }
        if (strcaseeq_any(v, "no", "false", "off", "0", "disable", NULL)) {
                *ret = false;
                return true;
        }
        return false;
}

/* A source as parsed, before it is filtered by type, Enabled and architecture. */
typedef struct RawSource {
        char **types, **uris, **suites, **components, **archs;
        char *signed_by;
        bool enabled;
} RawSource;

static void raw_source_done(RawSource *r) {
        strv_free(r->types);
        strv_free(r->uris);
        strv_free(r->suites);
        strv_free(r->components);
        strv_free(r->archs);
        free(r->signed_by);
        *r = (RawSource){ .enabled = true };
}

static int add_sources(AptConfig *c, const RawSource *r, const char *arch, const char *where) {
        if (!r->enabled)
                return 0;
        if (!strv_contains(r->types, "deb"))
                return 0; /* deb-src only */
        if (arch && r->archs && !strv_contains(r->archs, arch)) {
                log_debug("%s: skipped, not for architecture %s", where, arch);
                return 0;
        }
        if (!r->uris || !r->suites)
                return error_setf(EINVAL, "%s: a deb source needs a URI and a suite", where);
        STRV_FOREACH(s, r->suites) {
                size_t n = strlen(*s);
                if (n > 0 && (*s)[n - 1] == '/')
                        return error_setf(EOPNOTSUPP,
                                          "%s: flat repositories (suite '%s') are not supported",
                                          where, *s);
        }
        if (!r->components)
                return error_setf(EINVAL, "%s: a deb source needs at least one component", where);

        STRV_FOREACH(u, r->uris) {
                SpecSource *n = realloc(c->sources, sizeof(SpecSource) * (c->n_sources + 1));
                if (!n)
                        return -ENOMEM;
                c->sources = n;
                SpecSource *s = &c->sources[c->n_sources];
                *s = (SpecSource){};
                s->uri = strdup(*u);
                s->suites = strv_copy(r->suites);
                s->components = strv_copy(r->components);
                s->signed_by = r->signed_by ? strdup(r->signed_by) : NULL;
                if (!s->uri || !s->suites || !s->components || (r->signed_by && !s->signed_by)) {
                        spec_source_done(s);
                        return -ENOMEM;
                }
                /* Trailing slashes would double up when URLs are built. */
                size_t l = strlen(s->uri);
                while (l > 1 && s->uri[l - 1] == '/')
                        s->uri[--l] = 0;
                c->n_sources++;
        }
        return 0;
}

static int check_signed_by(const char *v, const char *where) {
        if (strstr(v, "BEGIN PGP") || strchr(v, '\n'))
                return error_setf(EOPNOTSUPP,
                                  "%s: Signed-By with an inline key block is not supported, "
                                  "put the key in a keyring file and name its path",
                                  where);
        if (v[0] != '/')
                return error_setf(EOPNOTSUPP,
                                  "%s: Signed-By '%s' is not an absolute path to a keyring "
                                  "(fingerprints are not supported)",
                                  where, v);
        return 0;
}

/* One-line format: deb [opt=val opt=val] URI SUITE [COMPONENT...] */
static int parse_one_line(AptConfig *c, const char *path, unsigned line, char *l,
                          const char *arch) {
        _cleanup_(raw_source_done) RawSource r = { .enabled = true };
        _cleanup_free_ char *where = strdup_printf("%s:%u", path, line);
        char *p = l, *word;
        int k;

        if (!where)
                return -ENOMEM;

        word = strsep(&p, " \t");
        if (!streq(word, "deb") && !streq(word, "deb-src"))
                return error_setf(EINVAL, "%s: unknown type '%s'", where, word);
        k = strv_extend(&r.types, word);
        if (k < 0)
                return k;

        while (p && isspace((unsigned char) *p))
                p++;
        if (p && *p == '[') {
                char *end = strchr(p, ']');
                if (!end)
                        return error_setf(EINVAL, "%s: unterminated option list", where);
                *end = 0;
                char *opts = p + 1;
                p = end + 1;
                for (char *o; (o = strsep(&opts, " \t"));) {
                        if (!*o)
                                continue;
                        char *eq = strchr(o, '=');
                        if (!eq)
                                return error_setf(EINVAL, "%s: option '%s' has no value", where, o);
                        *eq = 0;
                        char *v = eq + 1;
                        /* arch+= and arch-= modify a default we do not track; treat as the set. */
                        size_t kl = strlen(o);
                        if (kl > 0 && (o[kl - 1] == '+' || o[kl - 1] == '-'))
                                o[kl - 1] = 0;
                        if (streq(o, "signed-by")) {
                                k = check_signed_by(v, where);
                                if (k < 0)
                                        return k;
                                free(r.signed_by);
                                r.signed_by = strdup(v);
                                if (!r.signed_by)
                                        return -ENOMEM;
                        } else if (streq(o, "arch")) {
                                k = strv_extend_words(&r.archs, v, true);
                                if (k < 0)
                                        return k;
                        } else if (streq(o, "enabled")) {
                                if (!parse_boolean(v, &r.enabled))
                                        return error_setf(EINVAL, "%s: bad enabled= value '%s'",
                                                          where, v);
                        } else
                                log_debug("%s: ignoring option %s", where, o);
                }
        }

        for (unsigned i = 0; (word = strsep(&p, " \t"));) {
                if (!*word)
                        continue;
                if (i == 0)
                        k = strv_extend(&r.uris, word);
                else if (i == 1)
                        k = strv_extend(&r.suites, word);
                else
                        k = strv_extend(&r.components, word);
                if (k < 0)
                        return k;
                i++;
        }
        return add_sources(c, &r, arch, where);
}

/* The parsers below take the whole text, NUL-terminated, and cut it up in place. */
static int parse_list_text(AptConfig *c, const char *path, char *data, const char *arch) {
        char *p, *l;
        unsigned line = 0;
        int r;

        p = data;
        while ((l = strsep(&p, "\n"))) {
                line++;
                char *hash = strchr(l, '#');
                if (hash)
                        *hash = 0;
                l = strip(l);
                if (!*l)
                        continue;
                r = parse_one_line(c, path, line, l, arch);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_list_file(AptConfig *c, const char *path, const char *arch) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = read_full_file(path, &data, NULL, 0);
        if (r < 0)
                return error_wrapf(r, "Failed to read %s", path);
        return parse_list_text(c, path, data, arch);
}

static int deb822_field(RawSource *r, const char *key, const char *value, const char *where) {
        int k;
        if (strcaseeq(key, "Types"))
                return strv_extend_words(&r->types, value, false);
        if (strcaseeq(key, "URIs"))
                return strv_extend_words(&r->uris, value, false);
        if (strcaseeq(key, "Suites"))
                return strv_extend_words(&r->suites, value, false);
        if (strcaseeq(key, "Components"))
                return strv_extend_words(&r->components, value, false);
        if (strcaseeq(key, "Architectures"))
                return strv_extend_words(&r->archs, value, false);
        if (strcaseeq(key, "Enabled")) {
                if (!parse_boolean(value, &r->enabled))
                        return error_setf(EINVAL, "%s: bad Enabled: value '%s'", where, value);
                return 0;
        }
        if (strcaseeq(key, "Signed-By")) {
                k = check_signed_by(value, where);
                if (k < 0)
                        return k;
                free(r->signed_by);
                r->signed_by = strdup(value);
                return r->signed_by ? 0 : -ENOMEM;
        }
        log_debug("%s: ignoring field %s", where, key);
        return 0;
}

static int parse_sources_text(AptConfig *c, const char *path, char *data, const char *arch) {
        _cleanup_(raw_source_done) RawSource r = { .enabled = true };
        _cleanup_free_ char *key = NULL, *value = NULL;
        char *p, *l;
        unsigned line = 0, stanza_line = 0, key_line = 0;
        bool in_stanza = false;
        int k;

        p = data;
        for (;;) {
                l = strsep(&p, "\n");
                line++;
                bool end = !l;
                bool blank = end || strip(l)[0] == 0;

                if (l && l[0] == '#')
                        continue;
                bool continuation = l && !blank && (l[0] == ' ' || l[0] == '\t');
                if (continuation) {
                        if (!key)
                                return error_setf(EINVAL,
                                                  "%s:%u: continuation line without a field", path,
                                                  line);
                        /* A lone "." stands for an empty line (inline keys). */
                        char *add = strip(l);
                        _cleanup_free_ char *nv = strdup_printf("%s\n%s", value, add);
                        if (!nv)
                                return -ENOMEM;
                        free(value);
                        value = TAKE_PTR(nv);
                        continue;
                }
                /* A field ends: store it. */
                if (key) {
                        _cleanup_free_ char *where = strdup_printf("%s:%u", path, key_line);
                        if (!where)
                                return -ENOMEM;
                        k = deb822_field(&r, key, strip(value), where);
                        if (k < 0)
                                return k;
                        key = mfree(key);
                        value = mfree(value);
                }
                if (blank) {
                        if (in_stanza) {
                                _cleanup_free_ char *where =
                                        strdup_printf("%s:%u", path, stanza_line);
                                if (!where)
                                        return -ENOMEM;
                                k = add_sources(c, &r, arch, where);
                                if (k < 0)
                                        return k;
                                raw_source_done(&r);
                                in_stanza = false;
                        }
                        if (end)
                                break;
                        continue;
                }
                char *colon = strchr(l, ':');
                if (!colon)
                        return error_setf(EINVAL, "%s:%u: expected 'Field: value'", path, line);
                *colon = 0;
                if (!in_stanza) {
                        in_stanza = true;
                        stanza_line = line;
                }
                key = strdup(strip(l));
                value = strdup(colon + 1);
                key_line = line;
                if (!key || !value)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_sources_file(AptConfig *c, const char *path, const char *arch) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = read_full_file(path, &data, NULL, 0);
        if (r < 0)
                return error_wrapf(r, "Failed to read %s", path);
        return parse_sources_text(c, path, data, arch);
}

/* apt.conf: a scanner for `a::b "v";`, `a { b "v"; };`, comments (//, #, C style). Only
 * Acquire::Check-Valid-Until is looked at; everything else is parsed and ignored. */
typedef enum { TOK_END, TOK_WORD, TOK_STRING, TOK_OPEN, TOK_CLOSE, TOK_SEMI } TokType;

static TokType next_token(const char **p, char *buf, size_t size, unsigned *line) {
        const char *s = *p;
        for (;;) {
                while (*s && isspace((unsigned char) *s)) {
                        if (*s == '\n')
                                (*line)++;
                        s++;
                }
                if (s[0] == '/' && s[1] == '/') {
                        while (*s && *s != '\n')
                                s++;
                } else if (s[0] == '#') {
                        while (*s && *s != '\n')
                                s++;
                } else if (s[0] == '/' && s[1] == '*') {
                        const char *e = strstr(s + 2, "*/");
                        for (const char *q = s; q < (e ? e : s + strlen(s)); q++)
                                if (*q == '\n')
                                        (*line)++;
                        s = e ? e + 2 : s + strlen(s);
                } else
                        break;
        }
        TokType t;
        size_t n = 0;
        if (!*s)
                t = TOK_END;
        else if (*s == '{' || *s == '}' || *s == ';') {
                t = *s == '{' ? TOK_OPEN : *s == '}' ? TOK_CLOSE : TOK_SEMI;
                s++;
        } else if (*s == '"') {
                t = TOK_STRING;
                s++;
                while (*s && *s != '"') {
                        if (n + 1 < size)
                                buf[n++] = *s;
                        s++;
                }
                if (*s == '"')
                        s++;
        } else {
                t = TOK_WORD;
                while (*s && !isspace((unsigned char) *s) && !strchr("{};\"", *s)) {
                        if (n + 1 < size)
                                buf[n++] = *s;
                        s++;
                }
        }
        buf[n] = 0;
        *p = s;
        return t;
}

static int parse_apt_conf_text(AptConfig *c, const char *path, const char *data) {
        _cleanup_strv_free_ char **scope = NULL;
        char tok[512], key[512] = "";
        const char *p;
        unsigned line = 1;
        bool have_key = false;
        int r;

        p = data;
        for (;;) {
                TokType t = next_token(&p, tok, sizeof tok, &line);
                switch (t) {
                case TOK_END:
                        return 0;
                case TOK_WORD:
                case TOK_STRING:
                        if (!have_key) {
                                (void) snprintf(key, sizeof key, "%s", tok);
                                have_key = true;
                                break;
                        }
                        /* key value */
                        {
                                _cleanup_free_ char *prefix = strv_join(scope, "::");
                                if (!prefix)
                                        return -ENOMEM;
                                _cleanup_free_ char *full =
                                        strdup_printf("%s%s%s", prefix, *prefix ? "::" : "", key);
                                if (!full)
                                        return -ENOMEM;
                                if (strcaseeq(full, "Acquire::Check-Valid-Until")) {
                                        bool b;
                                        if (!parse_boolean(tok, &b))
                                                return error_setf(EINVAL, "%s:%u: bad boolean '%s'",
                                                                  path, line, tok);
                                        c->check_valid_until = b;
                                        log_debug("%s:%u: Acquire::Check-Valid-Until %s", path,
                                                  line, b ? "true" : "false");
                                }
                        }
                        have_key = false;
                        break;
                case TOK_OPEN:
                        if (!have_key)
                                return error_setf(EINVAL, "%s:%u: '{' without a name", path, line);
                        r = strv_extend(&scope, key);
                        if (r < 0)
                                return r;
                        have_key = false;
                        break;
                case TOK_CLOSE: {
                        size_t n = strv_length(scope);
                        if (n == 0)
                                return error_setf(EINVAL, "%s:%u: unbalanced '}'", path, line);
                        free(scope[n - 1]);
                        scope[n - 1] = NULL;
                        have_key = false;
                        break;
                }
                case TOK_SEMI:
                        /* "value"; inside a list scope, or a key with no value: ignore */
                        have_key = false;
                        break;
                }
        }
}

static int parse_apt_conf(AptConfig *c, const char *path) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = read_full_file(path, &data, NULL, 0);
        if (r < 0)
                return error_wrapf(r, "Failed to read %s", path);
        return parse_apt_conf_text(c, path, data);
}

/* A NUL-terminated copy, as read_full_file() would have returned it. */
static char *text_copy(const char *data, size_t size) {
        char *t = malloc(size + 1);
        if (!t)
                return NULL;
        if (size > 0)
                memcpy(t, data, size);
        t[size] = 0;
        return t;
}

int apt_sources_parse_string(const char *path, const char *data, size_t size, bool deb822,
                             const char *arch, AptConfig *into) {
        _cleanup_free_ char *text = text_copy(data, size);
        if (!text)
                return -ENOMEM;
        return deb822 ? parse_sources_text(into, path, text, arch)
                      : parse_list_text(into, path, text, arch);
}

int apt_conf_parse_string(const char *path, const char *data, size_t size, AptConfig *into) {
        _cleanup_free_ char *text = text_copy(data, size);
        if (!text)
                return -ENOMEM;
        return parse_apt_conf_text(into, path, text);
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Directory entries, sorted, filtered by a predicate on the name. */
static int list_dir(const char *dir, bool (*want)(const char *), char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        return 0;
                }
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || !want(de->d_name))
                        continue;
                int r = strv_extend(&l, de->d_name);
                if (r < 0) {
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_names);
        *ret = TAKE_PTR(l);
        return 0;
}

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

static bool want_source_file(const char *n) {
        return endswith(n, ".list") || endswith(n, ".sources");
}

/* apt reads apt.conf.d parts whose names are [A-Za-z0-9_.-] and skips backup names. */
static bool want_conf_part(const char *n) {
        for (const char *s = n; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.-", *s))
                        return false;
        static const char *const ignored[] = { ".disabled",  ".bak",         ".save",
                                               ".orig",      ".distUpgrade", ".dpkg-old",
                                               ".dpkg-dist", ".dpkg-new",    ".dpkg-tmp",
                                               ".ucf-old",   ".ucf-dist",    ".ucf-new" };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                if (endswith(n, ignored[i]))
                        return false;
        return !endswith(n, "~");
}

int apt_config_load_for_arch(const char *root, const char *arch, AptConfig **ret) {
        _cleanup_(apt_config_freep) AptConfig *c = NULL;
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *etc = NULL, *list = NULL, *dir = NULL, *conf = NULL, *confd = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->check_valid_until = true;

        etc = path_join(root ?: "/", "etc/apt");
        if (!etc)
                return -ENOMEM;
        list = path_join(etc, "sources.list");
        dir = path_join(etc, "sources.list.d");
        conf = path_join(etc, "apt.conf");
        confd = path_join(etc, "apt.conf.d");
        if (!list || !dir || !conf || !confd)
                return -ENOMEM;

        if (access(list, F_OK) == 0) {
                r = parse_list_file(c, list, arch);
                if (r < 0)
                        return r;
        }
        r = list_dir(dir, want_source_file, &files);
        if (r < 0)
                return error_wrapf(r, "Failed to list %s", dir);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = path_join(dir, *f);
                if (!p)
                        return -ENOMEM;
                r = endswith(*f, ".list") ? parse_list_file(c, p, arch)
                                          : parse_sources_file(c, p, arch);
                if (r < 0)
                        return r;
        }
        files = strv_free(files);

        /* As apt: the parts first, then the main file. */
        r = list_dir(confd, want_conf_part, &files);
        if (r < 0)
                return error_wrapf(r, "Failed to list %s", confd);
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = path_join(confd, *f);
                if (!p)
                        return -ENOMEM;
                r = parse_apt_conf(c, p);
                if (r < 0)
                        return r;
        }
        if (access(conf, F_OK) == 0) {
                r = parse_apt_conf(c, conf);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(c);
        return 0;
}

int apt_config_load(const char *root, AptConfig **ret) {
        return apt_config_load_for_arch(root, NULL, ret);
}
