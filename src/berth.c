/* SPDX-License-Identifier: MIT */
/* berth: the one CLI. A table of verbs; each parses its own arguments and makes
 * one library call; only main prints errors. This binary ships in images, so
 * it links libc only: verbs that need outside libraries run the helper that
 * holds them, found next to this binary, in $BERTH_LIBEXECDIR, or in PATH:
 * the host-only berth-compose (build, keygen, publish) and berth-vm (vm), and
 * berth-update (update), which ships in images too. */
#include <errno.h>
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
                return error_setf(ENOENT, "'berth %s' needs %s, which is not installed here%s",
                                  argv[1], name,
                                  streq(name, "berth-update") ? "" :
                                  " (it is host-only and not part of images)");
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

static int cmd_update(int argc, char **argv) {
        argv[-1] = (char *) "berth-update";
        return exec_helper("berth-update", argv - 1);
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
