/* SPDX-License-Identifier: MIT */
/* berth: the one CLI. A table of verbs; each parses its own arguments and makes
 * one library call; only main prints errors. This binary ships in images, so
 * it links no host-only library: the host verbs (build, vm) run the helper
 * that holds them (berth-compose, berth-vm), found next to this binary, in
 * $BERTH_LIBEXECDIR, or in PATH. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "update.h"

static int help(void);

/* Replaces this process with the host helper NAME, passing argv on. */
static int exec_helper(const char *name, char **argv) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        const char *env = getenv("BERTH_LIBEXECDIR");
        _cleanup_free_ char *next = NULL, *in_env = NULL;

        if (n > 0) {
                self[n] = 0;
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        next = path_join(self, name);
                }
        }
        if (!isempty(env))
                in_env = path_join(env, name);
        const char *cands[] = { in_env, next };
        for (size_t i = 0; i < ELEMENTSOF(cands); i++)
                if (cands[i] && access(cands[i], X_OK) == 0) {
                        execv(cands[i], argv);
                        return error_wrapf(-errno, "cannot run %s", cands[i]);
                }
        execvp(name, argv);
        if (errno == ENOENT)
                return error_setf(ENOENT, "'berth %s' needs %s, which is not installed here "
                                          "(it is host-only and not part of images)",
                                  argv[1], name);
        return error_wrapf(-errno, "cannot run %s", name);
}

static int cmd_build(int argc, char **argv) {
        argv[-1] = (char *) "berth-compose";
        return exec_helper("berth-compose", argv - 1);
}

static int cmd_compose_helper(int argc, char **argv) {
        argv[-1] = (char *) "berth-compose";
        return exec_helper("berth-compose", argv - 1);
}

static int cmd_vm(int argc, char **argv) {
        argv[-1] = (char *) "berth-vm";
        return exec_helper("berth-vm", argv - 1);
}

#define UPDATE_USAGE                                                                               \
        "usage: berth update status|check|download|apply|mark-good|mark-bad VERSION [--disk PATH] "  \
        "[--state DIR] [--repo URL] [--channel NAME] [--root FILE] [--timeout SECONDS]"

static int cmd_update(int argc, char **argv) {
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
                {},
        };
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "d:s:r:c:R:C:e:t:", opts, NULL)) >= 0) {
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
                default:
                        return cli_usage_error(UPDATE_USAGE);
                }
        }
        if (optind >= argc)
                return cli_usage_error(UPDATE_USAGE);
        const char *verb = argv[optind];
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
                { "status", update_status },     { "check", update_check },
                { "download", update_download }, { "apply", update_apply },
                { "mark-good", update_mark_good },
        };
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verb, verbs[i].name))
                        return verbs[i].run(&o);
        return cli_usage_error("unknown update verb '%s'\n%s", verb, UPDATE_USAGE);
}

static int cmd_version(int argc, char **argv) {
        printf("berth %s\n", BERTH_VERSION);
        return 0;
}

static int cmd_help(int argc, char **argv) {
        return help();
}

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} verbs[] = {
        { "build", cmd_build, "compose an image from a spec (host only)" },
        { "keygen", cmd_compose_helper, "make update signing keys and root metadata (host only)" },
        { "publish", cmd_compose_helper, "add an image to an update repository (host only)" },
        { "update", cmd_update, "signed A/B updates: status, check, download, apply, mark-good" },
        { "vm", cmd_vm, "boot a composed image under QEMU (host only)" },
        { "version", cmd_version, "print the version" },
        { "help", cmd_help, "this text" },
};

static int help(void) {
        printf("usage: berth VERB [OPTIONS...]\n\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        return 0;
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        if (argc < 2) {
                help();
                return EXIT_CODE_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        /* Each verb sees argv[0] = its name; argv[-1] exists (the program). */
                        return cli_finish(verbs[i].run(argc - 1, argv + 1));
        return cli_finish(cli_usage_error("unknown verb '%s' (try 'berth help')", argv[1]));
}
