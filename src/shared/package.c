/* SPDX-License-Identifier: MIT */
#include "package.h"

#include <string.h>

#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "log.h"

static void package_done(Package *p) {
        free(p->name);
        free(p->version);
        free(p->architecture);
        free(p->source);
        free(p->source_version);
        free(p->url);
        free(p->filename);
        free(p->priority);
        free(p->section);
        free(p->origin);
        free(p->local_path);
        free(p->wanted_by);
}

void package_list_clear(PackageList *l) {
        for (size_t i = 0; i < l->n; i++)
                package_done(&l->packages[i]);
        free(l->packages);
        l->packages = NULL;
        l->n = 0;
}

PackageList *package_list_free(PackageList *l) {
        if (!l)
                return NULL;
        package_list_clear(l);
        free(l);
        return NULL;
}

Package *package_list_add(PackageList *l) {
        Package *n = realloc(l->packages, sizeof(Package) * (l->n + 1));
        if (!n)
                return NULL;
        l->packages = n;
        memset(&n[l->n], 0, sizeof(Package));
        return &n[l->n++];
}

static int cmp(const void *a, const void *b) {
        return strcmp(((const Package *) a)->name, ((const Package *) b)->name);
}

void package_list_sort(PackageList *l) {
        if (l->n > 1)
                qsort(l->packages, l->n, sizeof(Package), cmp);
}

const Package *package_list_find(const PackageList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->packages[i].name, name))
                        return &l->packages[i];
        return NULL;
}

/* The cache name of a package: the basename of its Filename, nothing that
 * could leave the directory. */
static int deb_cache_name(const Package *p, const char **ret) {
        const char *b = p->filename;
        if (isempty(b) && p->url) {
                b = strrchr(p->url, '/');
                b = b ? b + 1 : p->url;
        }
        if (isempty(b) || strchr(b, '/') || streq(b, ".") || streq(b, ".."))
                return -EINVAL;
        *ret = b;
        return 0;
}

int package_list_fetch(PackageList *l, const char *cache_dir, unsigned jobs) {
        _cleanup_free_ FetchItem *items = NULL;
        _cleanup_free_ char *debs = NULL;
        int r;

        if (l->n == 0)
                return 0;
        debs = path_join(cache_dir, "debs");
        if (!debs)
                return -ENOMEM;
        r = mkdir_p(debs, 0755);
        if (r < 0)
                return error_wrapf(r, "Failed to create %s", debs);

        items = calloc(l->n, sizeof(FetchItem));
        if (!items)
                return -ENOMEM;
        char **dests = calloc(l->n, sizeof(char *));
        if (!dests)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                Package *p = &l->packages[i];
                const char *name;
                if (!p->url || deb_cache_name(p, &name) < 0) {
                        r = error_setf(EINVAL, "package %s has no usable URL or file name",
                                       p->name);
                        goto finish;
                }
                dests[i] = path_join(debs, name);
                if (!dests[i]) {
                        r = -ENOMEM;
                        goto finish;
                }
                items[i] = (FetchItem){
                        .url = p->url,
                        .dest = dests[i],
                        .sha256 = p->sha256[0] ? p->sha256 : NULL,
                        .size = p->size,
                };
        }

        r = fetch_many(items, l->n, jobs);
        bool reported = false;
        for (size_t i = 0; i < l->n; i++) {
                Package *p = &l->packages[i];
                if (items[i].result < 0) {
                        /* The first failure is the error; the rest go to the debug log. */
                        if (!reported)
                                (void) error_setf(-items[i].result, "package %s: %s", p->name,
                                                  items[i].error);
                        else
                                log_debug("package %s: %s", p->name, items[i].error);
                        reported = true;
                        continue;
                }
                free(p->local_path);
                p->local_path = TAKE_PTR(dests[i]);
        }
finish:
        for (size_t i = 0; i < l->n; i++)
                free(dests[i]);
        free(dests);
        return r;
}
