/* SPDX-License-Identifier: MIT */
#include "modload.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmdline.h"
#include "compress.h"
#include "error.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

/* The kernel's MODULE_NAME_LEN (64 - sizeof(unsigned long)), its NUL included. */
#define MODULE_NAME_MAX 56
#define DEPTH_MAX 64

const char *const module_file_names[_MODULE_FILE_MAX] = {
        [MODULE_FILE_DEP] = "modules.dep",
        [MODULE_FILE_BUILTIN] = "modules.builtin",
        [MODULE_FILE_ALIAS] = "modules.alias",
        [MODULE_FILE_SOFTDEP] = "modules.softdep",
};

typedef enum LoadState { LOAD_NONE, LOAD_BUSY, LOAD_DONE } LoadState;

typedef struct Module {
        char *name; /* '-' written as '_', as the kernel names modules */
        char *path; /* as the index has it, relative to the tree */
        bool builtin;
        unsigned line;   /* of its modules.dep line, for messages */
        char **dep_path; /* modules.dep's words, until resolved into deps */
        size_t *deps;    /* indexes into ModuleIndex.modules */
        size_t n_deps;
        char **pre, **post; /* soft dependencies: names or aliases */
        LoadState state;    /* of module_load() */
        int result;         /* of its load, once LOAD_DONE */
} Module;

typedef struct Alias {
        char *pattern;  /* normalised as names are */
        size_t literal; /* length of its prefix without glob characters */
        size_t module;
} Alias;

struct ModuleIndex {
        char *moddir;
        Module *modules; /* modules.dep's in file order, then modules.builtin's */
        size_t n_modules;
        size_t *by_name; /* indexes into modules, sorted by name */
        size_t n_by_name;
        Alias *aliases; /* in file order */
        size_t n_aliases;
        char *cmdline;
        const char *const *only;
        ModuleKernel kernel;
        const char *failed; /* a module's name */
};

/* ---- names ---- */

/* Module names and aliases compare with '-' as '_' (outside a glob's
 * brackets), as the kernel and depmod's binary indexes do. */
static char *normalise(const char *s) {
        char *n = strdup(s);
        bool bracket = false;
        if (!n)
                return NULL;
        for (char *p = n; *p; p++) {
                if (*p == '[')
                        bracket = true;
                else if (*p == ']')
                        bracket = false;
                else if (*p == '-' && !bracket)
                        *p = '_';
        }
        return n;
}

/* The module name of a file path in an index: relative, inside the tree, its
 * base name ending in .ko or .ko.EXT; the name is what precedes the first
 * '.'. NULL if the path is not such. */
static char *name_from_path(const char *path) {
        const char *base = strrchr(path, '/'), *dot;
        size_t n;

        if (path[0] == '/' || !path_is_safe_relative(path))
                return NULL;
        base = base ? base + 1 : path;
        dot = strchr(base, '.');
        if (!dot || !(streq(dot, ".ko") ||
                      (strneq(dot, ".ko.", 4) && dot[4] != 0 && !strchr(dot + 4, '.'))))
                return NULL;
        n = (size_t) (dot - base);
        if (n == 0 || n >= MODULE_NAME_MAX ||
            strspn(base, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < n)
                return NULL;
        _cleanup_free_ char *name = strndup(base, n);
        return name ? normalise(name) : NULL;
}

static ssize_t find_module(const ModuleIndex *idx, const char *name) {
        size_t lo = 0, hi = idx->n_by_name;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(name, idx->modules[idx->by_name[mid]].name);
                if (c == 0)
                        return (ssize_t) idx->by_name[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

static int cmp_by_name(const void *a, const void *b, void *userdata) {
        const Module *m = userdata;
        return strcmp(m[*(const size_t *) a].name, m[*(const size_t *) b].name);
}

static int sort_by_name(ModuleIndex *idx) {
        size_t *s = reallocarray(idx->by_name, idx->n_modules ?: 1, sizeof *s);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n_modules; i++)
                s[i] = i;
        qsort_r(s, idx->n_modules, sizeof *s, cmp_by_name, idx->modules);
        idx->by_name = s;
        idx->n_by_name = idx->n_modules;
        return 0;
}

/* ---- parsing ---- */

/* The file's name for messages: in the tree when there is one. */
static char *index_file(const ModuleIndex *idx, ModuleFile which) {
        return idx->moddir ? path_join(idx->moddir, module_file_names[which])
                           : strdup(module_file_names[which]);
}

typedef int (*line_parser_t)(ModuleIndex *idx, const char *file, unsigned line, char *text);

/* Calls parse for every line of text but blank ones and '#' comments, with
 * surrounding white space removed. */
static int parse_lines(ModuleIndex *idx, ModuleFile which, const char *text, line_parser_t parse) {
        _cleanup_free_ char *file = index_file(idx, which);
        unsigned line = 0;

        if (!file)
                return -ENOMEM;
        for (const char *p = text; p && *p;) {
                const char *e = strchrnul(p, '\n');
                _cleanup_free_ char *l = strndup(p, (size_t) (e - p));
                char *s, *end;
                int r;

                if (!l)
                        return -ENOMEM;
                line++;
                p = *e ? e + 1 : e;
                s = l + strspn(l, " \t\r");
                end = s + strlen(s);
                while (end > s && strchr(" \t\r", end[-1]))
                        *--end = 0;
                if (*s == 0 || *s == '#')
                        continue;
                r = parse(idx, file, line, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static Module *add_module(ModuleIndex *idx) {
        Module *m = reallocarray(idx->modules, idx->n_modules + 1, sizeof *m);
        if (!m)
                return NULL;
        idx->modules = m;
        m = &idx->modules[idx->n_modules++];
        *m = (Module){};
        return m;
}

/* modules.dep: "kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz ..." */
static int parse_dep(ModuleIndex *idx, const char *file, unsigned line, char *text) {
        char *colon = strchr(text, ':'), *save = NULL;
        Module *m;

        if (!colon || colon == text)
                return error_setf(EBADMSG, "%s:%u: expected 'PATH: DEPENDENCIES'", file, line);
        *colon = 0;
        m = add_module(idx);
        if (!m || !(m->path = strdup(text)))
                return -ENOMEM;
        m->line = line;
        m->name = name_from_path(text);
        if (!m->name)
                return error_setf(EBADMSG, "%s:%u: '%s' is not a module file in the tree", file,
                                  line, text);
        for (char *w = strtok_r(colon + 1, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                _cleanup_free_ char *dep = name_from_path(w);
                if (!dep)
                        return error_setf(EBADMSG,
                                          "%s:%u: dependency '%s' is not a module file in the tree",
                                          file, line, w);
                if (strv_extend(&m->dep_path, w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* modules.builtin: "kernel/mm/zswap.ko", one a line. */
static int parse_builtin(ModuleIndex *idx, const char *file, unsigned line, char *text) {
        _cleanup_free_ char *name = name_from_path(text);
        Module *m;

        if (!name)
                return error_setf(EBADMSG, "%s:%u: '%s' is not a module path", file, line, text);
        /* A module file too (by_name holds modules.dep's only, so far), or
         * listed twice: the first wins. */
        if (find_module(idx, name) >= 0)
                return 0;
        for (size_t i = 0; i < idx->n_modules; i++)
                if (idx->modules[i].builtin && streq(idx->modules[i].name, name))
                        return 0;
        m = add_module(idx);
        if (!m || !(m->path = strdup(text)))
                return -ENOMEM;
        m->name = TAKE_PTR(name);
        m->builtin = true;
        m->line = line;
        return 0;
}

/* modules.alias: "alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_blk" */
static int parse_alias(ModuleIndex *idx, const char *file, unsigned line, char *text) {
        char *save = NULL, *kw = strtok_r(text, " \t", &save),
             *pattern = strtok_r(NULL, " \t", &save), *name = strtok_r(NULL, " \t", &save);
        _cleanup_free_ char *n = NULL;
        ssize_t m;
        Alias *a;

        if (!streq(kw, "alias") || !pattern || !name || strtok_r(NULL, " \t", &save))
                return error_setf(EBADMSG, "%s:%u: expected 'alias PATTERN MODULE'", file, line);
        n = normalise(name);
        if (!n)
                return -ENOMEM;
        m = find_module(idx, n);
        if (m < 0)
                return error_setf(EBADMSG,
                                  "%s:%u: alias %s names module %s, which %s does not list", file,
                                  line, pattern, name, module_file_names[MODULE_FILE_DEP]);
        a = reallocarray(idx->aliases, idx->n_aliases + 1, sizeof *a);
        if (!a)
                return -ENOMEM;
        idx->aliases = a;
        a = &idx->aliases[idx->n_aliases];
        a->pattern = normalise(pattern);
        if (!a->pattern)
                return -ENOMEM;
        a->literal = strcspn(a->pattern, "*?[\\");
        a->module = (size_t) m;
        idx->n_aliases++;
        return 0;
}

/* modules.softdep: "softdep ext4 pre: crypto-crc32c", "softdep vfio post: a b".
 * Words before the first pre: or post: mean nothing (depmod writes
 * "softdep cifs gcm" for a module's bare softdep=), as for modprobe. Lines of
 * a module that is not in the tree are skipped. */
static int parse_softdep(ModuleIndex *idx, const char *file, unsigned line, char *text) {
        char *save = NULL, *kw = strtok_r(text, " \t", &save), *name = strtok_r(NULL, " \t", &save);
        _cleanup_free_ char *n = NULL;
        char ***list = NULL;
        ssize_t m;

        if (!streq(kw, "softdep") || !name || streq(name, "pre:") || streq(name, "post:"))
                return error_setf(EBADMSG, "%s:%u: expected 'softdep MODULE pre: ... post: ...'",
                                  file, line);
        n = normalise(name);
        if (!n)
                return -ENOMEM;
        m = find_module(idx, n);
        for (char *w = strtok_r(NULL, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (streq(w, "pre:") || streq(w, "post:")) {
                        list = m < 0              ? NULL
                               : streq(w, "pre:") ? &idx->modules[m].pre
                                                  : &idx->modules[m].post;
                        continue;
                }
                if (list && strv_extend(list, w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Every dependency path must be a module of its own line. */
static int resolve_deps(ModuleIndex *idx) {
        _cleanup_free_ char *file = index_file(idx, MODULE_FILE_DEP);
        if (!file)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n_modules; i++) {
                Module *m = &idx->modules[i];
                size_t n = strv_length(m->dep_path);

                if (n == 0)
                        continue;
                m->deps = calloc(n, sizeof *m->deps);
                if (!m->deps)
                        return -ENOMEM;
                STRV_FOREACH(p, m->dep_path) {
                        _cleanup_free_ char *name = name_from_path(*p);
                        ssize_t d = name ? find_module(idx, name) : -1;
                        if (d < 0 || idx->modules[d].builtin || !streq(idx->modules[d].path, *p))
                                return error_setf(
                                        EBADMSG, "%s:%u: %s needs %s, which has no line of its own",
                                        file, m->line, m->path, *p);
                        m->deps[m->n_deps++] = (size_t) d;
                }
                m->dep_path = strv_free(m->dep_path);
        }
        return 0;
}

static int check_unique(ModuleIndex *idx) {
        for (size_t i = 1; i < idx->n_by_name; i++) {
                const Module *a = &idx->modules[idx->by_name[i - 1]],
                             *b = &idx->modules[idx->by_name[i]];
                if (streq(a->name, b->name)) {
                        _cleanup_free_ char *file = index_file(idx, MODULE_FILE_DEP);
                        return file ? error_setf(EBADMSG, "%s:%u: module %s is on line %u too",
                                                 file, MAX(a->line, b->line), a->name,
                                                 MIN(a->line, b->line))
                                    : -ENOMEM;
                }
        }
        return 0;
}

int module_index_parse(const char *moddir, const char *const texts[_MODULE_FILE_MAX],
                       ModuleIndex **ret) {
        _cleanup_(module_index_freep) ModuleIndex *idx = calloc(1, sizeof *idx);
        int r;

        if (!idx)
                return -ENOMEM;
        if (moddir && !(idx->moddir = strdup(moddir)))
                return -ENOMEM;
        /* Modules first: the other files name them. */
        if ((r = parse_lines(idx, MODULE_FILE_DEP, texts[MODULE_FILE_DEP], parse_dep)) < 0 ||
            (r = sort_by_name(idx)) < 0 || (r = check_unique(idx)) < 0 ||
            (r = parse_lines(idx, MODULE_FILE_BUILTIN, texts[MODULE_FILE_BUILTIN], parse_builtin)) <
                    0 ||
            (r = sort_by_name(idx)) < 0 || (r = resolve_deps(idx)) < 0 ||
            (r = parse_lines(idx, MODULE_FILE_ALIAS, texts[MODULE_FILE_ALIAS], parse_alias)) < 0 ||
            (r = parse_lines(idx, MODULE_FILE_SOFTDEP, texts[MODULE_FILE_SOFTDEP], parse_softdep)) <
                    0)
                return r;
        *ret = TAKE_PTR(idx);
        return 0;
}

static void free_texts(char *texts[_MODULE_FILE_MAX]) {
        for (size_t i = 0; i < _MODULE_FILE_MAX; i++)
                free(texts[i]);
}

int module_index_new(const char *moddir, ModuleIndex **ret) {
        _cleanup_free_ char *running = NULL;
        char *texts[_MODULE_FILE_MAX] = {};
        ModuleIndex *idx = NULL;
        int r;

        if (!moddir) {
                struct utsname u;
                if (uname(&u) < 0)
                        return -errno;
                running = strdup_printf("/lib/modules/%s", u.release);
                if (!running)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < _MODULE_FILE_MAX; i++) {
                _cleanup_free_ char *p = path_join(moddir ?: running, module_file_names[i]);
                if (!p) {
                        free_texts(texts);
                        return -ENOMEM;
                }
                r = read_full_file(p, &texts[i], NULL, 0);
                if (r == -ENOENT && (i != MODULE_FILE_DEP || !moddir))
                        continue; /* the running kernel's may have no modules at all */
                if (r < 0) {
                        free_texts(texts);
                        return error_wrapf(r, "cannot read %s", p);
                }
        }
        r = module_index_parse(moddir ?: running, (const char *const *) texts, &idx);
        free_texts(texts);
        if (r < 0)
                return r;
        if (!moddir) {
                _cleanup_free_ char *cmdline = NULL;
                if (read_full_file("/proc/cmdline", &cmdline, NULL, 0) >= 0 &&
                    module_index_set_cmdline(idx, cmdline) < 0) {
                        module_index_free(idx);
                        return -ENOMEM;
                }
        }
        *ret = idx;
        return 0;
}

ModuleIndex *module_index_free(ModuleIndex *idx) {
        if (!idx)
                return NULL;
        for (size_t i = 0; i < idx->n_modules; i++) {
                Module *m = &idx->modules[i];
                free(m->name);
                free(m->path);
                strv_free(m->dep_path);
                free(m->deps);
                strv_free(m->pre);
                strv_free(m->post);
        }
        for (size_t i = 0; i < idx->n_aliases; i++)
                free(idx->aliases[i].pattern);
        free(idx->modules);
        free(idx->by_name);
        free(idx->aliases);
        free(idx->moddir);
        free(idx->cmdline);
        free(idx);
        return NULL;
}

/* ---- lookups ---- */

typedef struct Matches {
        size_t *m;
        size_t n;
} Matches;

static int matches_add(Matches *ms, size_t m) {
        for (size_t i = 0; i < ms->n; i++)
                if (ms->m[i] == m)
                        return 0;
        size_t *n = reallocarray(ms->m, ms->n + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        ms->m = n;
        ms->m[ms->n++] = m;
        return 0;
}

/* What NAME_OR_ALIAS resolves to, in modprobe's order: a module file of that
 * name; else every module with an alias pattern that matches it; else a
 * built-in module of that name. */
static int lookup(const ModuleIndex *idx, const char *name_or_alias, Matches *ret) {
        _cleanup_free_ char *key = normalise(name_or_alias);
        Matches ms = {};
        ssize_t m;

        if (!key)
                return -ENOMEM;
        m = find_module(idx, key);
        if (m >= 0 && !idx->modules[m].builtin) {
                if (matches_add(&ms, (size_t) m) < 0)
                        return -ENOMEM;
                *ret = ms;
                return 0;
        }
        for (size_t i = 0; i < idx->n_aliases; i++) {
                const Alias *a = &idx->aliases[i];
                if (strncmp(key, a->pattern, a->literal) != 0 || fnmatch(a->pattern, key, 0) != 0)
                        continue;
                if (matches_add(&ms, a->module) < 0) {
                        free(ms.m);
                        return -ENOMEM;
                }
        }
        if (ms.n == 0 && m >= 0 && matches_add(&ms, (size_t) m) < 0)
                return -ENOMEM;
        *ret = ms;
        return 0;
}

int module_resolve(ModuleIndex *idx, const char *name_or_alias, char ***names) {
        _cleanup_free_ size_t *m = NULL;
        Matches ms;
        int r;

        r = lookup(idx, name_or_alias, &ms);
        if (r < 0)
                return r;
        m = ms.m;
        for (size_t i = 0; i < ms.n; i++) {
                const char *name = idx->modules[ms.m[i]].name;
                if (!strv_contains(*names, name) && strv_extend(names, name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int module_drives_devices(ModuleIndex *idx, const char *name) {
        _cleanup_free_ char *key = normalise(name);
        ssize_t m;

        if (!key)
                return -ENOMEM;
        m = find_module(idx, key);
        if (m < 0 || idx->modules[m].builtin)
                return -ENOENT;
        /* Bus aliases (pci:v..., virtio:d..., acpi*:..., vmbus:...) name
         * devices; fs-ext4, devname:mapper/control, char-major-10-236 name
         * file systems and device nodes. */
        for (size_t i = 0; i < idx->n_aliases; i++)
                if (idx->aliases[i].module == (size_t) m && strchr(idx->aliases[i].pattern, ':') &&
                    !strneq(idx->aliases[i].pattern, "devname:", 8))
                        return 1;
        return 0;
}

/* ---- walking (the composer) ---- */

typedef struct Walk {
        ModuleIndex *idx;
        char ***seen;
        module_visit_t visit;
        void *userdata;
} Walk;

static int walk_name(Walk *w, const char *name_or_alias, unsigned depth);

static int walk_module(Walk *w, size_t i, unsigned depth) {
        const Module *m = &w->idx->modules[i];
        _cleanup_free_ char *path = NULL;
        int r;

        if (depth > DEPTH_MAX)
                return -ELOOP;
        if (strv_contains(*w->seen, m->name))
                return 0;
        r = strv_extend(w->seen, m->name);
        if (r < 0)
                return r;
        if (!m->builtin &&
            !(path = w->idx->moddir ? path_join(w->idx->moddir, m->path) : strdup(m->path)))
                return -ENOMEM;
        r = w->visit(m->name, path, w->userdata);
        if (r < 0)
                return r;
        for (size_t d = 0; d < m->n_deps; d++) {
                r = walk_module(w, m->deps[d], depth + 1);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(s, m->pre) {
                r = walk_name(w, *s, depth + 1);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(s, m->post) {
                r = walk_name(w, *s, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A soft dependency that resolves to nothing is no error. */
static int walk_name(Walk *w, const char *name_or_alias, unsigned depth) {
        _cleanup_free_ size_t *m = NULL;
        Matches ms;
        int r;

        r = lookup(w->idx, name_or_alias, &ms);
        if (r < 0)
                return r;
        m = ms.m;
        for (size_t i = 0; i < ms.n; i++) {
                r = walk_module(w, ms.m[i], depth);
                if (r < 0)
                        return r;
        }
        return (int) ms.n;
}

int module_index_walk(ModuleIndex *idx, const char *name_or_alias, char ***seen,
                      module_visit_t visit, void *userdata) {
        Walk w = { .idx = idx, .seen = seen, .visit = visit, .userdata = userdata };
        int r = walk_name(&w, name_or_alias, 0);
        return r == 0 ? -ENOENT : MIN(r, 0);
}

/* ---- writing (the initramfs's indexes) ---- */

int module_index_format(ModuleIndex *idx, ModuleFile which, char *const *names, char **ret,
                        size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &size);

        if (!f)
                return -ENOMEM;
        if (which == MODULE_FILE_ALIAS)
                for (size_t i = 0; i < idx->n_aliases; i++) {
                        const Module *m = &idx->modules[idx->aliases[i].module];
                        if (strv_contains(names, m->name))
                                fprintf(f, "alias %s %s\n", idx->aliases[i].pattern, m->name);
                }
        else
                for (size_t i = 0; i < idx->n_modules; i++) {
                        const Module *m = &idx->modules[i];
                        if (!strv_contains(names, m->name))
                                continue;
                        if (which == MODULE_FILE_DEP && !m->builtin) {
                                fprintf(f, "%s:", m->path);
                                for (size_t d = 0; d < m->n_deps; d++)
                                        fprintf(f, " %s", idx->modules[m->deps[d]].path);
                                fputc('\n', f);
                        } else if (which == MODULE_FILE_BUILTIN && m->builtin)
                                fprintf(f, "%s\n", m->path);
                        else if (which == MODULE_FILE_SOFTDEP && (m->pre || m->post)) {
                                _cleanup_free_ char *pre = strv_join(m->pre, " "),
                                                    *post = strv_join(m->post, " ");
                                if (!pre || !post)
                                        return -ENOMEM;
                                fprintf(f, "softdep %s%s%s%s%s\n", m->name, m->pre ? " pre: " : "",
                                        pre, m->post ? " post: " : "", post);
                        }
                }
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        (void) fclose(TAKE_PTR(f));
        *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* ---- loading ---- */

static int kernel_insert(const char *name, int fd, const void *image, size_t size,
                         const char *params, void *userdata) {
        long r = image ? syscall(SYS_init_module, image, size, params)
                       : syscall(SYS_finit_module, fd, params, 0);
        return r < 0 ? -errno : 0;
}

static int kernel_loaded(const char *name, void *userdata) {
        char p[sizeof "/sys/module/" + MODULE_NAME_MAX];
        snprintf(p, sizeof p, "/sys/module/%s", name);
        return access(p, F_OK) == 0;
}

void module_index_set_kernel(ModuleIndex *idx, const ModuleKernel *k) {
        idx->kernel = k ? *k : (ModuleKernel){};
}

int module_index_set_cmdline(ModuleIndex *idx, const char *cmdline) {
        char *c = NULL;
        if (cmdline && !(c = strdup(cmdline)))
                return -ENOMEM;
        free(idx->cmdline);
        idx->cmdline = c;
        return 0;
}

void module_index_set_only(ModuleIndex *idx, const char *const *dirs) {
        idx->only = dirs;
}

static bool path_allowed(const ModuleIndex *idx, const Module *m) {
        char path[PATH_MAX];
        if (!idx->only)
                return true;
        snprintf(path, sizeof path, "/%s", m->path);
        for (size_t i = 0; idx->only[i]; i++)
                if (strstr(path, idx->only[i]))
                        return true;
        return false;
}

static int kernel_has(const ModuleIndex *idx, const Module *m) {
        return idx->kernel.loaded ? idx->kernel.loaded(m->name, idx->kernel.userdata)
                                  : kernel_loaded(m->name, NULL);
}

/* Inserts one module file: an xz stream is decompressed and handed over in
 * memory; anything else goes to the kernel as the open file, which checks
 * it (ELF, signature). */
static int insert(ModuleIndex *idx, const Module *m) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        char params[4096], magic[6];
        size_t size;
        ssize_t k;
        int r;

        if (!idx->moddir)
                return error_setf(ENOENT, "module %s: no module tree", m->name);
        path = path_join(idx->moddir, m->path);
        if (!path)
                return -ENOMEM;
        if (cmdline_module_options(idx->cmdline, m->name, params, sizeof params) < 0)
                return error_setf(E2BIG,
                                  "module %s: its options on the kernel command line are "
                                  "longer than %zu bytes",
                                  m->name, sizeof params - 1);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_wrapf(-errno, "cannot open module %s", path);
        k = pread(fd, magic, sizeof magic, 0);
        if (k < 0)
                return error_wrapf(-errno, "cannot read module %s", path);
        if (!xz_is_stream(magic, (size_t) k)) {
                r = idx->kernel.insert
                            ? idx->kernel.insert(m->name, fd, NULL, 0, params, idx->kernel.userdata)
                            : kernel_insert(m->name, fd, NULL, 0, params, NULL);
                return r < 0 ? error_wrapf(r, "the kernel refused module %s", path) : 0;
        }
        r = read_full_file(path, &data, &size, 0);
        if (r < 0)
                return error_wrapf(r, "cannot read module %s", path);
        r = xz_decompress(&data, &size);
        if (r < 0)
                return error_wrapf(r, "cannot decompress module %s", path);
        r = idx->kernel.insert
                    ? idx->kernel.insert(m->name, -1, data, size, params, idx->kernel.userdata)
                    : kernel_insert(m->name, -1, data, size, params, NULL);
        return r < 0 ? error_wrapf(r, "the kernel refused module %s", path) : 0;
}

static int load_module(ModuleIndex *idx, size_t i, unsigned depth, unsigned *count);

/* Soft dependencies load if they can: one that fails or resolves to nothing
 * does not stop the module. */
static void load_soft(ModuleIndex *idx, char *const *names, unsigned depth, unsigned *count) {
        STRV_FOREACH(s, (char **) names) {
                _cleanup_free_ size_t *m = NULL;
                Matches ms;
                if (lookup(idx, *s, &ms) < 0)
                        continue;
                m = ms.m;
                for (size_t i = 0; i < ms.n; i++)
                        if (load_module(idx, ms.m[i], depth, count) < 0) {
                                log_debug("soft dependency %s: %s", *s,
                                          error_message(-error_code()));
                                error_clear();
                        }
        }
}

static int load_module(ModuleIndex *idx, size_t i, unsigned depth, unsigned *count) {
        Module *m = &idx->modules[i];
        int r = 0;

        if (m->state == LOAD_DONE)
                return m->result;
        if (m->state == LOAD_BUSY || depth > DEPTH_MAX) {
                idx->failed = m->name;
                return error_setf(ELOOP, "module %s: its dependencies form a loop", m->name);
        }
        if (m->builtin || kernel_has(idx, m) > 0) {
                m->state = LOAD_DONE;
                return 0;
        }
        m->state = LOAD_BUSY;
        /* depmod lists what is needed first last; the dependencies, then
         * the pre soft dependencies: modprobe's order. */
        for (size_t d = m->n_deps; d > 0 && r >= 0; d--) {
                r = load_module(idx, m->deps[d - 1], depth + 1, count);
                if (r < 0)
                        r = error_wrapf(r, "module %s needs %s", m->name,
                                        idx->modules[m->deps[d - 1]].name);
        }
        if (r >= 0)
                load_soft(idx, m->pre, depth + 1, count);
        if (r >= 0) {
                r = insert(idx, m);
                if (r == -EEXIST || r == -ENODEV) {
                        /* Loaded meanwhile (a concurrent loader), or a driver
                         * without a device here: the kernel unloaded it. */
                        log_debug("module %s: %s", m->name,
                                  r == -EEXIST ? "loaded already" : "no device");
                        error_clear();
                        r = 0;
                } else if (r < 0)
                        idx->failed = m->name;
                else
                        (*count)++;
        }
        /* Done before its post soft dependencies, which may need it. */
        m->state = LOAD_DONE;
        m->result = r;
        if (r >= 0)
                load_soft(idx, m->post, depth + 1, count);
        return r;
}

int module_load(ModuleIndex *idx, const char *name_or_alias, ModuleLoadFlags flags,
                const char **ret_failed) {
        _cleanup_free_ size_t *list = NULL;
        _cleanup_free_ char *message = NULL;
        const char *failed_name = NULL;
        unsigned count = 0;
        int r, failed = 0;
        Matches ms;

        r = lookup(idx, name_or_alias, &ms);
        if (r < 0)
                return r;
        list = ms.m;
        for (size_t i = 0; i < ms.n; i++) {
                Module *m = &idx->modules[ms.m[i]];
                if (m->builtin || !path_allowed(idx, m) ||
                    ((flags & MODULE_LOAD_NEW_ONLY) &&
                     (m->state == LOAD_DONE || kernel_has(idx, m) > 0)))
                        continue;
                if ((flags & MODULE_LOAD_BLACKLIST) &&
                    (cmdline_module_listed(idx->cmdline, "modprobe.blacklist", m->name) ||
                     cmdline_module_blacklisted(idx->cmdline, m->name))) {
                        log_debug("module %s: blacklisted on the kernel command line", m->name);
                        continue;
                }
                r = load_module(idx, ms.m[i], 0, &count);
                if (r < 0 && failed == 0) {
                        failed = r;
                        failed_name = idx->failed;
                        message = strdup(error_message(r));
                }
        }
        if (failed < 0) {
                idx->failed = failed_name;
                if (ret_failed)
                        *ret_failed = idx->failed ?: name_or_alias;
                return message ? error_setf(-failed, "%s", message) : failed;
        }
        return (int) count;
}
