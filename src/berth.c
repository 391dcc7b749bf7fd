/* SPDX-License-Identifier: MIT */
/* berth: the one CLI. A table of verbs; each parses its own arguments and makes
 * one library call; only main prints errors. This binary ships in images, so
 * it links libc only: verbs that need outside libraries run the helper that
 * holds them, found next to this binary, in $BERTH_LIBEXECDIR, or in PATH:
 * the host-only berth-compose (build, keygen, publish) and berth-vm (vm), and
 * berth-update (update), which ships in images too, as
 * /usr/lib/berth/berth-update (searched after those two). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api-client.h"
#include "audit.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "initctl.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

static int help(void);

/* Replaces this process with the helper NAME, passing argv (argv[0] = the
 * verb) on as NAME VERB ARGS...; argv[-1] exists (this program's name). */
static int exec_helper(const char *name, char **argv) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        const char *env = getenv("BERTH_LIBEXECDIR");
        _cleanup_free_ char *next = NULL, *in_env = NULL;
        _cleanup_free_ char *in_image = path_join("/usr/lib/berth", name);

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
        argv--;
        argv[0] = (char *) name;
        const char *cands[] = { in_env, next, in_image };
        for (size_t i = 0; i < ELEMENTSOF(cands); i++)
                if (cands[i] && access(cands[i], X_OK) == 0) {
                        execv(cands[i], argv);
                        return error_wrapf(-errno, "cannot run %s", cands[i]);
                }
        execvp(name, argv);
        if (errno == ENOENT)
                return error_setf(
                        ENOENT, "'berth %s' needs %s, which is not installed here%s", argv[1], name,
                        streq(name, "berth-update") ? ""
                                                    : " (it is host-only and not part of images)");
        return error_wrapf(-errno, "cannot run %s", name);
}

static void print_status(const ServiceStatus *st, bool table) {
        char ready[32] = "-", last[32] = "-";
        if (st->ready_usec > 0)
                snprintf(ready, sizeof ready, "%.3f", (double) st->ready_usec / 1e6);
        if (st->exit_signal > 0)
                snprintf(last, sizeof last, "SIG%s", sigabbrev_np(st->exit_signal) ?: "?");
        else if (st->exit_status >= 0)
                snprintf(last, sizeof last, "status %d", st->exit_status);
        if (table)
                printf("%-20s %-11s %8d %8u %10s  %s\n", st->name, st->state, st->pid, st->restarts,
                       ready, last);
        else
                printf("name: %s\nstate: %s\npid: %d\nrestarts: %u\nready at: %s%s\n"
                       "last exit: %s\n",
                       st->name, st->state, st->pid, st->restarts, ready,
                       st->ready_usec > 0 ? " s uptime" : "", last);
}

static int service_list(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        int r;

        if (!d)
                return error_wrapf(-errno, "cannot read %s (is berth-init PID 1?)", dir);
        while ((de = readdir(d)))
                if (service_name_is_valid(de->d_name) && strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        strv_sort(names);
        printf("%-20s %-11s %8s %8s %10s  %s\n", "SERVICE", "STATE", "PID", "RESTARTS", "READY AT",
               "LAST EXIT");
        STRV_FOREACH(n, names) {
                ServiceStatus st;
                r = service_status_read(dir, *n, &st);
                if (r < 0)
                        return error_wrapf(r, "%s/%s: cannot read the status", dir, *n);
                print_status(&st, true);
        }
        return 0;
}

/* PID 1's "error ..." reply as an error a script can tell apart. */
static int refused(const char *why) {
        int code = strneq(why, "no such service", 15)                       ? ENOENT
                   : strneq(why, "busy", 4) || strstr(why, "shutting down") ? EBUSY
                   : strneq(why, "permission", 10)                          ? EACCES
                                                                            : EINVAL;
        return error_setf(code, "berth-init: %s", why);
}

static int cmd_service(int argc, char **argv) {
        static const struct option opts[] = {
                { "run-dir", required_argument, NULL, 'r' },
                {},
        };
        const char *run_dir = INITCTL_RUN_DIR;
        _cleanup_free_ char *status_dir = NULL, *sock = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0) {
                if (c != 'r')
                        return cli_usage_error(
                                "usage: berth service [--run-dir DIR] [status [NAME] | "
                                "start|stop|restart NAME]");
                run_dir = optarg;
        }
        argc -= optind;
        argv += optind;
        status_dir = path_join(run_dir, "services");
        sock = path_join(run_dir, "init.sock");
        if (!status_dir || !sock)
                return -ENOMEM;

        if (argc == 0 || (argc == 1 && streq(argv[0], "status")))
                return service_list(status_dir);
        if (argc == 2 && streq(argv[0], "status")) {
                ServiceStatus st;
                if (!service_name_is_valid(argv[1]))
                        return cli_usage_error("'%s' is not a service name", argv[1]);
                r = service_status_read(status_dir, argv[1], &st);
                if (r == -ENOENT)
                        return error_setf(ENOENT, "no service %s", argv[1]);
                if (r < 0)
                        return error_wrapf(r, "%s/%s: cannot read the status", status_dir, argv[1]);
                print_status(&st, false);
                return 0;
        }
        InitCtlVerb verb = argc == 2 ? initctl_verb_from_string(argv[0]) : _INITCTL_VERB_INVALID;
        if (verb < 0)
                return cli_usage_error(
                        "usage: berth service [status [NAME] | start NAME | stop NAME | "
                        "restart NAME]");
        if (!service_name_is_valid(argv[1]))
                return cli_usage_error("'%s' is not a service name", argv[1]);

        char reply[INITCTL_REPLY_MAX];
        r = initctl_request(sock, verb, argv[1], 10000, reply, sizeof reply);
        if (r == -EBADR)
                return refused(reply + strcspn(reply, " ") + (reply[strcspn(reply, " ")] ? 1 : 0));
        if (r < 0)
                return error_wrapf(r, "cannot talk to berth-init on %s", sock);
        printf("%s\n", reply + strcspn(reply, " ") + (reply[strcspn(reply, " ")] ? 1 : 0));
        return 0;
}

/* The API socket: --api PATH, else $BERTH_API, else /run/berth/api.sock. */
static const char *api_socket(const char *opt) {
        const char *env = getenv("BERTH_API");
        return opt ?: !isempty(env) ? env : API_SOCKET;
}

/* One request; prints the JSON answer (on success, unless quiet) and turns
 * an error answer into the error object. */
static int api_call(const char *sock, const char *method, const char *path, const char *body,
                    bool quiet) {
        _cleanup_free_ char *answer = NULL, *msg = NULL;
        int status;

        status = api_request(sock, method, path, body, 300, &answer);
        if (status < 0)
                return status;
        if (status >= 300) {
                msg = api_error_message(answer);
                return error_setf(-api_status_to_errno(status), "%s",
                                  msg ?: "the berth API answered an error without a message");
        }
        if (!quiet)
                fputs(answer, stdout);
        if (!quiet && answer[0] && answer[strlen(answer) - 1] != '\n')
                putchar('\n');
        return 0;
}

/* Parses --api PATH for the API verbs; returns the index of the first operand. */
static int api_options(int argc, char **argv, const char **ret_sock, const char *usage) {
        static const struct option opts[] = {
                { "api", required_argument, NULL, 'a' },
                {},
        };
        const char *sock = NULL;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0) {
                if (c != 'a')
                        return cli_usage_error("%s", usage);
                sock = optarg;
        }
        *ret_sock = api_socket(sock);
        return optind;
}

static int cmd_status(int argc, char **argv) {
        const char *sock;
        int i = api_options(argc, argv, &sock, "usage: berth status [--api PATH]");

        if (i < 0)
                return i;
        if (i != argc)
                return cli_usage_error("usage: berth status [--api PATH]");
        return api_call(sock, "GET", "/v1/status", NULL, false);
}

static int cmd_settings(int argc, char **argv) {
        static const char usage[] = "usage: berth settings [--api PATH] get | set KEY=VALUE... | "
                                    "commit | apply | revert | discard";
        const char *sock;
        int i = api_options(argc, argv, &sock, usage), r;

        if (i < 0)
                return i;
        argc -= i;
        argv += i;
        if (argc == 1 && streq(argv[0], "get"))
                return api_call(sock, "GET", "/v1/settings", NULL, false);
        if (argc >= 2 && streq(argv[0], "set")) {
                for (int k = 1; k < argc; k++) {
                        _cleanup_free_ char *key = NULL, *patch = NULL;
                        const char *eq = strchr(argv[k], '=');

                        if (!eq || eq == argv[k])
                                return cli_usage_error("'%s' is not KEY=VALUE", argv[k]);
                        key = strndup(argv[k], eq - argv[k]);
                        if (!key)
                                return -ENOMEM;
                        r = api_patch_for(key, eq + 1, &patch);
                        if (r < 0)
                                return r == -EINVAL ? cli_usage_error("%s", error_message(r)) : r;
                        r = api_call(sock, "PATCH", "/v1/settings", patch, k + 1 < argc);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (argc == 1 && (streq(argv[0], "commit") || streq(argv[0], "apply") ||
                          streq(argv[0], "revert") || streq(argv[0], "discard"))) {
                _cleanup_free_ char *path = strdup_printf("/v1/settings/%s", argv[0]);
                return path ? api_call(sock, "POST", path, NULL, false) : -ENOMEM;
        }
        return cli_usage_error("%s", usage);
}

/* The short forms: berth get | set KEY=VALUE... (a transaction of its own:
 * patched and committed) | apply | revert (back to the previous generation
 * and applied) (docs/api.md, "The CLI"). */
static int cmd_settings_short(int argc, char **argv) {
        _cleanup_free_ char **args = calloc(argc + 2, sizeof(char *));
        const char *verb = argv[0], *sock;
        int i, n = 0, r;

        if (!args)
                return -ENOMEM;
        i = api_options(argc, argv, &sock,
                        "usage: berth get | set KEY=VALUE... | apply | revert "
                        "[--api PATH]");
        if (i < 0)
                return i;
        /* cmd_settings takes the socket from the environment then. */
        if (setenv("BERTH_API", sock, 1) < 0)
                return -errno;
        args[n++] = (char *) "settings";
        args[n++] = (char *) verb;
        for (; i < argc; i++)
                args[n++] = argv[i];
        r = cmd_settings(n, args);
        if (r < 0 || (!streq(verb, "set") && !streq(verb, "revert")))
                return r;
        args[1] = (char *) (streq(verb, "set") ? "commit" : "apply");
        args[2] = NULL;
        return cmd_settings(2, args);
}

static int cmd_power(int argc, char **argv) {
        _cleanup_free_ char *usage = strdup_printf("usage: berth %s [--api PATH]", argv[0]);
        _cleanup_free_ char *path = strdup_printf("/v1/%s", argv[0]);
        const char *sock;
        int i;

        if (!usage || !path)
                return -ENOMEM;
        i = api_options(argc, argv, &sock, usage);
        if (i < 0)
                return i;
        if (i != argc)
                return cli_usage_error("%s", usage);
        return api_call(sock, "POST", path, NULL, false);
}

/* berth audit [--json] [--root DIR] [--api PATH]: the CIS checks on this
 * node (src/audit), or through the node API. Exit status 1 when a check
 * fails, so a script or a fleet tool needs no parsing for the verdict. */
static int cmd_audit(int argc, char **argv) {
        static const char usage[] = "usage: berth audit [--json] [--root DIR] [--api PATH]";
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "root", required_argument, NULL, 'r' },
                { "api", required_argument, NULL, 'a' },
                {},
        };
        _cleanup_free_ AuditOutcome *out = NULL;
        const char *root = "/", *sock = NULL;
        bool json = false;
        size_t n;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) >= 0)
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'r':
                        root = optarg;
                        break;
                case 'a':
                        sock = optarg;
                        break;
                default:
                        return cli_usage_error("%s", usage);
                }
        if (optind != argc)
                return cli_usage_error("%s", usage);
        if (sock)
                return api_call(sock, "GET", "/v1/audit", NULL, false);
        r = audit_run(root, &out, &n);
        if (r < 0)
                return error_wrapf(r, "cannot run the audit");
        if (json) {
                _cleanup_free_ char *s = audit_format_json(out, n);
                if (!s)
                        return -ENOMEM;
                fputs(s, stdout);
        } else
                audit_format_text(out, n, stdout);
        return audit_failed(out, n) > 0 ? 1 : 0;
}

static int cmd_logs(int argc, char **argv) {
        static const char usage[] = "usage: berth logs [--api PATH] [--follow] [--lines N] SERVICE";
        static const struct option opts[] = {
                { "api", required_argument, NULL, 'a' },
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                {},
        };
        _cleanup_free_ char *path = NULL, *answer = NULL, *msg = NULL;
        const char *sock = NULL;
        unsigned lines = 100;
        bool follow = false;
        int c, r, status;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+fn:", opts, NULL)) >= 0)
                switch (c) {
                case 'a':
                        sock = optarg;
                        break;
                case 'f':
                        follow = true;
                        break;
                case 'n':
                        r = cli_number_arg("--lines", optarg, 0, 10000, &lines);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return cli_usage_error("%s", usage);
                }
        if (optind + 1 != argc)
                return cli_usage_error("%s", usage);
        if (!service_name_is_valid(argv[optind]))
                return cli_usage_error("'%s' is not a service name", argv[optind]);
        path = strdup_printf("/v1/logs/%s?lines=%u%s", argv[optind], lines,
                             follow ? "&follow=1" : "");
        if (!path)
                return -ENOMEM;
        fflush(stdout);
        status = api_stream(api_socket(sock), path, STDOUT_FILENO, &answer);
        if (status < 0)
                return status;
        if (status != 200) {
                msg = api_error_message(answer);
                return error_setf(-api_status_to_errno(status), "%s",
                                  msg ?: "the berth API answered an error without a message");
        }
        return 0;
}

static int cmd_version(int argc, char **argv) {
        printf("berth %s\n", BERTH_VERSION);
        return 0;
}

static int cmd_help(int argc, char **argv) {
        return help();
}

/* A verb runs here (run) or in the helper that holds it (helper). */
static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *helper;
        const char *summary;
} verbs[] = {
        { "build", NULL, "berth-compose", "compose an image from a spec (host only)" },
        { "keygen", NULL, "berth-compose",
          "make update signing keys and root metadata (host only)" },
        { "publish", NULL, "berth-compose", "add an image to an update repository (host only)" },
        { "update", NULL, "berth-update",
          "signed A/B updates: status, check, download, apply, mark-good, lock" },
        { "vm", NULL, "berth-vm", "boot a composed image under QEMU (host only)" },
        { "service", cmd_service, NULL, "show services, start, stop or restart one" },
        { "status", cmd_status, NULL, "the node's image, slot, services and settings (berthd)" },
        { "settings", cmd_settings, NULL, "get, set, commit, apply or revert settings (berthd)" },
        { "logs", cmd_logs, NULL, "a service's log, --follow to keep reading (berthd)" },
        { "get", cmd_settings_short, NULL, "the settings (berth settings get)" },
        { "set", cmd_settings_short, NULL, "change settings: a transaction, committed" },
        { "apply", cmd_settings_short, NULL, "apply the current settings generation" },
        { "revert", cmd_settings_short, NULL, "back to the previous settings generation, applied" },
        { "reboot", cmd_power, NULL, "reboot the node (berthd)" },
        { "poweroff", cmd_power, NULL, "power the node off (berthd)" },
        { "audit", cmd_audit, NULL, "CIS Level 1 checks of this node: PASS, FAIL, SKIP" },
        { "version", cmd_version, NULL, "print the version" },
        { "help", cmd_help, NULL, "this text" },
};

static int help(void) {
        printf("usage: berth VERB [OPTIONS...]\n\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        return 0;
}

int main(int argc, char **argv) {
        log_set_prefix("berth");
        /* berth --api PATH VERB: every API verb, also in helpers, reads it
         * from the environment. */
        if (argc >= 2 && (streq(argv[1], "--api") || strneq(argv[1], "--api=", 6))) {
                const char *path = argv[1][5] == '=' ? argv[1] + 6 : argc >= 3 ? argv[2] : NULL;
                int shift = argv[1][5] == '=' ? 1 : 2;
                if (isempty(path))
                        return cli_finish(cli_usage_error("--api needs a socket path"));
                if (setenv("BERTH_API", path, 1) < 0)
                        return cli_finish(-errno);
                argv[shift] = argv[0];
                argv += shift;
                argc -= shift;
        }
        if (argc < 2) {
                help();
                return EXIT_CODE_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[1], verbs[i].name))
                        continue;
                /* Each verb sees argv[0] = its name; argv[-1] exists (the program). */
                if (verbs[i].helper)
                        return cli_finish(exec_helper(verbs[i].helper, argv + 1));
                return cli_finish(verbs[i].run(argc - 1, argv + 1));
        }
        return cli_finish(cli_usage_error("unknown verb '%s' (try 'berth help')", argv[1]));
}
