/* SPDX-License-Identifier: MIT */
#include "qemu.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "error.h"
#include "log.h"
#include "spawn-util.h"

#define KILL_GRACE_MS 5000
#define LINE_MAX_BYTES 1024
#define PAYLOAD_EXIT_PREFIX "berth: payload exited with status "
#define BOOT_FAILED "boot failed: " /* stage 1's fatal errors */
/* OVMF and systemd-boot when Secure Boot refuses a binary, and OVMF when
 * nothing bootable is left (it then waits for a key press forever). */
#define FW_ACCESS_DENIED "Access Denied"
#define FW_SECURITY_VIOLATION "Security Violation"
#define FW_NOTHING_BOOTABLE "No bootable option or device was found"

typedef struct LineWatch {
        char buf[LINE_MAX_BYTES];
        size_t len;
        bool echo;   /* echo "berth: " lines to stdout */
        bool escape; /* inside a terminal escape sequence (OVMF colours its errors) */
        bool fatal;  /* the firmware gave up: stop QEMU */
        int payload_status;
        unsigned failures;
        char failure[256];
} LineWatch;

static long long now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all_ignore(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return; /* a closed terminal or a full disk must not stop the guest */
                p += k;
                n -= (size_t) k;
        }
}

static void line_done(LineWatch *w) {
        w->buf[w->len] = 0;
        const char *s = strstr(w->buf, "berth: ");
        /* What a user watching a logged boot needs: berth's own lines, PID 1's
         * errors and warnings, a kernel panic. */
        bool show = s || strstr(w->buf, "Kernel panic") ||
                    (strstr(w->buf, "berth-init: ") &&
                     (strstr(w->buf, "error") || strstr(w->buf, "warning")));
        if (show && w->echo) {
                write_all_ignore(STDOUT_FILENO, w->buf, w->len);
                write_all_ignore(STDOUT_FILENO, "\n", 1);
        }
        const char *f = strstr(w->buf, BOOT_FAILED);
        if (!f)
                f = strstr(w->buf, "Kernel panic");
        if (f) {
                if (w->failures++ == 0)
                        snprintf(w->failure, sizeof w->failure, "%s", f);
        } else if (strstr(w->buf, FW_ACCESS_DENIED) || strstr(w->buf, FW_SECURITY_VIOLATION)) {
                if (w->failures++ == 0)
                        snprintf(w->failure, sizeof w->failure,
                                 "the firmware refused a boot binary (Secure Boot: unsigned, "
                                 "or changed after signing): %.150s",
                                 w->buf);
        } else if (strstr(w->buf, FW_NOTHING_BOOTABLE)) {
                if (w->failures++ == 0)
                        snprintf(w->failure, sizeof w->failure,
                                 "the firmware found nothing it could boot");
                w->fatal = true;
        }
        if (s) {
                if (strneq(s, PAYLOAD_EXIT_PREFIX, strlen(PAYLOAD_EXIT_PREFIX))) {
                        char *end;
                        long v = strtol(s + strlen(PAYLOAD_EXIT_PREFIX), &end, 10);
                        if (end != s + strlen(PAYLOAD_EXIT_PREFIX) && v >= 0 && v <= 255)
                                w->payload_status = (int) v;
                }
        }
        w->len = 0;
}

static void line_feed(LineWatch *w, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\n') {
                        line_done(w);
                        continue;
                }
                if (p[i] == '\r' || p[i] == 0)
                        continue;
                /* ESC [ parameters final-letter: dropped. */
                if (p[i] == '\033') {
                        w->escape = true;
                        continue;
                }
                if (w->escape) {
                        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))
                                w->escape = false;
                        continue;
                }
                if (w->len < sizeof w->buf - 1)
                        w->buf[w->len++] = p[i];
        }
}

static int reap(pid_t pid, int *status, int timeout_ms) {
        long long until = now_ms() + timeout_ms;
        for (;;) {
                pid_t k = waitpid(pid, status, timeout_ms < 0 ? 0 : WNOHANG);
                if (k == pid)
                        return 0;
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (timeout_ms >= 0 && now_ms() >= until)
                        return -ETIMEDOUT;
                if (k == 0) {
                        struct timespec ts = { .tv_nsec = 50 * 1000000 };
                        (void) nanosleep(&ts, NULL);
                }
        }
}

static void stop_qemu(pid_t pid, int *status) {
        (void) kill(pid, SIGTERM);
        if (reap(pid, status, KILL_GRACE_MS) == 0)
                return;
        log_warning("vm: QEMU ignored SIGTERM for %d s, killing it", KILL_GRACE_MS / 1000);
        (void) kill(pid, SIGKILL);
        (void) reap(pid, status, -1);
}

static int exit_status(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

int qemu_run(const QemuRun *c, QemuResult *ret) {
        _cleanup_close_ int sfd = -EBADF, rd = -EBADF;
        int pipefd[2], status = 0, r = 0;
        sigset_t stop, old_mask;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
        static LineWatch w; /* 1 KiB, not on the stack; vm_run is not reentrant anyway */

        *ret = (QemuResult){ .exit_status = -1, .payload_status = -1 };
        w = (LineWatch){ .echo = c->log_fd >= 0, .payload_status = -1 };

        /* The user's Ctrl-C, a test harness's SIGTERM: stop QEMU, clean up, report. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &stop, &old_mask) < 0)
                return -errno;
        (void) sigaction(SIGPIPE, &ign, &old_pipe);

        sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                r = error_wrapf(-errno, "vm: signalfd");
                goto restore;
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = error_wrapf(-errno, "vm: pipe");
                goto restore;
        }
        rd = pipefd[0];

        /* Own process group: the terminal's Ctrl-C reaches berth, which stops QEMU. */
        pid_t pid;
        r = spawn_start(
                c->argv,
                &(SpawnOptions){ .out_fd = pipefd[1], .own_group = true, .unblock_signals = true },
                &pid);
        (void) close(pipefd[1]);
        if (r < 0) {
                r = error_wrapf(r, "vm: cannot start %s", c->argv[0]);
                goto restore;
        }

        long long start = now_ms();
        int out_fd = c->log_fd >= 0 ? c->log_fd : STDOUT_FILENO;
        for (;;) {
                long long t = now_ms(), wait_ms = -1;
                if (c->timeout_s > 0) {
                        long long left = start + (long long) c->timeout_s * 1000 - t;
                        if (left <= 0) {
                                r = -ETIMEDOUT;
                                break;
                        }
                        wait_ms = left;
                }
                if (c->first_output_s > 0 && !ret->got_output) {
                        long long left = start + (long long) c->first_output_s * 1000 - t;
                        if (left <= 0) {
                                r = -ESTALE;
                                break;
                        }
                        wait_ms = wait_ms < 0 ? left : MIN(wait_ms, left);
                }

                struct pollfd p[2] = { { .fd = rd, .events = POLLIN },
                                       { .fd = sfd, .events = POLLIN } };
                int k = poll(p, 2, wait_ms > INT32_MAX ? INT32_MAX : (int) wait_ms);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = error_wrapf(-errno, "vm: poll");
                        break;
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si)
                                log_notice("vm: got signal %u, stopping QEMU", si.ssi_signo);
                        r = -EINTR;
                        break;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        char buf[4096];
                        ssize_t n = read(rd, buf, sizeof buf);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                break; /* QEMU closed the console: it is exiting */
                        ret->got_output = true;
                        write_all_ignore(out_fd, buf, (size_t) n);
                        line_feed(&w, buf, (size_t) n);
                        if (w.fatal) {
                                r = -ECANCELED;
                                break;
                        }
                }
        }

        if (r < 0)
                stop_qemu(pid, &status);
        else {
                int k = reap(pid, &status, -1);
                if (k < 0)
                        r = error_wrapf(k, "vm: waitpid");
        }
        if (w.len > 0)
                line_done(&w);
        ret->exit_status = exit_status(status);
        ret->payload_status = w.payload_status;
        ret->failures = w.failures;
        memcpy(ret->failure, w.failure, sizeof ret->failure);

restore:
        (void) sigaction(SIGPIPE, &old_pipe, NULL);
        (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return r;
}
