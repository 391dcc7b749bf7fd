/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a repository's Packages index as the composer reads it.
 * libsolv parses the stanzas (repo_add_debpackages); berth's own code then
 * turns solvables into packages (fill_package: the Filename safety check, the
 * SHA256, sizes) and re-reads the index for Priority, Section, Source and
 * sizes (read_extra_fields). The index is covered by the InRelease signature,
 * but its text is still whatever the repository's server generated.
 *
 * Every input is looked up by the names of its first few Package: fields,
 * then resolved with the first one as the request, as a spec would. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "repo.h"
#include "solve.h"
#include "strv.h"

#define MAX_NAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static _noreturn_ void fail(const Package *p, const char *what) {
        fprintf(stderr, "package %s %s: %s (url %s, filename %s, sha256 '%s')\n",
                p->name ?: "(null)", p->version ?: "(null)", what, p->url ?: "(null)",
                p->filename ?: "(null)", p->sha256);
        __builtin_trap();
}

/* What the rest of the composer relies on in a resolved package. */
static void check_list(const PackageList *l) {
        static const char base[] = "http://repo.invalid/debian/";
        for (size_t i = 0; l && i < l->n; i++) {
                const Package *p = &l->packages[i];
                size_t n = strlen(p->sha256);
                if (!p->name || !p->version || !p->architecture || !p->url || !p->filename ||
                    !p->origin || !p->wanted_by)
                        fail(p, "a field is missing");
                /* Fetch joins the URL from the Filename: it may not climb out
                 * of the repository, and the cache name has no directory. */
                if (!strneq(p->url, base, strlen(base)) || strstr(p->url + strlen(base), ".."))
                        fail(p, "URL outside the repository");
                if (isempty(p->filename) || strchr(p->filename, '/') || streq(p->filename, ".") ||
                    streq(p->filename, ".."))
                        fail(p, "not a file name for the cache");
                if (n != 0 && n != 64)
                        fail(p, "SHA256 neither empty nor 64 digits");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(package_list_freep) PackageList *found = NULL, *solved = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        /* The names to ask for: the values of the first Package: lines. */
        for (char *line = text; line && strv_length(names) < MAX_NAMES;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncasecmp(line, "Package:", 8) == 0) {
                        _cleanup_strv_free_ char **w = NULL;
                        if (strv_extend_words(&w, line + 8, false) < 0)
                                return 0;
                        if (w && strv_extend(&names, w[0]) < 0)
                                return 0;
                }
                line = next;
        }

        fd = memfd_create("Packages", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                __builtin_trap();
        path = strdup_printf("/proc/self/fd/%d", fd);
        if (!path)
                return 0;
        RepoIndex index = {
                .base_uri = (char *) "http://repo.invalid/debian",
                .suite = (char *) "stable",
                .component = (char *) "main",
                .packages_path = path,
                .origin = (char *) "Fuzz",
        };
        RepoSet set = { .indexes = &index, .n = 1 };

        if (names && solve_lookup(&set, "amd64", names, &found) >= 0)
                check_list(found);
        if (names) {
                char *include[] = { names[0], NULL };
                char *exclude[] = { (char *) "debconf", NULL };
                if (solve_packages(&set, "amd64", include, exclude, &solved) >= 0)
                        check_list(solved);
        }
        return 0;
}
