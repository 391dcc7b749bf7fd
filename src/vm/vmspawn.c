/* SPDX-License-Identifier: MIT */
#include "vmspawn.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "fileio.h"
#include "log.h"
#include "strv.h"

int vmspawn_find_program(const char *name, char **ret_path) {
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

int vmspawn_wait(char *const *argv, bool quiet) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *line = strv_join(argv, " ");
        int r = vmspawn_find_program(argv[0], &path);
        if (r < 0)
                return log_error_errno(r, "vm: cannot find '%s'", argv[0]);
        log_debug("vm: running %s", line ? line : argv[0]);

        pid_t pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "vm: fork");
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        (void) dup2(null, STDIN_FILENO);
                        if (quiet)
                                (void) dup2(null, STDOUT_FILENO);
                }
                execv(path, argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(-errno, "vm: waitpid");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return log_error_code(EIO, "vm: '%s' failed with exit status %d",
                                      line ? line : argv[0], WEXITSTATUS(status));
        return log_error_code(EIO, "vm: '%s' killed by signal %d", line ? line : argv[0],
                              WTERMSIG(status));
}
