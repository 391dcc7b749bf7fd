/* SPDX-License-Identifier: MIT */
/* berth: the one CLI. A table of verbs; each parses its own arguments and makes
 * one library call. Only this file prints errors for the user. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "log.h"
#include "macro.h"
#include "vm.h"

static int help(void);

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
        int c;
        while ((c = getopt_long(argc, argv, "o:c:j:Db:v", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        o.output_dir = optarg;
                        break;
                case 'c':
                        o.cache_dir = optarg;
                        break;
                case 'j':
                        o.jobs = (unsigned) atoi(optarg);
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
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                log_error("usage: berth build [--output DIR] [--cache DIR] [--jobs N] SPEC");
                return -EINVAL;
        }
        o.spec_path = argv[optind];
        return compose_image(&o);
}

static int cmd_vm(int argc, char **argv) {
        VmOptions o = { .memory_mib = 1024, .cpus = 1 };
        static const struct option opts[] = {
                { "direct", no_argument, NULL, 'd' },
                { "log", required_argument, NULL, 'l' },
                { "payload", required_argument, NULL, 'p' },
                { "run", required_argument, NULL, 'r' },
                { "memory", required_argument, NULL, 'm' },
                { "cpus", required_argument, NULL, 'C' },
                { "timeout", required_argument, NULL, 't' },
                { "disk-copy", required_argument, NULL, 'k' },
                { "cmdline", required_argument, NULL, 'a' },
                { "no-reboot", no_argument, NULL, 'R' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "dl:p:r:m:C:t:k:a:R", opts, NULL)) >= 0) {
                switch (c) {
                case 'R':
                        o.no_reboot = true;
                        break;
                case 'd':
                        o.direct = true;
                        break;
                case 'l':
                        o.console_log = optarg;
                        break;
                case 'p':
                        o.payload_dir = optarg;
                        break;
                case 'r':
                        o.run = optarg;
                        break;
                case 'm':
                        o.memory_mib = (unsigned) atoi(optarg);
                        break;
                case 'C':
                        o.cpus = (unsigned) atoi(optarg);
                        break;
                case 't':
                        o.timeout_s = (unsigned) atoi(optarg);
                        break;
                case 'k':
                        o.disk_copy = optarg;
                        break;
                case 'a':
                        o.extra_cmdline = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                log_error("usage: berth vm [--direct] [--log FILE] [--payload DIR --run CMD] OUTDIR");
                return -EINVAL;
        }
        o.image_dir = argv[optind];
        return vm_run(&o);
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
        { "build", cmd_build, "compose an image from a spec" },
        { "vm", cmd_vm, "boot a composed image under QEMU" },
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
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        optind = 1;
                        int r = verbs[i].run(argc - 1, argv + 1);
                        /* A verb may return a status to pass on (berth vm: the payload's). */
                        return r < 0 ? EXIT_FAILURE : MIN(r, 255);
                }
        log_error("unknown verb '%s' (try 'berth help')", argv[1]);
        return EXIT_FAILURE;
}
