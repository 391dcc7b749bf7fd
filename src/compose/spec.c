/* SPDX-License-Identifier: MIT */
#include "spec.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "ini.h"
#include "parse-util.h"
#include "reboot-window.h"
#include "log.h"
#include "strv.h"

#define SPEC_FILE_MAX (4U * 1024U * 1024U)
#define NAME_MAX_LEN 64
#define CMDLINE_MAX 1024
#define ID_MAX UINT32_C(4294967294) /* (uid_t) -1 is "no id" */
#define INCLUDE_DEPTH_MAX 8

/* Parser state: the spec being filled and where the handler stands. */
/* The spec parser's own state, in IniContext.userdata. */
typedef struct SpecState {
        ImageSpec *spec;
        unsigned source_line; /* header line of the open [Source]; 0: none open */
        const char *dir;      /* the current file's directory (includes are relative to it) */
        unsigned depth;       /* 0: the spec itself, 1: a file it includes, ... */
        char **includes;      /* canonical paths of the files being read, outermost first */
} SpecState;

static ImageSpec *spec_of(IniContext *c) {
        return ((SpecState *) c->userdata)->spec;
}

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
        free(s->update_root);
        free(s->secure_boot_keys);
        free(s->update_repository);
        free(s->update_channel);
        free(s->update_reboot_coordination);
        strv_free(s->update_etcd_endpoints);
        free(s->update_reboot_group);
        free(s->update_reboot_window);
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

/* ---- word checks ---- */

static bool in_set(char ch, const char *set) {
        return ch != 0 && strchr(set, ch);
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static bool only_chars(const char *s, const char *set) {
        return s[strspn(s, set)] == 0;
}

static bool valid_image_name(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && only_chars(s, LOWER_DIGITS "-") &&
               strlen(s) <= NAME_MAX_LEN;
}

static bool valid_version(const char *s) {
        return in_set(s[0], ALNUM) && only_chars(s, ALNUM ".+~_-") && strlen(s) <= NAME_MAX_LEN;
}

static bool valid_text(const char *s) {
        return ini_printable(s);
}

static bool valid_architecture(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && only_chars(s, LOWER_DIGITS "-") && strlen(s) <= 32;
}

/* Debian policy 5.6.1: at least two characters, [a-z0-9][a-z0-9+.-]+. */
static bool valid_package(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && s[1] != 0 && only_chars(s, LOWER_DIGITS "+.-");
}

/* NAME or NAME=VERSION (Debian policy 5.6.12 characters: a pin to exactly that version). */
static bool valid_package_pin(const char *s) {
        const char *eq = strchr(s, '=');
        if (!eq)
                return valid_package(s);
        _cleanup_free_ char *name = strndup(s, (size_t) (eq - s));
        return name && valid_package(name) && in_set(eq[1], "0123456789") &&
               only_chars(eq + 1, ALNUM ".+~:-") && strlen(eq + 1) <= 128;
}

static bool valid_module(const char *s) {
        return *s && only_chars(s, ALNUM "_-") && strlen(s) <= NAME_MAX_LEN;
}

static bool valid_service_name(const char *s) {
        return in_set(s[0], ALNUM "_") && only_chars(s, ALNUM "_.@-") && strlen(s) < 64;
}

/* Absolute, without ".." components: these name places inside the image. */
static bool valid_image_path(const char *s) {
        return s[0] == '/' && ini_printable(s) && path_is_safe_relative(s);
}

static bool valid_host_path(const char *s) {
        return *s && ini_printable(s);
}

static bool valid_uri(const char *s) {
        const char *colon = strstr(s, "://");
        if (!colon || colon == s || !in_set(s[0], LOWER_DIGITS))
                return false;
        for (const char *p = s; p < colon; p++)
                if (!in_set(*p, LOWER_DIGITS "+.-"))
                        return false;
        return ini_printable(s) && !strpbrk(s, " \t");
}

static bool valid_word(const char *s) {
        return *s && ini_printable(s);
}

static bool valid_channel(const char *s) {
        return in_set(s[0], LOWER_DIGITS) && only_chars(s, LOWER_DIGITS "-") && strlen(s) <= 64;
}

static bool valid_reboot_coordination(const char *s) {
        return streq(s, "off") || streq(s, "etcd");
}

static bool valid_http_url(const char *s) {
        return (strneq(s, "http://", 7) || strneq(s, "https://", 8)) && valid_uri(s);
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

/* ---- special keys ---- */

static int parse_flavor(IniContext *c, const IniKey *k, const char *value, void *data) {
        Flavor f = flavor_from_string(value);
        if (f < 0)
                return ini_bad_value(c, "'%s' is not immutable or mutable", value);
        spec_of(c)->flavor = f;
        return 0;
}

static int parse_check_valid_until(IniContext *c, const IniKey *k, const char *value, void *data) {
        bool b;
        if (parse_bool(value, &b) < 0)
                return ini_bad_value(c, "'%s' is not yes or no", value);
        spec_of(c)->check_valid_until = b;
        spec_of(c)->check_valid_until_set = true;
        return 0;
}

static int parse_cmdline(IniContext *c, const IniKey *k, const char *value, void *data) {
        ImageSpec *s = spec_of(c);
        char *joined;

        if (!*value) {
                free(s->cmdline);
                s->cmdline = NULL;
                return 0;
        }
        if (!ini_printable(value))
                return ini_bad_value(c, "contains control characters");
        joined = s->cmdline ? strdup_printf("%s %s", s->cmdline, value) : strdup(value);
        if (!joined)
                return -ENOMEM;
        if (strlen(joined) > CMDLINE_MAX) {
                free(joined);
                return ini_bad_value(c, "the command line is longer than %u bytes", CMDLINE_MAX);
        }
        free(s->cmdline);
        s->cmdline = joined;
        return 0;
}

static int parse_copy(IniContext *c, const IniKey *k, const char *value, void *data) {
        ImageSpec *s = spec_of(c);
        _cleanup_(fields_done) Fields fl = {};
        char **f = fl.v;
        uint32_t mode = 0644;
        SpecCopy *cp;
        int r;

        r = split_fields(value, 3, &fl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || fl.n < 2)
                return ini_bad_value(c, "'%s' is not SOURCE:DEST[:MODE]", value);
        if (!valid_host_path(f[0]))
                return ini_bad_value(c, "invalid source '%s'", f[0]);
        if (!valid_image_path(f[1]) || streq(f[1] + strspn(f[1], "/"), ""))
                return ini_bad_value(
                        c, "destination '%s' must be an absolute file path without '..'", f[1]);
        if (f[2] && parse_mode(f[2], &mode) < 0)
                return ini_bad_value(c, "'%s' is not an octal mode", f[2]);

        cp = grow(&s->copies, &s->n_copies, sizeof(SpecCopy));
        if (!cp)
                return -ENOMEM;
        if (((SpecState *) c->userdata)->depth > 0 && f[0][0] != '/') {
                /* Relative to the file that says it, also in an included spec. */
                char *abs = path_join(((SpecState *) c->userdata)->dir, f[0]);
                if (!abs)
                        return -ENOMEM;
                free(f[0]);
                f[0] = abs;
        }
        cp->source = TAKE_PTR(f[0]);
        cp->dest = TAKE_PTR(f[1]);
        cp->mode = mode;
        return 0;
}

static int parse_user(IniContext *c, const IniKey *k, const char *value, void *data) {
        ImageSpec *s = spec_of(c);
        _cleanup_(fields_done) Fields fl = {};
        char **f = fl.v;
        uint32_t uid, gid;
        SpecUser *u;
        int r;

        r = split_fields(value, 6, &fl);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || fl.n < 5)
                return ini_bad_value(c, "'%s' is not name:uid:gid:home:shell[:gecos]", value);
        if (!valid_user_name(f[0]))
                return ini_bad_value(c, "invalid user name '%s'", f[0]);
        if (parse_id(f[1], &uid) < 0)
                return ini_bad_value(c, "invalid uid '%s'", f[1]);
        if (parse_id(f[2], &gid) < 0)
                return ini_bad_value(c, "invalid gid '%s'", f[2]);
        if (f[3][0] != '/' || !ini_printable(f[3]))
                return ini_bad_value(c, "home '%s' is not an absolute path", f[3]);
        if (f[4][0] != '/' || !ini_printable(f[4]))
                return ini_bad_value(c, "shell '%s' is not an absolute path", f[4]);
        if (f[5] && !ini_printable(f[5]))
                return ini_bad_value(c, "gecos contains control characters");
        for (size_t i = 0; i < s->n_users; i++)
                if (streq(s->users[i].name, f[0]))
                        return ini_bad_value(c, "user '%s' is defined twice", f[0]);

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

static int parse_group(IniContext *c, const IniKey *k, const char *value, void *data) {
        ImageSpec *s = spec_of(c);
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
                return ini_bad_value(c, "'%s' is not name:gid[:member,member...]", value);
        if (!valid_user_name(f[0]))
                return ini_bad_value(c, "invalid group name '%s'", f[0]);
        if (parse_id(f[1], &gid) < 0)
                return ini_bad_value(c, "invalid gid '%s'", f[1]);
        if (f[2]) {
                r = strv_extend_words(&members, f[2], true);
                if (r < 0)
                        return r;
                STRV_FOREACH(m, members)
                        if (!valid_user_name(*m))
                                return ini_bad_value(c, "invalid member name '%s'", *m);
        }
        for (size_t i = 0; i < s->n_groups; i++)
                if (streq(s->groups[i].name, f[0]))
                        return ini_bad_value(c, "group '%s' is defined twice", f[0]);

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

static int parse_link(IniContext *c, const IniKey *k, const char *value, void *data) {
        ImageSpec *s = spec_of(c);
        const char *colon = strchr(value, ':');
        _cleanup_free_ char *path = NULL;

        if (!colon || colon == value || !colon[1])
                return ini_bad_value(c, "'%s' is not /path:target", value);
        path = strndup(value, (size_t) (colon - value));
        if (!path)
                return -ENOMEM;
        if (!valid_image_path(path) || streq(path + strspn(path, "/"), ""))
                return ini_bad_value(c, "link '%s' must be an absolute path without '..'", path);
        if (!ini_printable(colon + 1))
                return ini_bad_value(c, "target contains control characters");
        return kv_set(&s->links, &s->n_links, path, colon + 1);
}

static int parse_sysctl(IniContext *c, const char *value) {
        ImageSpec *s = spec_of(c);
        const char *key = c->key;
        if (!valid_sysctl_key(key))
                return ini_bad_value(c, "invalid sysctl name");
        if (!*value || !ini_printable(value))
                return ini_bad_value(c, "'%s' is not a sysctl value", value);
        return kv_set(&s->sysctls, &s->n_sysctls, key, value);
}

#define SPEC(f) offsetof(ImageSpec, f)
#define SOURCE(f) offsetof(SpecSource, f)

static int parse_include(IniContext *c, const IniKey *k, const char *value, void *data);

static const IniKey keys[] = {
        { "Image", "Name", ini_key_string, SPEC(name), valid_image_name, "image name" },
        { "Image", "Version", ini_key_string, SPEC(version), valid_version, "version" },
        { "Image", "Description", ini_key_string, SPEC(description), valid_text, "description" },
        { "Image", "Flavor", parse_flavor },
        { "Image", "Architecture", ini_key_string, SPEC(architecture), valid_architecture,
          "architecture" },
        { "Source", "URI", ini_key_string, SOURCE(uri), valid_uri, "URI" },
        { "Source", "Suites", ini_key_words, SOURCE(suites), valid_word, "suite" },
        { "Source", "Components", ini_key_words, SOURCE(components), valid_word, "component" },
        { "Source", "SignedBy", ini_key_string, SOURCE(signed_by), valid_host_path, "path" },
        { "Source", "CheckValidUntil", parse_check_valid_until },
        { "Packages", "Include", ini_key_words, SPEC(include), valid_package_pin,
          "package name or NAME=VERSION" },
        { "Packages", "Exclude", ini_key_words, SPEC(exclude), valid_package, "package name" },
        { "Packages", "BootPackages", ini_key_words, SPEC(boot_packages), valid_package,
          "package name" },
        { "Kernel", "Package", ini_key_string, SPEC(kernel_package), valid_package,
          "package name" },
        { "Kernel", "Modules", ini_key_words, SPEC(modules), valid_module, "module name" },
        { "Kernel", "Load", ini_key_words, SPEC(load_modules), valid_module, "module name" },
        { "Kernel", "Cmdline", parse_cmdline },
        { "Boot", "Tries", ini_key_unsigned, SPEC(boot_tries), NULL, NULL, 1, 10 },
        { "Boot", "Timeout", ini_key_unsigned, SPEC(boot_timeout), NULL, NULL, 0, 3600 },
        { "Boot", "SecureBootKeys", ini_key_string, SPEC(secure_boot_keys), valid_host_path,
          "path" },
        { "Files", "Remove", ini_key_words, SPEC(remove), valid_image_path, "absolute glob" },
        { "Files", "Keep", ini_key_words, SPEC(keep), valid_image_path, "absolute glob" },
        { "Files", "Copy", parse_copy },
        { "Users", "User", parse_user },
        { "Users", "Group", parse_group },
        { "Alternatives", "Link", parse_link },
        { "Services", "Enable", ini_key_words, SPEC(services), valid_service_name, "service name" },
        { "Disk", "Size", ini_key_size, SPEC(disk_size) },
        { "Disk", "EspSize", ini_key_size, SPEC(esp_size) },
        { "Disk", "UsrSize", ini_key_size, SPEC(usr_size) },
        { "Disk", "RootSize", ini_key_size, SPEC(root_size) },
        { "Update", "Root", ini_key_string, SPEC(update_root), valid_host_path, "path" },
        { "Update", "Repository", ini_key_string, SPEC(update_repository), valid_uri, "URL" },
        { "Update", "Channel", ini_key_string, SPEC(update_channel), valid_channel,
          "channel name" },
        { "Update", "CheckInterval", ini_key_unsigned, SPEC(update_check_interval), NULL, NULL, 0,
          604800 },
        { "Update", "CheckJitter", ini_key_unsigned, SPEC(update_check_jitter), NULL, NULL, 0,
          86400 },
        { "Update", "HealthGrace", ini_key_unsigned, SPEC(update_health_grace), NULL, NULL, 0,
          3600 },
        { "Update", "HealthTimeout", ini_key_unsigned, SPEC(update_health_timeout), NULL, NULL, 1,
          86400 },
        { "Update", "RebootCoordination", ini_key_string, SPEC(update_reboot_coordination),
          valid_reboot_coordination, "\"off\" or \"etcd\"" },
        { "Update", "EtcdEndpoints", ini_key_words, SPEC(update_etcd_endpoints), valid_http_url,
          "http or https URL" },
        { "Update", "RebootGroup", ini_key_string, SPEC(update_reboot_group), valid_channel,
          "group name" },
        { "Update", "MaxUnavailable", ini_key_unsigned, SPEC(update_max_unavailable), NULL, NULL, 1,
          10000 },
        { "Update", "RebootWindow", ini_key_string, SPEC(update_reboot_window),
          reboot_window_is_valid, "reboot window " REBOOT_WINDOW_SYNTAX },
        { "Output", "Compression", ini_key_string, SPEC(compression), valid_compression,
          "compression (lz4, lz4hc or none)" },
        { "Test", "Payload", ini_key_bool, SPEC(test_payload) },
        { "Spec", "Include", parse_include },
};

static const char *const sections[] = {
        "Spec",   "Image",        "Source",   "Packages", "Kernel", "Boot",   "Files", "Users",
        "Sysctl", "Alternatives", "Services", "Disk",     "Update", "Output", "Test",  NULL,
};

/* A [Source] is complete when the next section starts or the file ends. */
static int finish_source(const char *path, SpecState *st) {
        ImageSpec *s = st->spec;
        if (st->source_line == 0)
                return 0;
        SpecSource *src = &s->sources[s->n_sources - 1];
        if (!src->uri || !src->suites)
                return error_setf(EBADMSG, "%s:%u: [Source] needs URI= and Suites=", path,
                                  st->source_line);
        st->source_line = 0;
        return 0;
}

static int start_section(IniContext *c) {
        SpecState *st = c->userdata;
        int r = finish_source(c->path, st);
        if (r < 0)
                return r;
        if (streq(c->section, "Source")) {
                if (!grow(&st->spec->sources, &st->spec->n_sources, sizeof(SpecSource)))
                        return -ENOMEM;
                st->source_line = c->line;
        }
        return 0;
}

/* [Source] keys go into the open source, the rest into the spec. */
static void *key_base(IniContext *c, const IniKey *k) {
        ImageSpec *s = spec_of(c);
        if (streq(k->section, "Source"))
                return s->n_sources > 0 ? &s->sources[s->n_sources - 1] : NULL;
        return s;
}

static const IniTable spec_table = {
        .keys = keys,
        .n_keys = ELEMENTSOF(keys),
        .sections = sections,
        .section_start = start_section,
        .free_section = "Sysctl",
        .free_key = parse_sysctl,
        .base = key_base,
};

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

/* [Spec] Include=PATH: the included spec is read at this point, as if its
 * text stood here. */
static int parse_include(IniContext *c, const IniKey *k, const char *value, void *data) {
        SpecState *st = c->userdata;
        _cleanup_free_ char *joined = NULL, *real = NULL, *chain = NULL, *text = NULL, *dir = NULL;
        struct stat sb;
        size_t size;
        int r;

        if (!*value || !ini_printable(value))
                return ini_bad_value(c, "'%s' is not a path", value);
        joined = value[0] == '/' ? strdup(value) : path_join(st->dir, value);
        if (!joined)
                return -ENOMEM;
        real = realpath(joined, NULL);
        if (!real || stat(real, &sb) < 0)
                return ini_bad_value(c, "cannot read %s: %s", joined, strerror(errno));
        /* Kernel files look regular but may block (/proc/kmsg) or never end. */
        if (!S_ISREG(sb.st_mode) || strneq(real, "/proc/", 6) || strneq(real, "/sys/", 5) ||
            strneq(real, "/dev/", 5))
                return ini_bad_value(c, "%s is not a regular file", joined);
        STRV_FOREACH(p, st->includes)
                if (streq(*p, real)) {
                        chain = strv_join(st->includes, " -> ");
                        return ini_bad_value(c, "include cycle: %s -> %s", chain ? chain : "?",
                                             real);
                }
        if (st->depth + 1 > INCLUDE_DEPTH_MAX)
                return ini_bad_value(c, "includes nest deeper than %u files", INCLUDE_DEPTH_MAX);
        r = read_full_file(real, &text, &size, SPEC_FILE_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ini_bad_value(c, "cannot read %s: %s", joined, strerror(-r));
        dir = dirname_dup(real);
        if (!dir)
                return -ENOMEM;
        r = strv_extend(&st->includes, real);
        if (r < 0)
                return r;

        const char *saved_dir = st->dir;
        st->dir = dir;
        st->depth++;
        st->source_line = 0;
        r = ini_parse_table(joined, text, size, &spec_table, st);
        if (r >= 0)
                r = finish_source(joined, st); /* a [Source] at the end of the included file */
        size_t n = strv_length(st->includes);
        free(st->includes[n - 1]);
        st->includes[n - 1] = NULL;
        st->dir = saved_dir;
        st->depth--;
        return r;
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
        s->update_check_interval = 21600;
        s->update_check_jitter = 3600;
        s->update_health_grace = 30;
        s->update_health_timeout = 600;
        return TAKE_PTR(s);
}

int spec_parse_string(const char *path, const char *data, size_t size, ImageSpec **ret) {
        _cleanup_(spec_freep) ImageSpec *s = NULL;
        _cleanup_strv_free_ char **includes = NULL;
        SpecState st = {};
        char *real;
        int r;

        s = spec_new(path);
        if (!s)
                return -ENOMEM;
        st.spec = s;
        st.dir = s->dir;
        /* The spec itself heads the chain, so including it again is a cycle. */
        real = realpath(path, NULL);
        if (real && strv_push(&includes, real) < 0)
                return -ENOMEM;
        st.includes = TAKE_PTR(includes);
        r = ini_parse_table(path, data, size, &spec_table, &st);
        includes = st.includes;
        if (r < 0)
                return r;
        r = finish_source(path, &st);
        if (r < 0)
                return r;
        if (!s->name)
                return error_setf(EBADMSG, "%s: [Image] Name= is required", path);
        if (!s->version)
                return error_setf(EBADMSG, "%s: [Image] Version= is required", path);
        if ((s->update_root || s->update_repository || s->update_channel) &&
            (!s->update_root || !s->update_repository))
                return error_setf(EBADMSG, "%s: [Update] needs both Root= and Repository=", path);
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
