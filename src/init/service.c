/* SPDX-License-Identifier: MIT */
#include "service.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "logfile.h"
#include "ini.h"
#include "log.h"
#include "parse-util.h"
#include "seccomp-util.h"
#include "strv.h"

#define SERVICE_FILE_MAX (1024U * 1024U)
#define SERVICE_SUFFIX ".service"
#define WHITESPACE " \t\r\n"
#define NR_OPEN_MAX UINT64_C(1073741816) /* the kernel's ceiling for fs.nr_open */

/* The Service being parsed is the table's base (IniContext.userdata). */
#define SERVICE(c) ((Service *) (c)->userdata)

static bool valid_env_key(const char *s, size_t n) {
        if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9')))
                        return false;
        }
        return true;
}

/* Plain decimal digits, optionally after one '-' if negative is allowed. */
static int parse_i64(const char *s, bool negative_ok, int64_t *ret) {
        bool neg = false;
        uint64_t v = 0;

        if (negative_ok && *s == '-') {
                neg = true;
                s++;
        }
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_C(1) << 62) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = neg ? -(int64_t) v : (int64_t) v;
        return 0;
}

/* Splits into words: whitespace separates, double quotes group (and may sit
 * inside a word, as in --opt="a b"), and inside quotes \" and \\ stand for "
 * and \. Any other backslash is literal. -EINVAL on an unterminated quote. */
static int split_quoted(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *word = malloc(strlen(s) + 1);
        int r;

        if (!word)
                return -ENOMEM;
        for (;;) {
                bool quoted = false;
                size_t len = 0;

                s += strspn(s, WHITESPACE);
                if (!*s)
                        break;
                while (*s && (quoted || !strchr(WHITESPACE, *s))) {
                        if (*s == '"') {
                                quoted = !quoted;
                                s++;
                        } else if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\')) {
                                word[len++] = s[1];
                                s += 2;
                        } else
                                word[len++] = *s++;
                }
                if (quoted)
                        return -EINVAL;
                r = strv_push(&l, strndup(word, len));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_description(IniContext *c, const IniKey *k, const char *value, void *base) {
        char *d = NULL;
        if (!ini_printable(value))
                return ini_bad_value(c, "contains control characters");
        if (*value && !(d = strdup(value)))
                return -ENOMEM;
        free(SERVICE(c)->description);
        SERVICE(c)->description = d;
        return 0;
}

static int parse_exec(IniContext *c, const IniKey *k, const char *value, void *base) {
        char **argv = NULL;
        int r = split_quoted(value, &argv);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ini_bad_value(c, "unterminated quote");
        if (!argv || argv[0][0] != '/') {
                strv_free(argv);
                return ini_bad_value(c, "the program must be an absolute path");
        }
        STRV_FOREACH(a, argv)
                if (!ini_printable(*a)) {
                        strv_free(argv);
                        return ini_bad_value(c, "contains control characters");
                }
        strv_free(SERVICE(c)->argv);
        SERVICE(c)->argv = argv;
        return 0;
}

/* Names of other services; accumulate, an empty value resets. */
static int parse_names(IniContext *c, const char *value, char ***field) {
        _cleanup_free_ char *bad = NULL;
        int r = strv_update_words(field, value, service_name_is_valid, &bad);
        if (r == -EINVAL && bad)
                return ini_bad_value(c, "invalid service name '%s'", bad);
        return r;
}

static int parse_after(IniContext *c, const IniKey *k, const char *value, void *base) {
        return parse_names(c, value, &SERVICE(c)->after);
}

static int parse_wants(IniContext *c, const IniKey *k, const char *value, void *base) {
        return parse_names(c, value, &SERVICE(c)->wants);
}

/* KEY=value words; a later value for a key replaces the earlier one. */
static int parse_environment(IniContext *c, const IniKey *k, const char *value, void *base) {
        _cleanup_strv_free_ char **words = NULL;
        char ***env = &SERVICE(c)->environment;
        int r;

        if (!*value) {
                *env = strv_free(*env);
                return 0;
        }
        r = split_quoted(value, &words);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ini_bad_value(c, "unterminated quote");
        STRV_FOREACH(w, words) {
                const char *eq = strchr(*w, '=');
                if (!eq || !valid_env_key(*w, (size_t) (eq - *w)) || !ini_printable(*w))
                        return ini_bad_value(c, "'%s' is not KEY=value", *w);
        }
        STRV_FOREACH(w, words) {
                size_t klen = (size_t) (strchr(*w, '=') - *w) + 1;
                bool replaced = false;
                STRV_FOREACH(e, *env)
                        if (strneq(*e, *w, klen)) {
                                char *copy = strdup(*w);
                                if (!copy)
                                        return -ENOMEM;
                                free(*e);
                                *e = copy;
                                replaced = true;
                                break;
                        }
                if (replaced)
                        continue;
                r = strv_extend(env, *w);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_abs_path(IniContext *c, const char *value, char **field) {
        char *d = NULL;
        if (*value) {
                if (value[0] != '/' || !ini_printable(value) || strpbrk(value, WHITESPACE))
                        return ini_bad_value(c, "'%s' is not an absolute path", value);
                d = strdup(value);
                if (!d)
                        return -ENOMEM;
        }
        free(*field);
        *field = d;
        return 0;
}

static int parse_working_directory(IniContext *c, const IniKey *k, const char *value, void *base) {
        return parse_abs_path(c, value, &SERVICE(c)->working_directory);
}

static int parse_listen_stream(IniContext *c, const IniKey *k, const char *value, void *base) {
        /* sockaddr_un's sun_path holds 107 characters and the NUL. */
        if (strlen(value) > 107)
                return ini_bad_value(c, "'%s' is longer than a Unix socket path may be", value);
        return parse_abs_path(c, value, &SERVICE(c)->listen_stream);
}

static int parse_condition(IniContext *c, const IniKey *k, const char *value, void *base) {
        char *d = NULL;
        if (*value) {
                if (!ini_printable(value) || strpbrk(value, WHITESPACE))
                        return ini_bad_value(c, "'%s' is not one word", value);
                d = strdup(value);
                if (!d)
                        return -ENOMEM;
        }
        free(SERVICE(c)->condition_cmdline);
        SERVICE(c)->condition_cmdline = d;
        return 0;
}

static int parse_condition_first_boot(IniContext *c, const IniKey *k, const char *value,
                                      void *base) {
        if (!*value) {
                SERVICE(c)->condition_first_boot_set = false;
                return 0;
        }
        if (parse_bool(value, &SERVICE(c)->condition_first_boot) < 0)
                return ini_bad_value(c, "'%s' is not yes or no", value);
        SERVICE(c)->condition_first_boot_set = true;
        return 0;
}

static int parse_ready(IniContext *c, const IniKey *k, const char *value, void *base) {
        static const struct {
                const char *word;
                ServiceReady ready;
        } plain[] = {
                { "started", SERVICE_READY_STARTED },
                { "notify", SERVICE_READY_NOTIFY },
                { "network", SERVICE_READY_NETWORK },
        };
        Service *s = SERVICE(c);

        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                if (streq(value, plain[i].word)) {
                        s->ready = plain[i].ready;
                        free(s->ready_path);
                        s->ready_path = NULL;
                        return 0;
                }
        if ((strneq(value, "path:", 5) && value[5] == '/') ||
            (strneq(value, "socket:", 7) && value[7] == '/')) {
                bool sock = value[0] == 's';
                int r = parse_abs_path(c, value + (sock ? 7 : 5), &s->ready_path);
                if (r < 0)
                        return r;
                s->ready = sock ? SERVICE_READY_SOCKET : SERVICE_READY_PATH;
                return 0;
        }
        return ini_bad_value(c,
                             "'%s' is not started, notify, network, path:/absolute/path or "
                             "socket:/absolute/path",
                             value);
}

static int parse_restart(IniContext *c, const IniKey *k, const char *value, void *base) {
        static const char *const table[_SERVICE_RESTART_MAX] = {
                [SERVICE_RESTART_NO] = "no",
                [SERVICE_RESTART_ON_FAILURE] = "on-failure",
                [SERVICE_RESTART_ALWAYS] = "always",
        };
        for (int i = 0; i < _SERVICE_RESTART_MAX; i++)
                if (streq(value, table[i])) {
                        SERVICE(c)->restart = (ServiceRestart) i;
                        return 0;
                }
        return ini_bad_value(c, "'%s' is not no, on-failure or always", value);
}

static int parse_signal(IniContext *c, const IniKey *k, const char *value, void *base) {
        static const struct {
                const char *name;
                int sig;
        } table[] = {
                { "SIGTERM", SIGTERM }, { "SIGINT", SIGINT },   { "SIGKILL", SIGKILL },
                { "SIGHUP", SIGHUP },   { "SIGQUIT", SIGQUIT }, { "SIGUSR1", SIGUSR1 },
                { "SIGUSR2", SIGUSR2 },
        };
        int64_t v;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(value, table[i].name)) {
                        SERVICE(c)->stop_signal = table[i].sig;
                        return 0;
                }
        if (parse_i64(value, false, &v) < 0 || v < 1 || v > SIGRTMAX)
                return ini_bad_value(c, "'%s' is not a signal name or number", value);
        SERVICE(c)->stop_signal = (int) v;
        return 0;
}

static int parse_range(IniContext *c, const char *value, int64_t min, int64_t max, int64_t *ret) {
        if (parse_i64(value, min < 0, ret) < 0 || *ret < min || *ret > max)
                return ini_bad_value(c, "'%s' is not a number from %" PRId64 " to %" PRId64, value,
                                     min, max);
        return 0;
}

#define DEFINE_PARSE_NUMBER(fname, field, min, max)                                                \
        static int fname(IniContext *c, const IniKey *k, const char *value, void *base) {          \
                int64_t v;                                                                         \
                int r = parse_range(c, value, (min), (max), &v);                                   \
                if (r < 0)                                                                         \
                        return r;                                                                  \
                SERVICE(c)->field = (__typeof__(SERVICE(c)->field)) v;                             \
                return 0;                                                                          \
        }

DEFINE_PARSE_NUMBER(parse_ready_timeout, ready_timeout_s, 0, 86400)
DEFINE_PARSE_NUMBER(parse_restart_sec, restart_sec, 0, 3600)
DEFINE_PARSE_NUMBER(parse_restart_max_sec, restart_max_sec, 1, 3600)
DEFINE_PARSE_NUMBER(parse_stop_timeout, stop_timeout_s, 0, 3600)
DEFINE_PARSE_NUMBER(parse_start_every, start_every_s, 0, 604800)
DEFINE_PARSE_NUMBER(parse_start_jitter, start_jitter_s, 0, 86400)
DEFINE_PARSE_NUMBER(parse_limit_nofile, limit_nofile, 1, (int64_t) NR_OPEN_MAX)

static int parse_oom_score_adjust(IniContext *c, const IniKey *k, const char *value, void *base) {
        int64_t v;
        int r = parse_range(c, value, -1000, 1000, &v);
        if (r < 0)
                return r;
        SERVICE(c)->oom_score_adjust = (int) v;
        SERVICE(c)->oom_score_adjust_set = true;
        return 0;
}

/* User and group names as useradd(8) accepts them (and Debian's _chrony). */
static bool valid_user_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 32 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int parse_id_name(IniContext *c, const char *value, char **field) {
        char *d = NULL;
        if (*value) {
                if (!valid_user_name(value))
                        return ini_bad_value(c, "'%s' is not a user or group name", value);
                d = strdup(value);
                if (!d)
                        return -ENOMEM;
        }
        free(*field);
        *field = d;
        return 0;
}

static int parse_user(IniContext *c, const IniKey *k, const char *value, void *base) {
        return parse_id_name(c, value, &SERVICE(c)->sandbox.user);
}

static int parse_group(IniContext *c, const IniKey *k, const char *value, void *base) {
        return parse_id_name(c, value, &SERVICE(c)->sandbox.group);
}

/* Words, the first optionally starting with "~" (a deny list); each word
 * checked by valid. Replaces the earlier value; empty resets. */
static int parse_list(IniContext *c, const char *value, bool (*valid)(const char *),
                      const char *what, char ***ret, bool *ret_deny) {
        _cleanup_strv_free_ char **words = NULL;
        bool deny = value[0] == '~';
        int r = strv_extend_words(&words, value + deny, false);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words)
                if (!valid(*w))
                        return ini_bad_value(c, "unknown %s '%s'", what, *w);
        strv_free(*ret);
        *ret = TAKE_PTR(words);
        *ret_deny = deny;
        return 0;
}

static bool valid_capability(const char *s) {
        return capability_from_name(s) >= 0;
}

static int parse_capabilities(IniContext *c, const IniKey *k, const char *value, void *base) {
        ServiceSandbox *sb = &SERVICE(c)->sandbox;
        _cleanup_strv_free_ char **names = NULL;
        uint64_t mask = 0;
        bool deny = false;
        int r = parse_list(c, value, valid_capability, "capability", &names, &deny);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names)
                mask |= UINT64_C(1) << capability_from_name(*n);
        sb->cap_bounding_set = *value != 0;
        sb->cap_bounding = deny ? ~mask : mask;
        return 0;
}

static bool valid_syscall(const char *s) {
        return seccomp_syscall_known(s);
}

static int parse_syscalls(IniContext *c, const IniKey *k, const char *value, void *base) {
        ServiceSandbox *sb = &SERVICE(c)->sandbox;
        return parse_list(c, value, valid_syscall, "system call", &sb->syscalls,
                          &sb->syscalls_deny);
}

static int parse_no_new_privileges(IniContext *c, const IniKey *k, const char *value, void *base) {
        if (parse_bool(value, &SERVICE(c)->sandbox.no_new_privileges) < 0)
                return ini_bad_value(c, "'%s' is not yes or no", value);
        return 0;
}

/* Absolute paths, accumulating; empty resets. */
static int parse_read_only_paths(IniContext *c, const IniKey *k, const char *value, void *base) {
        _cleanup_strv_free_ char **words = NULL;
        char ***field = &SERVICE(c)->sandbox.read_only_paths;
        int r;

        if (!*value) {
                *field = strv_free(*field);
                return 0;
        }
        r = strv_extend_words(&words, value, false);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                if ((*w)[0] != '/' || !ini_printable(*w) || strstr(*w, "/../") ||
                    (strlen(*w) >= 3 && streq(*w + strlen(*w) - 3, "/..")))
                        return ini_bad_value(c, "'%s' is not an absolute path", *w);
                r = strv_extend(field, *w);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Bytes, with an optional binary suffix K, M or G (LogMaxSize=1M). */
static int parse_log_max_size(IniContext *c, const IniKey *k, const char *value, void *base) {
        _cleanup_free_ char *digits = strdup(value);
        uint64_t mult = 1;
        size_t n;
        int64_t v;

        if (!digits)
                return -ENOMEM;
        n = strlen(digits);
        if (n > 0 && strchr("KMG", digits[n - 1])) {
                mult = UINT64_C(1) << (digits[n - 1] == 'K' ? 10 : digits[n - 1] == 'M' ? 20 : 30);
                digits[n - 1] = 0;
        }
        if (parse_i64(digits, false, &v) < 0 || v <= 0 || (uint64_t) v > LOGFILE_SIZE_MAX / mult ||
            (uint64_t) v * mult < LOGFILE_SIZE_MIN)
                return ini_bad_value(c, "'%s' is not a size from 4K to 1G", value);
        SERVICE(c)->log_max_size = (uint64_t) v * mult;
        return 0;
}

static int parse_log_keep(IniContext *c, const IniKey *k, const char *value, void *base) {
        int64_t v;
        int r = parse_range(c, value, 0, LOGFILE_KEEP_MAX, &v);
        if (r < 0)
                return r;
        SERVICE(c)->log_keep = (unsigned) v;
        SERVICE(c)->log_keep_set = true;
        return 0;
}

static const IniKey keys[] = {
        { "Service", "Description", parse_description },
        { "Service", "Exec", parse_exec },
        { "Service", "After", parse_after },
        { "Service", "Wants", parse_wants },
        { "Service", "Ready", parse_ready },
        { "Service", "ReadyTimeout", parse_ready_timeout },
        { "Service", "Restart", parse_restart },
        { "Service", "RestartSec", parse_restart_sec },
        { "Service", "RestartMaxSec", parse_restart_max_sec },
        { "Service", "Environment", parse_environment },
        { "Service", "WorkingDirectory", parse_working_directory },
        { "Service", "StopSignal", parse_signal },
        { "Service", "StopTimeout", parse_stop_timeout },
        { "Service", "LimitNOFILE", parse_limit_nofile },
        { "Service", "OOMScoreAdjust", parse_oom_score_adjust },
        { "Service", "LogMaxSize", parse_log_max_size },
        { "Service", "LogKeep", parse_log_keep },
        { "Service", "ConditionKernelCmdline", parse_condition },
        { "Service", "ConditionFirstBoot", parse_condition_first_boot },
        { "Service", "User", parse_user },
        { "Service", "Group", parse_group },
        { "Service", "CapabilityBoundingSet", parse_capabilities },
        { "Service", "NoNewPrivileges", parse_no_new_privileges },
        { "Service", "SystemCallFilter", parse_syscalls },
        { "Service", "ReadOnlyPaths", parse_read_only_paths },
        { "Service", "ListenStream", parse_listen_stream },
        { "Service", "StartEvery", parse_start_every },
        { "Service", "StartJitter", parse_start_jitter },
};

static const IniTable service_table = {
        .keys = keys,
        .n_keys = ELEMENTSOF(keys),
        .sections = (const char *const[]){ "Service", NULL },
};

void service_done(Service *s) {
        if (!s)
                return;
        free(s->description);
        strv_free(s->argv);
        strv_free(s->after);
        strv_free(s->wants);
        strv_free(s->environment);
        free(s->working_directory);
        free(s->condition_cmdline);
        free(s->ready_path);
        free(s->listen_stream);
        service_sandbox_done(&s->sandbox);
        *s = (Service){};
}

Service *service_free(Service *s) {
        service_done(s);
        free(s);
        return NULL;
}

ServiceSet *service_set_free(ServiceSet *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                service_done(&s->services[i]);
        free(s->services);
        free(s);
        return NULL;
}

int service_parse_string(const char *path, const char *name, const char *data, size_t size,
                         Service *ret) {
        _cleanup_(service_done) Service s = {
                .ready = SERVICE_READY_STARTED,
                .ready_timeout_s = 90,
                .restart = SERVICE_RESTART_NO,
                .restart_sec = 1,
                .restart_max_sec = 30,
                .stop_signal = SIGTERM,
                .stop_timeout_s = 10,
        };
        int r;

        if (!service_name_is_valid(name))
                return error_setf(EINVAL, "%s: invalid service name '%s'", path, name);
        strcpy(s.name, name);

        r = ini_parse_table(path, data, size, &service_table, &s);
        if (r < 0)
                return r;
        if (!s.argv)
                return error_setf(EBADMSG, "%s: [Service] Exec= is required", path);
        if (s.restart_max_sec < s.restart_sec)
                return error_setf(EBADMSG, "%s: RestartMaxSec= is less than RestartSec=", path);
        if (s.listen_stream && s.start_every_s > 0)
                return error_setf(EBADMSG,
                                  "%s: ListenStream= and StartEvery= exclude each other: a "
                                  "service starts on a connection or on a schedule",
                                  path);
        if (s.listen_stream && s.ready != SERVICE_READY_STARTED)
                return error_setf(EBADMSG,
                                  "%s: Ready= does not apply with ListenStream=: the service is "
                                  "ready once PID 1 listens",
                                  path);
        if (s.start_jitter_s > 0 && s.start_every_s == 0)
                return error_setf(EBADMSG, "%s: StartJitter= needs StartEvery=", path);

        *ret = s;
        s = (Service){};
        return 0;
}

int service_parse_file(const char *path, Service *ret) {
        _cleanup_free_ char *data = NULL, *name = NULL;
        const char *base = strrchr(path, '/');
        size_t size, n;
        int r;

        base = base ? base + 1 : path;
        n = strlen(base);
        if (n <= strlen(SERVICE_SUFFIX) ||
            !streq(base + n - strlen(SERVICE_SUFFIX), SERVICE_SUFFIX))
                return error_setf(EINVAL, "%s: not a *" SERVICE_SUFFIX " file", path);
        name = strndup(base, n - strlen(SERVICE_SUFFIX));
        if (!name)
                return -ENOMEM;
        r = read_full_file(path, &data, &size, SERVICE_FILE_MAX);
        if (r < 0)
                return error_wrapf(r, "%s: cannot read", path);
        return service_parse_string(path, name, data, size, ret);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int service_set_load(const char *dir, ServiceSet **ret) {
        _cleanup_(service_set_freep) ServiceSet *set = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_wrapf(negative_errno(), "%s: cannot open", dir);
        d = fdopendir(fd);
        if (!d)
                return error_wrapf(negative_errno(), "%s: cannot open", dir);
        fd = -EBADF; /* owned by d now */

        for (struct dirent *de; (de = readdir(d));) {
                size_t n = strlen(de->d_name);
                struct stat st;
                if (de->d_name[0] == '.' || n <= strlen(SERVICE_SUFFIX) ||
                    !streq(de->d_name + n - strlen(SERVICE_SUFFIX), SERVICE_SUFFIX))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                r = strv_extend(&names, de->d_name);
                if (r < 0) {
                        (void) closedir(d);
                        return r;
                }
        }
        (void) closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);

        set = calloc(1, sizeof(ServiceSet));
        if (!set)
                return -ENOMEM;
        set->services = calloc(strv_length(names) + 1, sizeof(Service));
        if (!set->services)
                return -ENOMEM;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = path_join(dir, *n);
                if (!path)
                        return -ENOMEM;
                r = service_parse_file(path, &set->services[set->n]);
                if (r < 0)
                        return r;
                set->n++;
        }

        r = service_set_order(set);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(set);
        return 0;
}

static size_t find_service(const ServiceSet *set, const char *name) {
        for (size_t i = 0; i < set->n; i++)
                if (streq(set->services[i].name, name))
                        return i;
        return SIZE_MAX;
}

/* How many of s's After= and Wants= entries name `name`. */
static size_t count_deps_on(const Service *s, const char *name) {
        size_t k = 0;
        STRV_FOREACH(a, s->after)
                k += streq(*a, name);
        STRV_FOREACH(w, s->wants)
                k += streq(*w, name);
        return k;
}

/* The first After=/Wants= of service i that names a service not yet ordered. */
static size_t first_pending_dep(const ServiceSet *set, size_t i, const bool *done) {
        char **lists[] = { set->services[i].after, set->services[i].wants };
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                STRV_FOREACH(d, lists[l]) {
                        size_t j = find_service(set, *d);
                        if (j != SIZE_MAX && !done[j])
                                return j;
                }
        return SIZE_MAX;
}

/* Every service left over waits for another one left over: walk those waits
 * until a service repeats, and report the loop. */
static int report_cycle(const ServiceSet *set, const bool *done) {
        _cleanup_free_ size_t *step = malloc(set->n * sizeof(size_t));
        _cleanup_free_ size_t *path = malloc(set->n * sizeof(size_t));
        _cleanup_free_ char *msg = NULL;
        size_t i = SIZE_MAX, len = 0;

        if (!step || !path)
                return -ENOMEM;
        for (size_t j = 0; j < set->n; j++) {
                step[j] = SIZE_MAX;
                if (!done[j] &&
                    (i == SIZE_MAX || strcmp(set->services[j].name, set->services[i].name) < 0))
                        i = j;
        }
        while (i != SIZE_MAX && step[i] == SIZE_MAX) {
                step[i] = len;
                path[len++] = i;
                i = first_pending_dep(set, i, done);
        }
        if (i == SIZE_MAX) /* cannot happen: every leftover has a pending dependency */
                return error_setf(ELOOP, "ordering cycle among services");

        /* path[step[i]] is i: the loop runs from there to the end and back to i. */
        msg = strdup(set->services[i].name);
        for (size_t k = step[i] + 1; msg && k <= len; k++) {
                char *m = strdup_printf("%s -> %s", msg, set->services[k < len ? path[k] : i].name);
                free(msg);
                msg = m;
        }
        if (!msg)
                return -ENOMEM;
        /* Our own marker: no strerror(ELOOP), which speaks of symbolic links. */
        return error_setf(ELOOP, "ordering cycle: %s", msg);
}

int service_set_order(ServiceSet *set) {
        _cleanup_free_ size_t *pending = NULL, *order = NULL;
        _cleanup_free_ bool *done = NULL;
        Service *sorted;
        size_t n = set->n;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = i + 1; j < n; j++)
                        if (streq(set->services[i].name, set->services[j].name))
                                return error_setf(EEXIST, "service '%s' is defined twice",
                                                  set->services[i].name);
                STRV_FOREACH(a, set->services[i].after)
                        if (find_service(set, *a) == SIZE_MAX)
                                return error_setf(
                                        ENOENT, "service '%s' is After= '%s', which does not exist",
                                        set->services[i].name, *a);
        }

        pending = calloc(n, sizeof(size_t));
        order = calloc(n, sizeof(size_t));
        done = calloc(n, sizeof(bool));
        if (!pending || !order || !done)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                        pending[i] += count_deps_on(&set->services[i], set->services[j].name);

        /* Kahn's algorithm; among the ready services the smallest name goes first,
         * so the order only depends on the names and the dependencies. */
        for (size_t k = 0; k < n; k++) {
                size_t pick = SIZE_MAX;
                for (size_t i = 0; i < n; i++)
                        if (!done[i] && pending[i] == 0 &&
                            (pick == SIZE_MAX ||
                             strcmp(set->services[i].name, set->services[pick].name) < 0))
                                pick = i;
                if (pick == SIZE_MAX)
                        return report_cycle(set, done);
                done[pick] = true;
                order[k] = pick;
                for (size_t i = 0; i < n; i++)
                        if (!done[i])
                                pending[i] -=
                                        count_deps_on(&set->services[i], set->services[pick].name);
        }

        sorted = malloc(n * sizeof(Service));
        if (!sorted)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                sorted[k] = set->services[order[k]];
        free(set->services);
        set->services = sorted;
        return 0;
}
