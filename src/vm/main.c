/* SPDX-License-Identifier: MIT */
/* berth-vm: the QEMU runner behind `berth vm`, host only (images do not ship
 * it). Usage: berth-vm vm [OPTIONS] OUTDIR */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "vm.h"

#define VM_USAGE                                                                                   \
        "usage: berth vm [--direct] [--secure-boot [--setup-mode]] [--tpm] [--log FILE] "          \
        "[--payload DIR --run CMD] [--user-data FILE] "                                            \
        "[--cidata FILE|DIR [--cidata-fs vfat|iso9660]] [--api PATH] OUTDIR"

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
                { "qmp", required_argument, NULL, 'Q' },
                { "user-data", required_argument, NULL, 'U' },
                { "cidata", required_argument, NULL, 'c' },
                { "cidata-fs", required_argument, NULL, 'F' },
                { "api", required_argument, NULL, 'A' },
                { "secure-boot", no_argument, NULL, 'S' },
                { "tpm", no_argument, NULL, 'T' },
                { "setup-mode", no_argument, NULL, 'E' },
                {},
        };
        int c, r;
        while ((c = getopt_long(argc, argv, "dl:p:r:m:C:t:k:a:RQ:U:c:F:A:STE", opts, NULL)) >= 0) {
                switch (c) {
                case 'R':
                        o.no_reboot = true;
                        break;
                case 'Q':
                        o.qmp_socket = optarg;
                        break;
                case 'U':
                        o.user_data = optarg;
                        break;
                case 'c':
                        o.cidata = optarg;
                        break;
                case 'F':
                        o.cidata_fs = cidata_fs_from_string(optarg);
                        if (o.cidata_fs < 0)
                                return cli_usage_error("--cidata-fs: vfat or iso9660, not '%s'",
                                                       optarg);
                        break;
                case 'A':
                        o.api_socket = optarg;
                        break;
                case 'd':
                        o.direct = true;
                        break;
                case 'S':
                        o.secure_boot = true;
                        break;
                case 'T':
                        o.tpm = true;
                        break;
                case 'E':
                        o.setup_mode = true;
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
                        r = cli_number_arg("memory", optarg, 128, 1024 * 1024, &o.memory_mib);
                        if (r < 0)
                                return r;
                        break;
                case 'C':
                        r = cli_number_arg("cpus", optarg, 1, 64, &o.cpus);
                        if (r < 0)
                                return r;
                        break;
                case 't':
                        r = cli_number_arg("timeout", optarg, 0, 7 * 24 * 3600, &o.timeout_s);
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
                        return cli_usage_error(VM_USAGE);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(VM_USAGE);
        o.image_dir = argv[optind];
        return vm_run(&o);
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        if (argc >= 2 && streq(argv[1], "vm")) {
                optind = 1;
                return cli_finish(cmd_vm(argc - 1, argv + 1));
        }
        return cli_finish(cli_usage_error("usage: berth-vm vm [OPTIONS] OUTDIR"));
}
