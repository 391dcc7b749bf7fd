/* SPDX-License-Identifier: MIT */
/* berth: the one CLI. A table of verbs; each parses its own arguments and makes
 * one library call. Only this file prints errors for the user. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "error.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "vm.h"

/* A verb's usage errors: the message, and exit code 64 (EXIT_CODE_USAGE). */
#define USAGE_ERROR 1000

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        (void) error_setf(USAGE_ERROR, "%s", buf);
        return -USAGE_ERROR;
}

/* A number option: digits only, within [min, max]. */
static int number_arg(const char *opt, const char *arg, unsigned min, unsigned max,
                      unsigned *ret) {
        if (parse_unsigned_range(arg, min, max, ret) < 0)
                return usage_error("--%s: '%s' is not a number from %u to %u", opt, arg, min, max);
        return 0;
}

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
                        r = number_arg("jobs", optarg, 1, 64, &o.jobs);
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
                        return usage_error("usage: berth build [--output DIR] [--cache DIR] "
                                           "[--jobs N] [--no-disk] SPEC");
                }
        }
        if (optind != argc - 1)
                return usage_error("usage: berth build [--output DIR] [--cache DIR] [--jobs N] "
                                   "[--no-disk] SPEC");
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
        int c, r;
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
                        r = number_arg("memory", optarg, 128, 1024 * 1024, &o.memory_mib);
                        if (r < 0)
                                return r;
                        break;
                case 'C':
                        r = number_arg("cpus", optarg, 1, 64, &o.cpus);
                        if (r < 0)
                                return r;
                        break;
                case 't':
                        r = number_arg("timeout", optarg, 0, 7 * 24 * 3600, &o.timeout_s);
                        if (r < 0)
                                return r;
                        break;
                case 'k':
                        o.disk_copy = optarg;
                        break;
                case 'a':
                        o.extra_cmdline = optarg;
                        break;
                default:
                        return usage_error("usage: berth vm [--direct] [--log FILE] "
                                           "[--payload DIR --run CMD] OUTDIR");
                }
        }
        if (optind != argc - 1)
                return usage_error("usage: berth vm [--direct] [--log FILE] "
                                   "[--payload DIR --run CMD] OUTDIR");
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

/* The one place berth prints an error: the message the library left, once,
 * and an exit code a script can tell apart (docs/errors.md). */
static int finish(int r) {
        if (r >= 0)
                /* A verb may return a status to pass on (berth vm: the payload's). */
                return MIN(r, 255);
        if (r == -USAGE_ERROR) {
                log_error("%s", error_message(r));
                return EXIT_CODE_USAGE;
        }
        log_error("%s", error_message(r));
        return error_exit_code(r);
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        if (argc < 2) {
                help();
                return EXIT_CODE_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        optind = 1;
                        /* getopt's own complaints already name the option. */
                        opterr = 1;
                        return finish(verbs[i].run(argc - 1, argv + 1));
                }
        return finish(usage_error("unknown verb '%s' (try 'berth help')", argv[1]));
}
