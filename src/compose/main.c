/* SPDX-License-Identifier: MIT */
/* berth-compose: the host-only half of the CLI behind `berth build` (and
 * `berth publish` later). It links libsolv, libarchive and libcurl; the `berth`
 * that ships in images links none of them. Usage: berth-compose build ... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "compose.h"
#include "log.h"
#include "macro.h"

static int cmd_build(int argc, char **argv) {
        ComposeOptions o = {};
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "cache", required_argument, NULL, 'c' },
                { "jobs", required_argument, NULL, 'j' },
                { "no-disk", no_argument, NULL, 'D' },
                { "bindir", required_argument, NULL, 'b' },
                { "verbose", no_argument, NULL, 'v' },
                {},
        };
        int c, r;
        while ((c = getopt_long(argc, argv, "o:c:j:Db:v", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        o.output_dir = optarg;
                        break;
                case 'c':
                        o.cache_dir = optarg;
                        break;
                case 'j':
                        r = cli_number_arg("jobs", optarg, 1, 64, &o.jobs);
                        if (r < 0)
                                return r;
                        break;
                case 'D':
                        o.no_disk = true;
                        break;
                case 'b':
                        o.berth_bindir = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_LEVEL_DEBUG);
                        break;
                default:
                        return cli_usage_error("usage: berth build [--output DIR] [--cache DIR] "
                                           "[--jobs N] [--no-disk] SPEC");
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("usage: berth build [--output DIR] [--cache DIR] [--jobs N] "
                                   "[--no-disk] SPEC");
        o.spec_path = argv[optind];
        return compose_image(&o);
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        if (argc >= 2 && streq(argv[1], "build")) {
                optind = 1;
                return cli_finish(cmd_build(argc - 1, argv + 1));
        }
        return cli_finish(cli_usage_error("usage: berth-compose build [OPTIONS] SPEC"));
}
