/* SPDX-License-Identifier: MIT */
#include "spec.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "ini.h"
#include "parse-util.h"
#include "log.h"
#include "strv.h"

#define SPEC_FILE_MAX (4U * 1024U * 1024U)
#define NAME_MAX_LEN 64
#define CMDLINE_MAX 1024
#define ID_MAX UINT32_C(4294967294) /* (uid_t) -1 is "no id" */

/* Parser state: the spec being filled and where the handler stands. */
typedef struct Ctx {
        ImageSpec *spec;
        const char *path;
        unsigned line;
        const char *section;
        const char *key;
        unsigned source_line; /* header line of the open [Source]; 0: none open */
} Ctx;

typedef struct KeyDef KeyDef;
typedef int (*key_parser_t)(Ctx *c, const KeyDef *k, const char *value, void *data);

/* One key of one section: the parser, where it writes (an offset into
 * ImageSpec, or into the current SpecSource for [Source]) and, for generic
 * parsers, how each word is checked and the range of numbers. */
struct KeyDef {
        const char *section;
        const char *key;
        key_parser_t parse;
        size_t offset;
        bool (*valid)(const char *word);
        const char *what;
        uint64_t min, max;
};

static const char *const flavor_table[_FLAVOR_MAX] = {
        [FLAVOR_IMMUTABLE] = "immutable",
        [FLAVOR_MUTABLE] = "mutable",
};

const char *flavor_to_string(Flavor f) {
        if (f < 0 || f >= _FLAVOR_MAX)
                return NULL;
        return flavor_table[f];
}

Flavor flavor_from_string(const char *s) {
        if (!s)
                return _FLAVOR_INVALID;
        for (int i = 0; i < _FLAVOR_MAX; i++)
                if (streq(flavor_table[i], s))
                        return (Flavor) i;
        return _FLAVOR_INVALID;
}

static void source_done(SpecSource *s) {
        free(s->uri);
        strv_free(s->suites);
        strv_free(s->components);
        free(s->signed_by);
}

static void kv_free_array(SpecKV *kv, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

ImageSpec *spec_free(ImageSpec *s) {
        if (!s)
                return NULL;
        free(s->path);
        free(s->dir);
        free(s->name);
        free(s->version);
        free(s->description);
        free(s->architecture);
        for (size_t i = 0; i < s->n_sources; i++)
                source_done(&s->sources[i]);
        free(s->sources);
        strv_free(s->include);
        strv_free(s->exclude);
        strv_free(s->boot_packages);
        free(s->kernel_package);
        strv_free(s->modules);
        strv_free(s->load_modules);
        free(s->cmdline);
        strv_free(s->remove);
        strv_free(s->keep);
        for (size_t i = 0; i < s->n_copies; i++) {
                free(s->copies[i].source);
                free(s->copies[i].dest);
        }
        free(s->copies);
        for (size_t i = 0; i < s->n_users; i++) {
                free(s->users[i].name);
                free(s->users[i].home);
                free(s->users[i].shell);
                free(s->users[i].gecos);
        }
        free(s->users);
        for (size_t i = 0; i < s->n_groups; i++) {
                free(s->groups[i].name);
                strv_free(s->groups[i].members);
        }
        free(s->groups);
        kv_free_array(s->sysctls, s->n_sysctls);
        kv_free_array(s->links, s->n_links);
        strv_free(s->services);
        free(s->compression);
        free(s);
        return NULL;
}

/* Grows an array by one zeroed element; returns it or NULL on OOM. */
static void *grow(void *array_ptr, size_t *n, size_t size) {
        void **array = array_ptr;
        if (*n >= SIZE_MAX / size - 1)
                return NULL;
        char *a = realloc(*array, (*n + 1) * size);
        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}

/* Logs "PATH:LINE: Section.Key: why" and returns -EBADMSG. */
_printf_(2, 3) static int bad_value(const Ctx *c, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return error_setf(EBADMSG, "%s:%u: %s.%s: %s", c->path, c->line, c->section, c->key,
                              why);
}

/* ---- word checks ---- */

static bool in_set(char ch, const char *set) {
        return ch != 0 && strchr(set, ch);
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static bool only_chars(const char *s, const char *set) {
        return s[strspn(s, set)] == 0;
}

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool valid_image_name(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && only_chars(s, LOWER_DIGITS "-") &&
               strlen(s) <= NAME_MAX_LEN;
}

static bool valid_version(const char *s) {
        return in_set(s[0], ALNUM) && only_chars(s, ALNUM ".+~_-") && strlen(s) <= NAME_MAX_LEN;
}

static bool valid_text(const char *s) {
        return printable(s);
}

static bool valid_architecture(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && only_chars(s, LOWER_DIGITS "-") && strlen(s) <= 32;
}

/* Debian policy 5.6.1: at least two characters, [a-z0-9][a-z0-9+.-]+. */
static bool valid_package(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && s[1] != 0 && only_chars(s, LOWER_DIGITS "+.-");
}

static bool valid_module(const char *s) {
        return *s && only_chars(s, ALNUM "_-") && strlen(s) <= NAME_MAX_LEN;
}

static bool valid_service_name(const char *s) {
        return in_set(s[0], ALNUM "_") && only_chars(s, ALNUM "_.@-") && strlen(s) < 64;
}

/* Absolute, without ".." components: these name places inside the image. */
static bool valid_image_path(const char *s) {
        return s[0] == '/' && printable(s) && path_is_safe_relative(s);
}

static bool valid_host_path(const char *s) {
        return *s && printable(s);
}

static bool valid_uri(const char *s) {
        const char *colon = strstr(s, "://");
        if (!colon || colon == s || !in_set(s[0], LOWER_DIGITS))
                return false;
        for (const char *p = s; p < colon; p++)
                if (!in_set(*p, LOWER_DIGITS "+.-"))
                        return false;
        return printable(s) && !strpbrk(s, " \t");
}

static bool valid_word(const char *s) {
        return *s && printable(s);
}

static bool valid_compression(const char *s) {
        return streq(s, "lz4") || streq(s, "lz4hc") || streq(s, "none");
}

/* User and group names as shadow's useradd accepts by default, also "_chrony". */
static bool valid_user_name(const char *s) {
        return in_set(s[0], ALNUM "_") && only_chars(s, ALNUM "_.-") && strlen(s) <= 31;
}

/* Sysctl names in either spelling: components of [a-z0-9_-] joined by '.' or
 * '/'. No empty component, so no "..", no leading or trailing separator: the
 * name becomes a path under /proc/sys. */
static bool valid_sysctl_key(const char *s) {
        bool component_empty = true;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s == '.' || *s == '/') {
                        if (component_empty)
                                return false;
                        component_empty = true;
                } else if (in_set(*s, LOWER_DIGITS "_-"))
                        component_empty = false;
                else
                        return false;
        }
        return !component_empty;
}

/* ---- numbers ---- */

static int parse_id(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > ID_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* Colon-separated fields, empty ones kept. A fixed array rather than a strv,
 * so single fields can be taken with TAKE_PTR() and the rest still freed. */
#define FIELDS_MAX 6
typedef struct Fields {
        char *v[FIELDS_MAX + 1];
        size_t n;
} Fields;

static void fields_done(Fields *f) {
        for (size_t i = 0; i < FIELDS_MAX; i++)
                free(f->v[i]);
}

/* Splits on every ':'; -E2BIG if there are more than max fields. */
static int split_fields(const char *s, size_t max, Fields *f) {
        assert(max <= FIELDS_MAX);
        for (;;) {
                const char *e = strchrnul(s, ':');
                if (f->n >= max)
                        return -E2BIG;
                f->v[f->n] = strndup(s, (size_t) (e - s));
                if (!f->v[f->n])
                        return -ENOMEM;
                f->n++;
                if (!*e)
                        return 0;
                s = e + 1;
        }
}

/* ---- generic key parsers ---- */

static int set_string(char **field, const char *value) {
        char *d = NULL;
        if (*value) {
                d = strdup(value);
                if (!d)
                        return -ENOMEM;
        }
        free(*field);
        *field = d;
        return 0;
}

/* A single value; with a check, empty is checked too (and so usually refused). */
static int parse_string(Ctx *c, const KeyDef *k, const char *value, void *data) {
        char **field = (char **) ((uint8_t *) data + k->offset);
        if (k->valid && !k->valid(value))
                return bad_value(c, "invalid %s '%s'", k->what, value);
        return set_string(field, value);
}

/* Words accumulate over repeated keys; an empty value resets the list. */
static int parse_words(Ctx *c, const KeyDef *k, const char *value, void *data) {
        char ***field = (char ***) ((uint8_t *) data + k->offset);
        _cleanup_free_ char *bad = NULL;
        int r = strv_update_words(field, value, k->valid, &bad);
        if (r == -EINVAL && bad)
                return bad_value(c, "invalid %s '%s'", k->what, bad);
        return r;
}

static int parse_unsigned(Ctx *c, const KeyDef *k, const char *value, void *data) {
        unsigned *field = (unsigned *) ((uint8_t *) data + k->offset);
        uint64_t v;
        if (parse_u64(value, &v) < 0 || v < k->min || v > k->max)
                return bad_value(c, "'%s' is not a number from %" PRIu64 " to %" PRIu64, value,
                                 k->min, k->max);
        *field = (unsigned) v;
        return 0;
}

static int parse_size(Ctx *c, const KeyDef *k, const char *value, void *data) {
        uint64_t *field = (uint64_t *) ((uint8_t *) data + k->offset);
        int r = parse_bytes(value, field);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return bad_value(c, "'%s' is not a size (bytes, or a number with K, M or G)",
                                 value);
        return 0;
}

/* ---- special keys ---- */

static int parse_flavor(Ctx *c, const KeyDef *k, const char *value, void *data) {
        Flavor f = flavor_from_string(value);
        if (f < 0)
                return bad_value(c, "'%s' is not immutable or mutable", value);
        c->spec->flavor = f;
        return 0;
}

static int parse_check_valid_until(Ctx *c, const KeyDef *k, const char *value, void *data) {
        bool b;
        if (parse_bool(value, &b) < 0)
                return bad_value(c, "'%s' is not yes or no", value);
        c->spec->check_valid_until = b;
        c->spec->check_valid_until_set = true;
        return 0;
}

static int parse_cmdline(Ctx *c, const KeyDef *k, const char *value, void *data) {
        ImageSpec *s = c->spec;
        char *joined;

        if (!*value) {
                free(s->cmdline);
                s->cmdline = NULL;
                return 0;
        }
        if (!printable(value))
                return bad_value(c, "contains control characters");
        joined = s->cmdline ? strdup_printf("%s %s", s->cmdline, value) : strdup(value);
        if (!joined)
                return -ENOMEM;
        if (strlen(joined) > CMDLINE_MAX) {
                free(joined);
                return bad_value(c, "the command line is longer than %u bytes", CMDLINE_MAX);
        }
        free(s->cmdline);
        s->cmdline = joined;
        return 0;
}

static int parse_copy(Ctx *c, const KeyDef *k, const char *value, void *data) {
        ImageSpec *s = c->spec;
        _cleanup_(fields_done) Fields fl = {};
        char **f = fl.v;
        uint32_t mode = 0644;
        SpecCopy *cp;
        int r;

        r = split_fields(value, 3, &fl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || fl.n < 2)
                return bad_value(c, "'%s' is not SOURCE:DEST[:MODE]", value);
        if (!valid_host_path(f[0]))
                return bad_value(c, "invalid source '%s'", f[0]);
        if (!valid_image_path(f[1]) || streq(f[1] + strspn(f[1], "/"), ""))
                return bad_value(c, "destination '%s' must be an absolute file path without '..'",
                                 f[1]);
        if (f[2] && parse_mode(f[2], &mode) < 0)
                return bad_value(c, "'%s' is not an octal mode", f[2]);

        cp = grow(&s->copies, &s->n_copies, sizeof(SpecCopy));
        if (!cp)
                return -ENOMEM;
        cp->source = TAKE_PTR(f[0]);
        cp->dest = TAKE_PTR(f[1]);
        cp->mode = mode;
        return 0;
}

static int parse_user(Ctx *c, const KeyDef *k, const char *value, void *data) {
        ImageSpec *s = c->spec;
        _cleanup_(fields_done) Fields fl = {};
        char **f = fl.v;
        uint32_t uid, gid;
        SpecUser *u;
        int r;

        r = split_fields(value, 6, &fl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || fl.n < 5)
                return bad_value(c, "'%s' is not name:uid:gid:home:shell[:gecos]", value);
        if (!valid_user_name(f[0]))
                return bad_value(c, "invalid user name '%s'", f[0]);
        if (parse_id(f[1], &uid) < 0)
                return bad_value(c, "invalid uid '%s'", f[1]);
        if (parse_id(f[2], &gid) < 0)
                return bad_value(c, "invalid gid '%s'", f[2]);
        if (f[3][0] != '/' || !printable(f[3]))
                return bad_value(c, "home '%s' is not an absolute path", f[3]);
        if (f[4][0] != '/' || !printable(f[4]))
                return bad_value(c, "shell '%s' is not an absolute path", f[4]);
        if (f[5] && !printable(f[5]))
                return bad_value(c, "gecos contains control characters");
        for (size_t i = 0; i < s->n_users; i++)
                if (streq(s->users[i].name, f[0]))
                        return bad_value(c, "user '%s' is defined twice", f[0]);

        u = grow(&s->users, &s->n_users, sizeof(SpecUser));
        if (!u)
                return -ENOMEM;
        u->name = TAKE_PTR(f[0]);
        u->uid = uid;
        u->gid = gid;
        u->home = TAKE_PTR(f[3]);
        u->shell = TAKE_PTR(f[4]);
        if (f[5] && f[5][0])
                u->gecos = TAKE_PTR(f[5]);
        return 0;
}

static int parse_group(Ctx *c, const KeyDef *k, const char *value, void *data) {
        ImageSpec *s = c->spec;
        _cleanup_(fields_done) Fields fl = {};
        _cleanup_strv_free_ char **members = NULL;
        char **f = fl.v;
        uint32_t gid;
        SpecGroup *g;
        int r;

        r = split_fields(value, 3, &fl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || fl.n < 2)
                return bad_value(c, "'%s' is not name:gid[:member,member...]", value);
        if (!valid_user_name(f[0]))
                return bad_value(c, "invalid group name '%s'", f[0]);
        if (parse_id(f[1], &gid) < 0)
                return bad_value(c, "invalid gid '%s'", f[1]);
        if (f[2]) {
                r = strv_extend_words(&members, f[2], true);
                if (r < 0)
                        return r;
                STRV_FOREACH(m, members)
                        if (!valid_user_name(*m))
                                return bad_value(c, "invalid member name '%s'", *m);
        }
        for (size_t i = 0; i < s->n_groups; i++)
                if (streq(s->groups[i].name, f[0]))
                        return bad_value(c, "group '%s' is defined twice", f[0]);

        g = grow(&s->groups, &s->n_groups, sizeof(SpecGroup));
        if (!g)
                return -ENOMEM;
        g->name = TAKE_PTR(f[0]);
        g->gid = gid;
        g->members = TAKE_PTR(members);
        return 0;
}

/* Sets key=value in a list; a later value for the same key replaces it. */
static int kv_set(SpecKV **array, size_t *n, const char *key, const char *value) {
        _cleanup_free_ char *v = strdup(value);
        SpecKV *kv = NULL;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (streq((*array)[i].key, key))
                        kv = &(*array)[i];
        if (!kv) {
                _cleanup_free_ char *k = strdup(key);
                if (!k)
                        return -ENOMEM;
                kv = grow(array, n, sizeof(SpecKV));
                if (!kv)
                        return -ENOMEM;
                kv->key = TAKE_PTR(k);
        }
        free(kv->value);
        kv->value = TAKE_PTR(v);
        return 0;
}

static int parse_link(Ctx *c, const KeyDef *k, const char *value, void *data) {
        ImageSpec *s = c->spec;
        const char *colon = strchr(value, ':');
        _cleanup_free_ char *path = NULL;

        if (!colon || colon == value || !colon[1])
                return bad_value(c, "'%s' is not /path:target", value);
        path = strndup(value, (size_t) (colon - value));
        if (!path)
                return -ENOMEM;
        if (!valid_image_path(path) || streq(path + strspn(path, "/"), ""))
                return bad_value(c, "link '%s' must be an absolute path without '..'", path);
        if (!printable(colon + 1))
                return bad_value(c, "target contains control characters");
        return kv_set(&s->links, &s->n_links, path, colon + 1);
}

static int parse_sysctl(Ctx *c, const char *key, const char *value) {
        ImageSpec *s = c->spec;
        if (!valid_sysctl_key(key))
                return bad_value(c, "invalid sysctl name");
        if (!*value || !printable(value))
                return bad_value(c, "'%s' is not a sysctl value", value);
        return kv_set(&s->sysctls, &s->n_sysctls, key, value);
}

#define SPEC(f) offsetof(ImageSpec, f)
#define SOURCE(f) offsetof(SpecSource, f)

static const KeyDef keys[] = {
        { "Image", "Name", parse_string, SPEC(name), valid_image_name, "image name" },
        { "Image", "Version", parse_string, SPEC(version), valid_version, "version" },
        { "Image", "Description", parse_string, SPEC(description), valid_text, "description" },
        { "Image", "Flavor", parse_flavor },
        { "Image", "Architecture", parse_string, SPEC(architecture), valid_architecture,
          "architecture" },
        { "Source", "URI", parse_string, SOURCE(uri), valid_uri, "URI" },
        { "Source", "Suites", parse_words, SOURCE(suites), valid_word, "suite" },
        { "Source", "Components", parse_words, SOURCE(components), valid_word, "component" },
        { "Source", "SignedBy", parse_string, SOURCE(signed_by), valid_host_path, "path" },
        { "Source", "CheckValidUntil", parse_check_valid_until },
        { "Packages", "Include", parse_words, SPEC(include), valid_package, "package name" },
        { "Packages", "Exclude", parse_words, SPEC(exclude), valid_package, "package name" },
        { "Packages", "BootPackages", parse_words, SPEC(boot_packages), valid_package,
          "package name" },
        { "Kernel", "Package", parse_string, SPEC(kernel_package), valid_package, "package name" },
        { "Kernel", "Modules", parse_words, SPEC(modules), valid_module, "module name" },
        { "Kernel", "Load", parse_words, SPEC(load_modules), valid_module, "module name" },
        { "Kernel", "Cmdline", parse_cmdline },
        { "Boot", "Tries", parse_unsigned, SPEC(boot_tries), NULL, NULL, 1, 10 },
        { "Boot", "Timeout", parse_unsigned, SPEC(boot_timeout), NULL, NULL, 0, 3600 },
        { "Files", "Remove", parse_words, SPEC(remove), valid_image_path, "absolute glob" },
        { "Files", "Keep", parse_words, SPEC(keep), valid_image_path, "absolute glob" },
        { "Files", "Copy", parse_copy },
        { "Users", "User", parse_user },
        { "Users", "Group", parse_group },
        { "Alternatives", "Link", parse_link },
        { "Services", "Enable", parse_words, SPEC(services), valid_service_name, "service name" },
        { "Disk", "Size", parse_size, SPEC(disk_size) },
        { "Disk", "EspSize", parse_size, SPEC(esp_size) },
        { "Disk", "UsrSize", parse_size, SPEC(usr_size) },
        { "Disk", "RootSize", parse_size, SPEC(root_size) },
        { "Output", "Compression", parse_string, SPEC(compression), valid_compression,
          "compression (lz4, lz4hc or none)" },
};

static const char *const sections[] = {
        "Image", "Source", "Packages",     "Kernel",   "Boot", "Files",
        "Users", "Sysctl", "Alternatives", "Services", "Disk", "Output",
};

/* A [Source] is complete when the next section starts or the file ends. */
static int finish_source(Ctx *c) {
        ImageSpec *s = c->spec;
        if (c->source_line == 0)
                return 0;
        SpecSource *src = &s->sources[s->n_sources - 1];
        if (!src->uri || !src->suites)
                return error_setf(EBADMSG, "%s:%u: [Source] needs URI= and Suites=", c->path,
                                      c->source_line);
        c->source_line = 0;
        return 0;
}

static int start_section(Ctx *c, unsigned line, const char *section) {
        bool known = false;
        int r;

        r = finish_source(c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (streq(sections[i], section))
                        known = true;
        if (!known)
                return error_setf(EBADMSG, "%s:%u: unknown section [%s]", c->path, line,
                                      section);
        if (streq(section, "Source")) {
                if (!grow(&c->spec->sources, &c->spec->n_sources, sizeof(SpecSource)))
                        return -ENOMEM;
                c->source_line = line;
        }
        return 0;
}

static int spec_handler(const char *path, unsigned line, const char *section, const char *key,
                        const char *value, void *userdata) {
        Ctx *c = userdata;

        c->line = line;
        c->section = section;
        c->key = key;
        if (!key)
                return start_section(c, line, section);
        if (streq(section, "Sysctl"))
                return parse_sysctl(c, key, value);

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const KeyDef *k = &keys[i];
                void *data = c->spec;
                if (!streq(k->section, section) || !streq(k->key, key))
                        continue;
                if (streq(section, "Source"))
                        data = &c->spec->sources[c->spec->n_sources - 1];
                return k->parse(c, k, value, data);
        }
        return error_setf(EBADMSG, "%s:%u: unknown key '%s' in [%s]", path, line, key, section);
}

static char *dirname_dup(const char *path) {
        const char *e = strrchr(path, '/');
        if (!e)
                return strdup(".");
        while (e > path && e[-1] == '/')
                e--;
        if (e == path)
                return strdup("/");
        return strndup(path, (size_t) (e - path));
}

static ImageSpec *spec_new(const char *path) {
        _cleanup_(spec_freep) ImageSpec *s = calloc(1, sizeof(ImageSpec));
        if (!s)
                return NULL;
        s->path = strdup(path);
        s->dir = dirname_dup(path);
        s->architecture = strdup("amd64");
        s->kernel_package = strdup("linux-image-amd64");
        s->compression = strdup("lz4hc");
        if (!s->path || !s->dir || !s->architecture || !s->kernel_package || !s->compression)
                return NULL;
        s->flavor = FLAVOR_IMMUTABLE;
        s->boot_tries = 3;
        return TAKE_PTR(s);
}

int spec_parse_string(const char *path, const char *data, size_t size, ImageSpec **ret) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        Ctx c = { .path = path };
        int r;

        s = spec_new(path);
        if (!s)
                return -ENOMEM;
        c.spec = s;
        r = ini_parse_string(path, data, size, spec_handler, &c);
        if (r < 0)
                return r;
        r = finish_source(&c);
        if (r < 0)
                return r;
        if (!s->name)
                return error_setf(EBADMSG, "%s: [Image] Name= is required", path);
        if (!s->version)
                return error_setf(EBADMSG, "%s: [Image] Version= is required", path);
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_parse(const char *path, ImageSpec **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, &data, &size, SPEC_FILE_MAX);
        if (r < 0)
                return error_wrapf(r, "%s: cannot read", path);
        return spec_parse_string(path, data, size, ret);
}
