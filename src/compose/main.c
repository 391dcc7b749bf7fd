/* SPDX-License-Identifier: MIT */
/* berth-compose: the host-only half of the CLI behind `berth build`,
 * `berth keygen` and `berth publish`. It links libsolv, libarchive and libssl; the `berth`
 * that ships in images links none of them. Usage: berth-compose build ... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "compose.h"
#include "log.h"
#include "macro.h"
#include "publish.h"
#include "secureboot.h"

#define BUILD_USAGE                                                                                \
        "usage: berth build [--output DIR] [--cache DIR] [--jobs N] [--no-disk] "                  \
        "[--secure-boot-keys DIR] SPEC"

static int cmd_build(int argc, char **argv) {
        ComposeOptions o = {};
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "cache", required_argument, NULL, 'c' },
                { "jobs", required_argument, NULL, 'j' },
                { "no-disk", no_argument, NULL, 'D' },
                { "bindir", required_argument, NULL, 'b' },
                { "verbose", no_argument, NULL, 'v' },
                { "secure-boot-keys", required_argument, NULL, 'S' },
                {},
        };
        int c, r;
        while ((c = getopt_long(argc, argv, "o:c:j:Db:vS:", opts, NULL)) >= 0) {
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
                case 'S':
                        o.secure_boot_keys = optarg;
                        break;
                default:
                        return cli_usage_error(BUILD_USAGE);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(BUILD_USAGE);
        o.spec_path = argv[optind];
        return compose_image(&o);
}

#define KEYGEN_USAGE                                                                               \
        "usage: berth keygen --output DIR [--threshold N] [--expires DAYS] [--rotate OLDDIR]\n"    \
        "       berth keygen --secure-boot --output DIR"

static int cmd_keygen(int argc, char **argv) {
        KeygenOptions o = {};
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "threshold", required_argument, NULL, 't' },
                { "expires", required_argument, NULL, 'e' },
                { "rotate", required_argument, NULL, 'R' },
                { "secure-boot", no_argument, NULL, 'S' },
                {},
        };
        bool secure_boot = false;
        int c, r;
        while ((c = getopt_long(argc, argv, "o:t:e:R:", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        o.output_dir = optarg;
                        break;
                case 't':
                        r = cli_number_arg("threshold", optarg, 1, 8, &o.threshold);
                        if (r < 0)
                                return r;
                        break;
                case 'e':
                        r = cli_number_arg("expires", optarg, 1, 3650, &o.expires_days);
                        if (r < 0)
                                return r;
                        break;
                case 'R':
                        o.rotate_from = optarg;
                        break;
                case 'S':
                        secure_boot = true;
                        break;
                default:
                        return cli_usage_error(KEYGEN_USAGE);
                }
        }
        if (optind != argc || !o.output_dir)
                return cli_usage_error(KEYGEN_USAGE);
        if (secure_boot) {
                if (o.threshold || o.expires_days || o.rotate_from)
                        return cli_usage_error("keygen: --secure-boot takes only --output");
                return secureboot_keygen(o.output_dir, "berth");
        }
        return publish_keygen(&o);
}

#define PUBLISH_USAGE                                                                              \
        "usage: berth publish --repo DIR --key DIR [--channel NAME] [--expires DAYS]\n"            \
        "                     [--patch-bases N] [--patch-level N] IMAGEDIR"

static int cmd_publish(int argc, char **argv) {
        PublishOptions o = { .expires_days = 30, .patch_bases = PUBLISH_PATCH_BASES };
        unsigned level = 0;
        static const struct option opts[] = {
                { "repo", required_argument, NULL, 'r' },
                { "key", required_argument, NULL, 'k' },
                { "channel", required_argument, NULL, 'c' },
                { "expires", required_argument, NULL, 'e' },
                { "patch-bases", required_argument, NULL, 'P' },
                { "patch-level", required_argument, NULL, 'L' },
                {},
        };
        int c, r;
        while ((c = getopt_long(argc, argv, "r:k:c:e:", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        o.repo_dir = optarg;
                        break;
                case 'k':
                        o.key_dir = optarg;
                        break;
                case 'c':
                        o.channel = optarg;
                        break;
                case 'e':
                        r = cli_number_arg("expires", optarg, 0, 3650, &o.expires_days);
                        if (r < 0)
                                return r;
                        break;
                case 'P':
                        r = cli_number_arg("patch-bases", optarg, 0, 16, &o.patch_bases);
                        if (r < 0)
                                return r;
                        break;
                case 'L':
                        r = cli_number_arg("patch-level", optarg, 1, 19, &level);
                        if (r < 0)
                                return r;
                        o.patch_level = (int) level;
                        break;
                default:
                        return cli_usage_error(PUBLISH_USAGE);
                }
        }
        if (optind != argc - 1 || !o.repo_dir || !o.key_dir)
                return cli_usage_error(PUBLISH_USAGE);
        /* Tests publish many releases: a cheaper level from the environment. */
        const char *env = getenv("BERTH_PATCH_LEVEL");
        if (o.patch_level == 0 && env) {
                r = cli_number_arg("BERTH_PATCH_LEVEL", env, 1, 19, &level);
                if (r < 0)
                        return r;
                o.patch_level = (int) level;
        }
        if (o.channel &&
            (isempty(o.channel) ||
             strspn(o.channel, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(o.channel)))
                return cli_usage_error("--channel: expected [a-z0-9-]+, got '%s'", o.channel);
        o.image_dir = argv[optind];
        return publish_image(&o);
}

int main(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } verbs[] = {
                { "build", cmd_build },
                { "keygen", cmd_keygen },
                { "publish", cmd_publish },
        };
        log_set_prefix("berth");
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        optind = 1;
                        return cli_finish(verbs[i].run(argc - 1, argv + 1));
                }
        return cli_finish(cli_usage_error("usage: berth-compose build|keygen|publish [OPTIONS]"));
}
