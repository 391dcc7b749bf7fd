/* SPDX-License-Identifier: MIT */
#include "erofs.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

#define TOOL_OUTPUT_MAX (64u * 1024)
#define EROFS_PCLUSTER_BYTES "65536"

extern char **environ;

static char **env_merge(char *const extra[]) {
        _cleanup_strv_free_ char **l = NULL;

        for (char **e = environ; e && *e; e++) {
                bool overridden = false;
                size_t k = strcspn(*e, "=");
                for (char *const *x = extra; x && *x; x++)
                        if (strneq(*x, *e, k) && (*x)[k] == '=') {
                                overridden = true;
                                break;
                        }
                if (!overridden && strv_extend(&l, *e) < 0)
                        return NULL;
        }
        for (char *const *x = extra; x && *x; x++)
                if (strv_extend(&l, *x) < 0)
                        return NULL;
        if (!l)
                l = calloc(1, sizeof(char *));
        return TAKE_PTR(l);
}

int compose_run_tool(char *const argv[], char *const env_extra[], char **ret_output) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *out = NULL;
        _cleanup_close_ int rfd = -EBADF;
        int pipefd[2], status;
        size_t n = 0;
        pid_t pid;

        env = env_merge(env_extra);
        out = malloc(TOOL_OUTPUT_MAX + 1);
        if (!env || !out)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        pid = fork();
        if (pid < 0) {
                int r = -errno;
                (void)close(pipefd[0]);
                (void)close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (nullfd < 0 || dup2(nullfd, STDIN_FILENO) < 0 ||
                    dup2(pipefd[1], STDOUT_FILENO) < 0 || dup2(pipefd[1], STDERR_FILENO) < 0)
                        _exit(127);
                (void)signal(SIGPIPE, SIG_DFL);
                execvpe(argv[0], argv, env);
                _exit(errno == ENOENT ? 127 : 126);
        }
        (void)close(pipefd[1]);
        rfd = pipefd[0];

        /* Read everything (so the child never blocks on a full pipe), keep
         * the first TOOL_OUTPUT_MAX bytes. */
        for (;;) {
                char buf[4096];
                ssize_t k = read(rfd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (k == 0)
                        break;
                size_t take = MIN((size_t)k, TOOL_OUTPUT_MAX - n);
                memcpy(out + n, buf, take);
                n += take;
        }
        out[n] = 0;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return log_error_errno(-ENOENT, "%s: cannot run", argv[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                /* Strip the trailing newline for a one-line message. */
                while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                        out[--n] = 0;
                if (WIFEXITED(status))
                        log_error("%s failed with status %d: %s", argv[0], WEXITSTATUS(status),
                                  out);
                else
                        log_error("%s killed by signal %d: %s", argv[0],
                                  WIFSIGNALED(status) ? WTERMSIG(status) : 0, out);
                return -EPROTO;
        }
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}

int erofs_make(const char *tree, const char *dest, const char *compression,
               int64_t source_date_epoch, const char *uuid) {
        _cleanup_free_ char *tmp = NULL, *ts = NULL, *zopt = NULL, *uopt = NULL;
        char *argv[14];
        size_t i = 0;
        struct stat st;
        int r;

        if (!tree || !dest || source_date_epoch < 0)
                return -EINVAL;
        if (stat(tree, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        tmp = strdup_printf("%s.tmp", dest);
        ts = strdup_printf("-T%" PRIi64, source_date_epoch);
        if (!tmp || !ts)
                return -ENOMEM;

        argv[i++] = (char *)"mkfs.erofs";
        argv[i++] = (char *)"--quiet";
        /* -T alone gives every inode the fixed time (TIMESTAMP_FIXED);
         * --ignore-mtime would switch to clamping, so it is not passed. */
        argv[i++] = ts;
        if (!isempty(compression) && !streq(compression, "none")) {
                zopt = strdup_printf("-z%s", compression);
                if (!zopt)
                        return -ENOMEM;
                argv[i++] = zopt;
                /* 64 KiB physical clusters instead of one 4 KiB block: ~12%
                 * smaller for berth's /usr, at the cost of decompressing up to
                 * 64 KiB for a cold 4 KiB read. ztailpacking stores each
                 * file's compressed tail inline with its inode instead of in
                 * a block of its own. Both need Linux >= 5.17 (big pclusters
                 * 5.13, ztailpacking 5.17); bookworm has 6.1. See docs/size.md. */
                argv[i++] = (char *)"-C" EROFS_PCLUSTER_BYTES;
                argv[i++] = (char *)"-Eztailpacking";
        }
        if (!isempty(uuid)) {
                uopt = strdup_printf("-U%s", uuid);
                if (!uopt)
                        return -ENOMEM;
                argv[i++] = uopt;
        }
        argv[i++] = tmp;
        argv[i++] = (char *)tree;
        argv[i] = NULL;

        (void)unlink(tmp);
        r = compose_run_tool(argv, NULL, NULL);
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        {
                _cleanup_close_ int fd = open(tmp, O_RDWR | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0) {
                        r = -errno;
                        (void)unlink(tmp);
                        return r;
                }
        }
        if (rename(tmp, dest) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}
