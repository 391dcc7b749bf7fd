/* SPDX-License-Identifier: MIT */
/* repo-tool: a test driver for repo, solve and fetch.
 *
 *   repo-tool [--no-check-valid-until] [--keyring K] [--exclude a,b] [--fetch]
 *             [--apt-root DIR] CACHE_DIR [URI SUITE[,SUITE] COMPONENT] PKG...
 *
 * With --apt-root the sources come from that root's apt configuration (as
 * `berth build` does without [Source]) and URI SUITE COMPONENT are left out.
 * Prints one line per resolved package: name version arch size wanted_by url. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "aptsrc.h"
#include "fetch.h"
#include "error.h"
#include "log.h"
#include "repo.h"
#include "solve.h"
#include "strv.h"

/* Like berth's main: the library's one message, printed once. */
static int fail(int r) {
        log_error("%s", error_message(r));
        return 1;
}

int main(int argc, char **argv) {
        _cleanup_(repo_set_freep) RepoSet *repos = NULL;
        _cleanup_(package_list_freep) PackageList *l = NULL;
        _cleanup_(apt_config_freep) AptConfig *apt = NULL;
        _cleanup_strv_free_ char **exclude = NULL, **suites = NULL, **comps = NULL;
        const char *keyring = NULL, *apt_root = NULL;
        bool check_valid_until = true, do_fetch = false, check_set = false;
        int r, c;

        static const struct option opts[] = {
                { "no-check-valid-until", no_argument, NULL, 'n' },
                { "keyring", required_argument, NULL, 'k' },
                { "exclude", required_argument, NULL, 'x' },
                { "fetch", no_argument, NULL, 'f' },
                { "apt-root", required_argument, NULL, 'a' },
                { "debug", no_argument, NULL, 'd' },
                {},
        };
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'n':
                        check_valid_until = false;
                        check_set = true;
                        break;
                case 'k':
                        keyring = optarg;
                        break;
                case 'x':
                        if (strv_extend_words(&exclude, optarg, true) < 0)
                                return 1;
                        break;
                case 'f':
                        do_fetch = true;
                        break;
                case 'a':
                        apt_root = optarg;
                        break;
                case 'd':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                default:
                        return 2;
                }
        if (optind >= argc)
                return 2;
        const char *cache = argv[optind++];

        if (apt_root) {
                r = apt_config_load_for_arch(apt_root, "amd64", &apt);
                if (r < 0)
                        return fail(r);
                r = repo_set_load(apt->sources, apt->n_sources, "amd64",
                                  check_set ? check_valid_until : apt->check_valid_until, cache,
                                  &repos);
        } else {
                if (argc - optind < 3)
                        return 2;
                const char *uri = argv[optind++];
                if (strv_extend_words(&suites, argv[optind++], true) < 0 ||
                    strv_extend_words(&comps, argv[optind++], true) < 0)
                        return 1;
                SpecSource src = { .uri = (char *) uri,
                                   .suites = suites,
                                   .components = comps,
                                   .signed_by = (char *) keyring };
                r = repo_set_load(&src, 1, "amd64", check_valid_until, cache, &repos);
        }
        if (r < 0)
                return fail(r);

        r = solve_packages(repos, "amd64", argv + optind, exclude, &l);
        if (r < 0)
                return fail(r);
        if (do_fetch) {
                r = package_list_fetch(l, cache, 4);
                if (r < 0)
                        return fail(r);
        }
        uint64_t total = 0;
        for (size_t i = 0; i < l->n; i++) {
                const Package *p = &l->packages[i];
                printf("%s %s %s %" PRIu64 " %s %s\n", p->name, p->version, p->architecture,
                       p->size, p->wanted_by, p->url);
                total += p->size;
        }
        printf("total %zu packages, %" PRIu64 " bytes\n", l->n, total);
        return 0;
}
