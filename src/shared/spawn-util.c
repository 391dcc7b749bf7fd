/* SPDX-License-Identifier: MIT */
#include "spawn-util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

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

int spawn_find_program(const char *name, char **ret_path) {
        if (isempty(name))
                return -EINVAL;
        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return -ENOENT;
                char *p = strdup(name);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        const char *env = getenv("PATH");
        _cleanup_free_ char *search =
                strdup_printf("%s:/usr/sbin:/sbin", isempty(env) ? "/usr/bin:/bin" : env);
        if (!search)
                return -ENOMEM;
        char *save = NULL;
        for (char *dir = strtok_r(search, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(dir, name);
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret_path = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

int spawn_start(char *const argv[], const SpawnOptions *o, pid_t *ret_pid) {
        static const SpawnOptions defaults = {};
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *path = NULL;
        pid_t pid;
        int r;

        if (!argv || !argv[0])
                return -EINVAL;
        o = o ?: &defaults;
        r = spawn_find_program(argv[0], &path);
        if (r < 0)
                return r;
        env = env_merge(o->env_extra);
        if (!env)
                return -ENOMEM;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                int in = o->in_fd > 0 ? o->in_fd : null;
                int out = o->out_fd > 0 ? o->out_fd : o->quiet ? null : STDOUT_FILENO;
                int err = o->err_fd > 0 ? o->err_fd : STDERR_FILENO;
                /* Move fd 3 out of the way first: dup2 onto 0..2 must not clobber it. */
                int fd3 = o->fd3 > 0 ? fcntl(o->fd3, F_DUPFD, 10) : -1;
                if (null < 0 || dup2(in, STDIN_FILENO) < 0 ||
                    (out != STDOUT_FILENO && dup2(out, STDOUT_FILENO) < 0) ||
                    (err != STDERR_FILENO && dup2(err, STDERR_FILENO) < 0) ||
                    (o->fd3 > 0 && (fd3 < 0 || dup2(fd3, 3) < 0)))
                        _exit(126);
                if (o->own_group)
                        (void) setpgid(0, 0);
                if (o->unblock_signals) {
                        sigset_t none;
                        sigemptyset(&none);
                        (void) sigprocmask(SIG_SETMASK, &none, NULL);
                }
                (void) signal(SIGPIPE, SIG_DFL);
                execve(path, argv, env);
                _exit(errno == ENOENT ? 127 : 126);
        }
        *ret_pid = pid;
        return 0;
}

int spawn_wait(pid_t pid, int *ret_status) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_status)
                *ret_status = status;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        return -EPROTO;
}

int spawn_run(char *const argv[], const SpawnOptions *o, char **ret_output) {
        SpawnOptions so = o ? *o : (SpawnOptions){};
        _cleanup_free_ char *out = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        int pipefd[2], status, r;
        size_t n = 0;
        pid_t pid;

        out = malloc(SPAWN_OUTPUT_MAX + 1);
        if (!out)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        rfd = pipefd[0];
        wfd = pipefd[1];
        if (so.out_fd <= 0 && !so.quiet)
                so.out_fd = wfd;
        if (so.err_fd <= 0)
                so.err_fd = wfd;
        r = spawn_start(argv, &so, &pid);
        if (r == -ENOENT)
                return error_wrapf(r, "%s: cannot run", argv[0]);
        if (r < 0)
                return r;
        wfd = safe_close(wfd);

        /* Read everything (so the child never blocks on a full pipe), keep
         * the first SPAWN_OUTPUT_MAX bytes. */
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
                size_t take = MIN((size_t) k, SPAWN_OUTPUT_MAX - n);
                memcpy(out + n, buf, take);
                n += take;
        }
        out[n] = 0;

        r = spawn_wait(pid, &status);
        if (r == -ENOENT)
                return error_wrapf(r, "%s: cannot run", argv[0]);
        if (r < 0) {
                /* Strip the trailing newline for a one-line message. */
                while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                        out[--n] = 0;
                if (WIFEXITED(status))
                        return error_setf(EPROTO, "%s failed with status %d%s%s", argv[0],
                                          WEXITSTATUS(status), n ? ": " : "", out);
                return error_setf(EPROTO, "%s killed by signal %d%s%s", argv[0],
                                  WIFSIGNALED(status) ? WTERMSIG(status) : 0, n ? ": " : "", out);
        }
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}
