/* SPDX-License-Identifier: MIT */
#include "solve.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include <solv/bitmap.h>
#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/queue.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/solver.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

/* Stub version for an excluded name that no repository carries: newer than
 * anything, so versioned dependencies on it are met too. */
#define EXCLUDED_STUB_EVR "99999:0"

static void pool_freep(Pool **p) {
        if (*p)
                pool_free(*p);
}

static void solver_freep(Solver **s) {
        if (*s)
                solver_free(*s);
}

static void queue_freep(Queue *q) {
        queue_free(q);
}

/* A pool with every index loaded; each repo's appdata is its RepoIndex. */
static int pool_load(const RepoSet *repos, const char *arch, Pool **ret) {
        _cleanup_(pool_freep) Pool *pool = pool_create();
        if (!pool)
                return -ENOMEM;
        (void) pool_setdisttype(pool, DISTTYPE_DEB);
        pool_setarch(pool, arch);

        for (size_t i = 0; i < repos->n; i++) {
                RepoIndex *ri = &repos->indexes[i];
                _cleanup_free_ char *name =
                        strdup_printf("%s %s/%s", ri->base_uri, ri->suite, ri->component);
                if (!name)
                        return -ENOMEM;
                FILE *f = fopen(ri->packages_path, "re");
                if (!f)
                        return error_wrapf(-errno, "Failed to open %s", ri->packages_path);
                Repo *repo = repo_create(pool, name);
                repo->appdata = ri;
                int r = repo_add_debpackages(repo, f, 0);
                fclose(f);
                if (r != 0)
                        return error_setf(EBADMSG, "%s: %s", ri->packages_path, pool_errstr(pool));
        }
        *ret = TAKE_PTR(pool);
        return 0;
}

/* The newest installable solvable named `name`, or 0. Needs whatprovides. */
static Id find_newest(Pool *pool, Id name) {
        Id p, pp, best = 0;
        FOR_PROVIDES(p, pp, name) {
                Solvable *s = pool->solvables + p;
                if (s->name != name || !pool_installable(pool, s))
                        continue;
                if (!best ||
                    pool_evrcmp(pool, s->evr, pool->solvables[best].evr, EVRCMP_COMPARE) > 0)
                        best = p;
        }
        return best;
}

/* The installable solvable called name with exactly version evr (a pin,
 * Include=NAME=VERSION), or 0. */
static Id find_version(Pool *pool, Id name, const char *evr) {
        Id p, pp, want = pool_str2id(pool, evr, 0);
        if (!want)
                return 0;
        FOR_PROVIDES(p, pp, name) {
                Solvable *s = pool->solvables + p;
                if (s->name == name && s->evr == want && pool_installable(pool, s))
                        return p;
        }
        return 0;
}

/* Excluded names become installed stubs: a solvable of the same name, version
 * and provides as the newest real one (or a very high version when there is
 * none), in a repo the pool takes as installed. The solver then counts
 * dependencies on them as met and never fetches the real package. */
static int add_excluded_stubs(Pool *pool, char *const *exclude) {
        Repo *stubs = repo_create(pool, "berth-excluded");
        Id *newest;
        size_t n = strv_length(exclude);

        if (!stubs)
                return -ENOMEM;
        pool_createwhatprovides(pool);
        newest = calloc(n + 1, sizeof(Id));
        if (!newest)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                Id name = pool_str2id(pool, exclude[i], 0);
                newest[i] = name ? find_newest(pool, name) : 0;
        }
        for (size_t i = 0; i < n; i++) {
                Id p = repo_add_solvable(stubs);
                Solvable *s = pool->solvables + p;
                Solvable *real = newest[i] ? pool->solvables + newest[i] : NULL;
                s->name = pool_str2id(pool, exclude[i], 1);
                s->evr = real ? real->evr : pool_str2id(pool, EXCLUDED_STUB_EVR, 1);
                s->arch = real ? real->arch : pool_str2id(pool, "all", 1);
                s->provides = repo_addid_dep(stubs, s->provides,
                                             pool_rel2id(pool, s->name, s->evr, REL_EQ, 1), 0);
                if (real && real->provides) {
                        /* debconf provides debconf-2.0: excluding it covers that too. */
                        for (Id *dp = real->repo->idarraydata + real->provides; *dp; dp++)
                                s->provides = repo_addid_dep(stubs, s->provides, *dp, 0);
                }
                log_debug("excluded %s: stub %s%s", exclude[i], pool_id2str(pool, s->evr),
                          real ? "" : " (not in any repository)");
        }
        free(newest);
        repo_internalize(stubs);
        pool_set_installed(pool, stubs);
        pool_createwhatprovides(pool);
        return 0;
}

/* The first alternative of a dependency: `a (>= 1) | b` -> `a (>= 1)`. */
static Id first_alternative(Pool *pool, Id dep) {
        while (ISRELDEP(dep)) {
                Reldep *rd = GETRELDEP(pool, dep);
                if (rd->flags != REL_OR)
                        break;
                dep = rd->name;
        }
        return dep;
}

static Id dep_name(Pool *pool, Id dep) {
        while (ISRELDEP(dep))
                dep = GETRELDEP(pool, dep)->name;
        return dep;
}

/* libsolv chooses among the candidates for a dependency by its own policy
 * (names, versions), not as apt does: apt takes the first alternative of
 * `a | b`, and for a name that is a real package it takes that package, not
 * another one that Provides the name (libelogind0 provides libsystemd0).
 * After a solve, find dependencies of the chosen packages met otherwise even
 * though a package of the first alternative's name exists, and favor that
 * name. Returns how many names were newly favored. */
static int favor_natural_choices(Pool *pool, const Queue *decisions, Map *favored, Queue *job) {
        Map on;
        int added = 0;

        map_init(&on, pool->nsolvables);
        for (int i = 0; i < decisions->count; i++)
                if (decisions->elements[i] > 0)
                        MAPSET(&on, decisions->elements[i]);
        for (int i = 0; i < decisions->count; i++) {
                Id p = decisions->elements[i];
                if (p <= 1)
                        continue;
                Solvable *s = pool->solvables + p;
                if (!s->repo || s->repo == pool->installed || !s->requires)
                        continue;
                for (Id *rp = s->repo->idarraydata + s->requires; *rp; rp++) {
                        if (*rp == SOLVABLE_PREREQMARKER)
                                continue;
                        Id first = first_alternative(pool, *rp), name = dep_name(pool, first);
                        Id q, qq;
                        bool natural_on = false, natural_exists = false;
                        if (MAPTST(favored, name))
                                continue;
                        FOR_PROVIDES(q, qq, first) {
                                Solvable *c = pool->solvables + q;
                                if (c->name != name || !pool_match_nevr(pool, c, first))
                                        continue;
                                natural_exists = true;
                                if (MAPTST(&on, q))
                                        natural_on = true;
                        }
                        if (!natural_exists || natural_on)
                                continue;
                        log_debug("%s: favoring %s for %s", pool_solvid2str(pool, p),
                                  pool_id2str(pool, name), pool_dep2str(pool, *rp));
                        MAPSET(favored, name);
                        queue_push2(job, SOLVER_FAVOR | SOLVER_SOLVABLE_NAME, name);
                        added++;
                }
        }
        map_free(&on);
        return added;
}

/* "package 'a' not found ..." or "packages 'a', 'b' not found ...". */
static int report_missing(char **missing) {
        _cleanup_free_ char *list = strv_join(missing, "', '");
        if (!list)
                return -ENOMEM;
        return error_setf(ENOENT, "package%s '%s' not found in any repository (wanted by the spec)",
                          strv_length(missing) > 1 ? "s" : "", list);
}

/* One line for all problems: "cannot resolve the package set: P1 (R1; R2); P2 (...)". */
static int report_problems(Solver *solv, int n_problems) {
        _cleanup_(queue_freep) Queue rules = {};
        _cleanup_free_ char *msg = NULL;

        queue_init(&rules);
        msg = strdup("");
        for (Id problem = 1; msg && problem <= (Id) n_problems; problem++) {
                _cleanup_strv_free_ char **why = NULL;
                solver_findallproblemrules(solv, problem, &rules);
                for (int i = 0; i < rules.count; i++) {
                        Id from, to, dep;
                        SolverRuleinfo type =
                                solver_ruleinfo(solv, rules.elements[i], &from, &to, &dep);
                        if ((type == SOLVER_RULE_JOB || type == SOLVER_RULE_PKG_REQUIRES ||
                             type == SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP ||
                             type == SOLVER_RULE_PKG_CONFLICTS ||
                             type == SOLVER_RULE_PKG_SAME_NAME) &&
                            strv_extend(&why, solver_ruleinfo2str(solv, type, from, to, dep)) < 0)
                                return -ENOMEM;
                }
                _cleanup_free_ char *rules_text = strv_join(why, "; ");
                char *n = strdup_printf("%s%s%s%s%s%s", msg, problem > 1 ? "; " : "",
                                        solver_problem2str(solv, problem), why ? " (" : "",
                                        why ? strempty(rules_text) : "", why ? ")" : "");
                free(msg);
                msg = n;
        }
        if (!msg)
                return -ENOMEM;
        return error_setf(ENOPKG, "cannot resolve the package set: %s", msg);
}

/* Fields libsolv does not keep (Priority) or that we take verbatim from the index. */
typedef struct Want {
        Package *pkg;
        const char *name, *version, *arch;
} Want;

static int want_cmp(const void *a, const void *b) {
        const Want *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (c == 0)
                c = strcmp(x->version, y->version);
        if (c == 0)
                c = strcmp(x->arch, y->arch);
        return c;
}

static char *field_value(char *line) {
        char *v = strchr(line, ':');
        if (!v)
                return NULL;
        v++;
        while (*v == ' ' || *v == '\t')
                v++;
        size_t n = strlen(v);
        while (n > 0 && isspace((unsigned char) v[n - 1]))
                v[--n] = 0;
        return v;
}

static int set_str(char **dst, const char *v) {
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

typedef struct Stanza {
        char package[256], version[256], arch[64], priority[64], section[128], source[256],
                sha256[65];
        uint64_t size, installed_size;
} Stanza;

typedef struct StanzaField {
        const char *tag;
        size_t offset, size;
} StanzaField;

#define STANZA_FIELD(tag, member)                                                                  \
        { tag, offsetof(Stanza, member), sizeof(((Stanza *) 0)->member) }
static const StanzaField stanza_fields[] = {
        STANZA_FIELD("Package", package),   STANZA_FIELD("Version", version),
        STANZA_FIELD("Architecture", arch), STANZA_FIELD("Priority", priority),
        STANZA_FIELD("Section", section),   STANZA_FIELD("Source", source),
        STANZA_FIELD("SHA256", sha256),
};

static int stanza_apply(const Stanza *st, Package *p) {
        int r = 0;
        if (st->priority[0])
                r = set_str(&p->priority, st->priority);
        if (r >= 0 && st->section[0])
                r = set_str(&p->section, st->section);
        if (r >= 0 && st->source[0]) {
                /* "Source: name (version)" */
                char buf[256];
                (void) snprintf(buf, sizeof buf, "%s", st->source);
                char *paren = strchr(buf, '(');
                if (paren) {
                        char *end = strchr(paren, ')');
                        if (end)
                                *end = 0;
                        r = set_str(&p->source_version, paren + 1);
                        while (paren > buf && isspace((unsigned char) paren[-1]))
                                paren--;
                        *paren = 0;
                }
                if (r >= 0)
                        r = set_str(&p->source, buf);
        }
        if (st->sha256[0] && strlen(st->sha256) == 64)
                memcpy(p->sha256, st->sha256, SHA256_HEX_SIZE);
        if (st->size)
                p->size = st->size;
        if (st->installed_size)
                p->installed_size = st->installed_size;
        return r;
}

/* One pass over a Packages file for the stanzas of the chosen packages. */
static int read_extra_fields(const char *path, Want *wants, size_t n) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t alloc = 0;
        Stanza st = {};
        int r;

        if (n == 0)
                return 0;
        qsort(wants, n, sizeof(Want), want_cmp);
        f = fopen(path, "re");
        if (!f)
                return error_wrapf(-errno, "Failed to open %s", path);
        for (;;) {
                ssize_t k = getline(&line, &alloc, f);
                bool end = k < 0;
                if (end || line[0] == '\n') {
                        if (st.package[0]) {
                                Want key = { .name = st.package,
                                             .version = st.version,
                                             .arch = st.arch };
                                Want *w = bsearch(&key, wants, n, sizeof(Want), want_cmp);
                                if (w) {
                                        r = stanza_apply(&st, w->pkg);
                                        if (r < 0)
                                                return r;
                                }
                        }
                        st = (Stanza){};
                        if (end)
                                break;
                        continue;
                }
                if (line[0] == ' ' || line[0] == '\t')
                        continue;
                if (strncasecmp(line, "Size:", 5) == 0) {
                        st.size = strtoull(line + 5, NULL, 10);
                        continue;
                }
                if (strncasecmp(line, "Installed-Size:", 15) == 0) {
                        st.installed_size = strtoull(line + 15, NULL, 10);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(stanza_fields); i++) {
                        const StanzaField *sf = &stanza_fields[i];
                        size_t tl = strlen(sf->tag);
                        if (strncasecmp(line, sf->tag, tl) != 0 || line[tl] != ':')
                                continue;
                        char *v = field_value(line);
                        if (v)
                                (void) snprintf((char *) &st + sf->offset, sf->size, "%s", v);
                        break;
                }
        }
        return 0;
}

static int fill_package(Pool *pool, Id p, Package *pkg) {
        Solvable *s = pool->solvables + p;
        RepoIndex *ri = s->repo->appdata;
        const char *loc, *sum, *base;
        unsigned medianr;
        Id type = 0;

        pkg->name = strdup(pool_id2str(pool, s->name));
        pkg->version = strdup(pool_id2str(pool, s->evr));
        pkg->architecture = strdup(pool_id2str(pool, s->arch));
        loc = solvable_get_location(s, &medianr);
        if (!pkg->name || !pkg->version || !pkg->architecture)
                return -ENOMEM;
        if (!loc || !ri)
                return error_setf(EBADMSG, "package %s has no Filename", pkg->name);
        base = strrchr(loc, '/');
        base = base ? base + 1 : loc;
        /* The last component names the file in the package cache: "." or ""
         * would name the cache directory itself. */
        if (strstr(loc, "..") || loc[0] == '/' || isempty(base) || streq(base, "."))
                return error_setf(EBADMSG, "package %s: unsafe Filename '%s'", pkg->name, loc);
        pkg->url = strdup_printf("%s/%s", ri->base_uri, loc);
        pkg->filename = strdup(base);
        pkg->origin = strdup(ri->origin ?: "");
        if (!pkg->url || !pkg->filename || !pkg->origin)
                return -ENOMEM;
        sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type);
        if (sum && type == REPOKEY_TYPE_SHA256 && strlen(sum) == 64)
                memcpy(pkg->sha256, sum, SHA256_HEX_SIZE);
        pkg->size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
        return 0;
}

/* Which package pulled each one in: breadth first from the requested ones,
 * along Depends and Pre-Depends, so each gets the shortest chain. */
static int compute_wanted_by(Pool *pool, const Queue *chosen, Map *in_set, Id *by,
                             char *const *include) {
        _cleanup_(queue_freep) Queue todo = {};
        queue_init(&todo);

        for (int i = 0; i < chosen->count; i++) {
                Id p = chosen->elements[i];
                if (strv_contains(include, pool_id2str(pool, pool->solvables[p].name))) {
                        by[p] = -1; /* spec */
                        queue_push(&todo, p);
                }
        }
        for (int head = 0; head < todo.count; head++) {
                Id from = todo.elements[head];
                Solvable *s = pool->solvables + from;
                if (!s->requires)
                        continue;
                for (Id *rp = s->repo->idarraydata + s->requires; *rp; rp++) {
                        Id dep = *rp, q, qq;
                        if (dep == SOLVABLE_PREREQMARKER)
                                continue;
                        FOR_PROVIDES(q, qq, dep) {
                                if (!MAPTST(in_set, q) || by[q] != 0)
                                        continue;
                                by[q] = from;
                                queue_push(&todo, q);
                        }
                }
        }
        return 0;
}

static int build_list(Pool *pool, const Queue *chosen, const Id *by, PackageList **ret) {
        _cleanup_(package_list_freep) PackageList *l = calloc(1, sizeof(PackageList));
        _cleanup_free_ Want *wants = NULL;
        int r;

        if (!l)
                return -ENOMEM;
        for (int i = 0; i < chosen->count; i++) {
                Id p = chosen->elements[i];
                Package *pkg = package_list_add(l);
                if (!pkg)
                        return -ENOMEM;
                r = fill_package(pool, p, pkg);
                if (r < 0)
                        return r;
                const char *why = !by || by[p] == 0 ? "dependency"
                                  : by[p] < 0       ? "spec"
                                              : pool_id2str(pool, pool->solvables[by[p]].name);
                pkg->wanted_by = strdup(why);
                if (!pkg->wanted_by)
                        return -ENOMEM;
        }

        /* Priority, Section, Source and the digests verbatim from each index. */
        wants = calloc(l->n + 1, sizeof(Want));
        if (!wants)
                return -ENOMEM;
        for (int ri = 0; ri < pool->nrepos; ri++) {
                Repo *repo = pool->repos[ri];
                if (!repo || !repo->appdata)
                        continue;
                size_t n = 0;
                for (int i = 0; i < chosen->count; i++)
                        if (pool->solvables[chosen->elements[i]].repo == repo) {
                                Package *pkg = &l->packages[i];
                                wants[n++] =
                                        (Want){ pkg, pkg->name, pkg->version, pkg->architecture };
                        }
                r = read_extra_fields(((RepoIndex *) repo->appdata)->packages_path, wants, n);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n; i++) {
                Package *pkg = &l->packages[i];
                if (!pkg->source && set_str(&pkg->source, pkg->name) < 0)
                        return -ENOMEM;
                if (!pkg->source_version && set_str(&pkg->source_version, pkg->version) < 0)
                        return -ENOMEM;
                if (!pkg->priority && set_str(&pkg->priority, "optional") < 0)
                        return -ENOMEM;
                if (!pkg->sha256[0])
                        return error_setf(EBADMSG, "package %s %s has no SHA256 in its index",
                                          pkg->name, pkg->version);
        }
        package_list_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int solve_packages(const RepoSet *repos, const char *arch, char *const *include,
                   char *const *exclude, PackageList **ret) {
        _cleanup_(pool_freep) Pool *pool = NULL;
        _cleanup_(solver_freep) Solver *solv = NULL;
        _cleanup_(queue_freep) Queue job = {}, decisions = {}, chosen = {};
        _cleanup_free_ Id *by = NULL;
        Map in_set = {}, favored = {};
        _cleanup_strv_free_ char **missing = NULL, **names = NULL;
        int r;

        queue_init(&job);
        queue_init(&decisions);
        queue_init(&chosen);

        r = pool_load(repos, arch, &pool);
        if (r < 0)
                return r;
        r = add_excluded_stubs(pool, exclude);
        if (r < 0)
                return r;

        for (char *const *item = include; item && *item; item++) {
                /* NAME or NAME=VERSION (a pin: exactly that version). */
                const char *eq = strchr(*item, '=');
                _cleanup_free_ char *name =
                        eq ? strndup(*item, (size_t) (eq - *item)) : strdup(*item);
                if (!name || strv_extend(&names, name) < 0)
                        return -ENOMEM;
                if (strv_contains(exclude, name)) {
                        log_warning("package '%s' is both included and excluded; excluded wins",
                                    name);
                        continue;
                }
                Id id = pool_str2id(pool, name, 0), p = 0;
                if (id)
                        p = eq ? find_version(pool, id, eq + 1) : find_newest(pool, id);
                if (!p) {
                        if (strv_extend(&missing, *item) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (eq)
                        queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE, p);
                else
                        queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE_NAME, id);
        }
        if (missing)
                return report_missing(missing);

        solv = solver_create(pool);
        if (!solv)
                return -ENOMEM;
        (void) solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, 1);
        map_init(&favored, pool->ss.nstrings);
        for (unsigned round = 0;; round++) {
                int n_problems = solver_solve(solv, &job);
                if (n_problems > 0) {
                        map_free(&favored);
                        return report_problems(solv, n_problems);
                }
                solver_get_decisionqueue(solv, &decisions);
                /* Each round only adds favors; a handful settles real package sets. */
                if (round >= 8 || favor_natural_choices(pool, &decisions, &favored, &job) == 0)
                        break;
        }
        map_free(&favored);
        for (int i = 0; i < decisions.count; i++) {
                Id p = decisions.elements[i];
                if (p <= 0 || p == SYSTEMSOLVABLE)
                        continue;
                Solvable *s = pool->solvables + p;
                if (!s->repo || s->repo == pool->installed || !s->repo->appdata)
                        continue;
                queue_push(&chosen, p);
        }

        map_init(&in_set, pool->nsolvables);
        for (int i = 0; i < chosen.count; i++)
                MAPSET(&in_set, chosen.elements[i]);
        by = calloc(pool->nsolvables, sizeof(Id));
        if (!by) {
                map_free(&in_set);
                return -ENOMEM;
        }
        r = compute_wanted_by(pool, &chosen, &in_set, by, names);
        map_free(&in_set);
        if (r < 0)
                return r;

        return build_list(pool, &chosen, by, ret);
}

int solve_lookup(const RepoSet *repos, const char *arch, char *const *names, PackageList **ret) {
        _cleanup_(pool_freep) Pool *pool = NULL;
        _cleanup_(queue_freep) Queue chosen = {};
        _cleanup_free_ Id *by = NULL;
        _cleanup_strv_free_ char **missing = NULL;
        int r;

        queue_init(&chosen);
        r = pool_load(repos, arch, &pool);
        if (r < 0)
                return r;
        pool_createwhatprovides(pool);
        for (char *const *name = names; name && *name; name++) {
                Id id = pool_str2id(pool, *name, 0);
                Id p = id ? find_newest(pool, id) : 0;
                if (!p) {
                        if (strv_extend(&missing, *name) < 0)
                                return -ENOMEM;
                        continue;
                }
                queue_push(&chosen, p);
        }
        if (missing)
                return report_missing(missing);
        by = calloc(pool->nsolvables, sizeof(Id));
        if (!by)
                return -ENOMEM;
        for (int i = 0; i < chosen.count; i++)
                by[chosen.elements[i]] = -1;
        return build_list(pool, &chosen, by, ret);
}
