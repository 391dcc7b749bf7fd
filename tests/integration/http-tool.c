/* SPDX-License-Identifier: MIT */
/* http-tool: a test driver for berth's download path (fetch.h on
 * http-client.h), as the composer and the update agent use it.
 *
 *   http-tool [--timeout S] [--jobs N] [--sha256 HEX] [--size N] URL DEST [URL DEST]...
 *
 * --sha256 and --size apply to the pair that follows them. Prints
 * "ok DEST" per file, or the item's one error line; exits 1 on any error. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "log.h"
#include "macro.h"

int main(int argc, char **argv) {
        FetchItem items[16] = {};
        const char *sha = NULL;
        uint64_t size = 0;
        unsigned timeout = 0, jobs = 1;
        size_t n = 0;
        int c, r, rc = 0;

        static const struct option opts[] = {
                { "timeout", required_argument, NULL, 't' },
                { "jobs", required_argument, NULL, 'j' },
                { "sha256", required_argument, NULL, 's' },
                { "size", required_argument, NULL, 'z' },
                {},
        };
        /* "+": options stop at the first URL; the loop below resumes. */
        for (optind = 1; optind < argc;) {
                c = getopt_long(argc, argv, "+", opts, NULL);
                switch (c) {
                case 't':
                        timeout = (unsigned) atoi(optarg);
                        continue;
                case 'j':
                        jobs = (unsigned) atoi(optarg);
                        continue;
                case 's':
                        sha = optarg;
                        continue;
                case 'z':
                        size = strtoull(optarg, NULL, 10);
                        continue;
                case -1:
                        break;
                default:
                        return 2;
                }
                if (optind + 2 > argc || n >= ELEMENTSOF(items)) {
                        fprintf(stderr, "usage: http-tool [--timeout S] [--jobs N] [--sha256 HEX] "
                                        "[--size N] URL DEST...\n");
                        return 2;
                }
                items[n++] = (FetchItem){ .url = argv[optind],
                                          .dest = argv[optind + 1],
                                          .sha256 = sha,
                                          .size = size,
                                          .stall_timeout = timeout };
                sha = NULL;
                size = 0;
                optind += 2;
        }
        log_set_prefix("http-tool");
        r = fetch_many(items, n, jobs);
        for (size_t i = 0; i < n; i++)
                if (items[i].result < 0) {
                        fprintf(stderr, "error: %s\n", items[i].error);
                        rc = 1;
                } else
                        printf("ok %s\n", items[i].dest);
        return r < 0 || rc ? 1 : 0;
}
