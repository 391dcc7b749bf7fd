/* SPDX-License-Identifier: MIT */
/* berth-update: the update agent behind `berth update` (docs/updates.md). A
 * helper of its own so that `berth` itself links libc only; this one links
 * libssl (berth's own HTTP client), libcryptsetup, libfdisk and OpenSSL's
 * libcrypto, and ships in images. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "rebootlock.h"
#include "update.h"

#define UPDATE_USAGE                                                                               \
        "usage: berth update status|check|download|apply|mark-good|mark-bad "                      \
        "VERSION|service|periodic "                                                                \
        "[--disk PATH] [--state DIR] [--repo URL] [--channel NAME] [--root FILE] "                 \
        "[--timeout SECONDS] [--reboot] [--full]\n"                                                \
        "       berth update lock status|take|release [ID]|renew [--etcd URL[,URL...]] [--group "  \
        "NAME] "                                                                                   \
        "[--id ID] [--max N] [--ttl SECONDS] [--wait SECONDS] [--state DIR]"

static int run(int argc, char **argv) {
        UpdateOptions o = {};
        static const struct option opts[] = {
                { "disk", required_argument, NULL, 'd' },
                { "state", required_argument, NULL, 's' },
                { "repo", required_argument, NULL, 'r' },
                { "channel", required_argument, NULL, 'c' },
                { "root", required_argument, NULL, 'R' },
                { "config", required_argument, NULL, 'C' },
                { "esp", required_argument, NULL, 'e' },
                { "timeout", required_argument, NULL, 't' },
                { "reboot", no_argument, NULL, 'B' },
                { "full", no_argument, NULL, 'F' },
                { "services", required_argument, NULL, 'S' },
                { "etcd", required_argument, NULL, 'E' },
                { "group", required_argument, NULL, 'G' },
                { "id", required_argument, NULL, 'I' },
                { "max", required_argument, NULL, 'M' },
                { "wait", required_argument, NULL, 'W' },
                { "poll-max", required_argument, NULL, 'P' },
                { "ttl", required_argument, NULL, 'L' },
                {},
        };
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "d:s:r:c:R:C:e:t:BFS:E:G:I:M:W:P:L:", opts, NULL)) >=
               0) {
                switch (c) {
                case 'd':
                        o.disk = optarg;
                        break;
                case 's':
                        o.state_dir = optarg;
                        break;
                case 'r':
                        o.repo_url = optarg;
                        break;
                case 'c':
                        o.channel = optarg;
                        break;
                case 'R':
                        o.root_path = optarg;
                        break;
                case 'C':
                        o.config_dir = optarg;
                        break;
                case 'e':
                        o.esp_dir = optarg;
                        break;
                case 't':
                        r = cli_number_arg("timeout", optarg, 1, 3600, &o.timeout);
                        if (r < 0)
                                return r;
                        break;
                case 'B':
                        o.reboot = true;
                        break;
                case 'F':
                        o.full = true;
                        break;
                case 'S':
                        o.services_dir = optarg;
                        break;
                case 'E':
                        o.etcd = optarg;
                        break;
                case 'G':
                        if (!reboot_lock_id_is_valid(optarg))
                                return cli_usage_error("--group %s: not a name of [A-Za-z0-9._:-]",
                                                       optarg);
                        o.group = optarg;
                        break;
                case 'I':
                        if (!reboot_lock_id_is_valid(optarg))
                                return cli_usage_error("--id %s: not a holder ID ([A-Za-z0-9._:-])",
                                                       optarg);
                        o.lock_id = optarg;
                        break;
                case 'M':
                        r = cli_number_arg("max", optarg, 1, REBOOT_LOCK_MAX_LIMIT, &o.lock_max);
                        if (r < 0)
                                return r;
                        break;
                case 'W':
                        r = cli_number_arg("wait", optarg, 0, 86400, &o.wait);
                        if (r < 0)
                                return r;
                        break;
                case 'P':
                        r = cli_number_arg("poll-max", optarg, 1, 3600, &o.poll_max);
                        if (r < 0)
                                return r;
                        break;
                case 'L':
                        r = cli_number_arg("ttl", optarg, 0, REBOOT_LOCK_LEASE_TTL_MAX,
                                           &o.lock_ttl);
                        if (r < 0)
                                return r;
                        o.lock_ttl_set = true;
                        break;
                default:
                        return cli_usage_error(UPDATE_USAGE);
                }
        }
        if (optind >= argc)
                return cli_usage_error(UPDATE_USAGE);
        const char *verb = argv[optind];
        if (streq(verb, "lock")) {
                if (optind + 2 > argc || optind + 3 < argc ||
                    (optind + 3 == argc && !streq(argv[optind + 1], "release")))
                        return cli_usage_error(UPDATE_USAGE);
                if (!streq(argv[optind + 1], "status") && !streq(argv[optind + 1], "take") &&
                    !streq(argv[optind + 1], "release") && !streq(argv[optind + 1], "renew"))
                        return cli_usage_error(
                                "unknown lock verb '%s' (status, take, release, renew)",
                                argv[optind + 1]);
                if (argv[optind + 2] && !reboot_lock_id_is_valid(argv[optind + 2]))
                        return cli_usage_error("holder ID '%s': not of [A-Za-z0-9._:-]",
                                               argv[optind + 2]);
                return update_lock(&o, argv[optind + 1], argv[optind + 2]);
        }
        if (streq(verb, "mark-bad")) {
                if (optind + 2 != argc)
                        return cli_usage_error(UPDATE_USAGE);
                return update_mark_bad(&o, argv[optind + 1]);
        }
        if (optind + 1 != argc)
                return cli_usage_error(UPDATE_USAGE);
        static const struct {
                const char *name;
                int (*run)(const UpdateOptions *o);
        } verbs[] = {
                { "status", update_status },       { "check", update_check },
                { "download", update_download },   { "apply", update_apply },
                { "mark-good", update_mark_good }, { "service", update_service },
                { "periodic", update_periodic },
        };
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verb, verbs[i].name))
                        return verbs[i].run(&o);
        return cli_usage_error("unknown update verb '%s' (status, check, download, apply, "
                               "mark-good, mark-bad, service, periodic, lock)",
                               verb);
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        /* argv[0] "berth-update", argv[1] "update", then the verb. */
        if (argc < 2 || !streq(argv[1], "update"))
                return cli_finish(cli_usage_error(UPDATE_USAGE));
        return cli_finish(run(argc - 1, argv + 1));
}
