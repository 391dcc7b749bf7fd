/* SPDX-License-Identifier: MIT */
#include "package.h"

#include <string.h>

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

PackageList *package_list_free(PackageList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                package_done(&l->packages[i]);
        free(l->packages);
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
