/* SPDX-License-Identifier: MIT */
/* The supervisor as an ordinary process (no cgroups, no mounts), with
 * hand-made services of /bin/sh scripts. Each test forks the supervisor,
 * watches files the scripts write, and stops it with SIGTERM. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "initutil.h"
#include "macro.h"
#include "service.h"
#include "strv.h"
#include "supervise.h"

typedef struct Fixture {
        char dir[64];
        char log_dir[128];
        Service services[8];
        size_t n;
        pid_t supervisor; /* killed by teardown if a failed test left it running */
        bool first_boot;  /* SuperviseConfig.first_boot */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/berth-supervise-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->log_dir, sizeof f->log_dir, "%s/log", f->dir);
        assert_int_equal(mkdir_p(f->log_dir, 0755), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        /* Still our unreaped child: a failed assertion skipped stop(). */
        if (f->supervisor > 0 && waitpid(f->supervisor, NULL, WNOHANG) == 0) {
                (void) kill(f->supervisor, SIGKILL);
                (void) waitpid(f->supervisor, NULL, 0);
        }
        for (size_t i = 0; i < f->n; i++)
                service_done(&f->services[i]);
        (void) rm_rf(f->dir);
        free(f);
        return 0;
}

/* A service running `sh -c SCRIPT` where every %D in the script is the test dir. */
static Service *add(Fixture *f, const char *name, const char *script) {
        Service *s = &f->services[f->n++];
        char buf[1024];
        size_t n = 0;

        for (const char *p = script; *p && n < sizeof buf - 80; p++) {
                if (p[0] == '%' && p[1] == 'D') {
                        n += (size_t) snprintf(buf + n, sizeof buf - n, "%s", f->dir);
                        p++;
                } else
                        buf[n++] = *p;
        }
        buf[n] = 0;

        *s = (Service){
                .ready = SERVICE_READY_STARTED,
                .restart = SERVICE_RESTART_NO,
                .restart_sec = 1,
                .restart_max_sec = 30,
                .stop_signal = SIGTERM,
                .stop_timeout_s = 2,
        };
        snprintf(s->name, sizeof s->name, "%s", name);
        assert_int_equal(strv_extend(&s->argv, "/bin/sh"), 0);
        assert_int_equal(strv_extend(&s->argv, "-c"), 0);
        assert_int_equal(strv_extend(&s->argv, buf), 0);
        return s;
}

static char *fpath(Fixture *f, const char *name) {
        char *p = path_join(f->dir, name);
        assert_non_null(p);
        return p;
}

static bool wait_for_file(Fixture *f, const char *name, unsigned ms) {
        _cleanup_free_ char *p = fpath(f, name);
        for (unsigned i = 0; i < ms / 20; i++) {
                if (access(p, F_OK) == 0)
                        return true;
                usleep(20 * 1000);
        }
        return access(p, F_OK) == 0;
}

static char *slurp(Fixture *f, const char *name) {
        _cleanup_free_ char *p = fpath(f, name);
        char *d = NULL;
        if (read_full_file(p, &d, NULL, 0) < 0)
                return strdup("");
        return d;
}

static pid_t start(Fixture *f) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                ServiceSet set = { .services = f->services, .n = f->n };
                _cleanup_free_ char *notify = fpath(f, "notify");
                _cleanup_free_ char *status = fpath(f, "services");
                _cleanup_free_ char *control = fpath(f, "init.sock");
                SuperviseConfig cfg = {
                        .log_dir = f->log_dir,
                        .notify_path = notify,
                        .status_dir = status,
                        .control_path = control,
                        .console_fd = -1,
                        .subreaper = true,
                        .first_boot = f->first_boot,
                };
                ShutdownAction a;
                int r = supervise_run(&set, &cfg, &a);
                _exit(r < 0 ? 1 : a == SHUTDOWN_REBOOT ? 0 : 2);
        }
        f->supervisor = pid;
        return pid;
}

static void stop(pid_t pid) {
        int status;
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_after_waits_for_path_readiness(void **state) {
        Fixture *f = *state;
        Service *a = add(f, "a", "sleep 0.3; touch %D/a.ready; exec sleep 100");
        a->ready = SERVICE_READY_PATH;
        assert_non_null(a->ready_path = fpath(f, "a.ready"));
        Service *b = add(f, "b", "test -e %D/a.ready && echo ok > %D/b.ok; exec sleep 100");
        assert_int_equal(strv_extend(&b->after, "a"), 0);

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "b.ok", 15000));
        _cleanup_free_ char *ok = slurp(f, "b.ok");
        assert_string_equal(ok, "ok\n");
        stop(pid);
}

static void test_wants_does_not_block_on_a_failed_service(void **state) {
        Fixture *f = *state;
        add(f, "broken", "exit 1");
        Service *b = add(f, "user", "touch %D/user.ran; exec sleep 100");
        assert_int_equal(strv_extend(&b->wants, "broken"), 0);
        assert_int_equal(strv_extend(&b->wants, "absent"), 0);

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "user.ran", 15000));
        stop(pid);
}

/* Lines of FILE in the test dir, 0 if it does not exist. */
static size_t count_lines(Fixture *f, const char *name) {
        _cleanup_free_ char *d = slurp(f, name);
        size_t n = 0;
        for (char *p = d; (p = strchr(p, '\n')); p++)
                n++;
        return n;
}

static void test_crash_restarts_with_doubling_backoff(void **state) {
        Fixture *f = *state;
        /* Each run appends its start time in ns: the time of a run is taken
         * before it exits and the next run starts only after the backoff that
         * began at that exit, so every gap is at least its backoff however
         * loaded the machine is. Load only makes gaps longer. */
        Service *c = add(f, "crash", "date +%s%N >> %D/starts; exit 3");
        c->restart = SERVICE_RESTART_ON_FAILURE;
        c->restart_sec = 0; /* 0.1 s, 0.2 s, 0.4 s, 0.8 s, ... */

        pid_t pid = start(f);
        /* Four runs take 0.7 s unloaded; allow 15 s. */
        for (unsigned i = 0; i < 750 && count_lines(f, "starts") < 4; i++)
                usleep(20 * 1000);
        stop(pid);

        _cleanup_free_ char *starts = slurp(f, "starts");
        unsigned long long t[4];
        char *p = starts;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char *end;
                t[i] = strtoull(p, &end, 10);
                assert_true(end > p && *end == '\n');
                p = end + 1;
        }
        /* Each restart waits at least its doubling backoff (less 5 ms for
         * clock granularity): a fixed 0.1 s delay fails the third gap, no
         * backoff at all the first. */
        static const unsigned long long backoff_ms[] = { 100, 200, 400 };
        for (size_t i = 0; i < ELEMENTSOF(backoff_ms); i++) {
                unsigned long long gap_ms = (t[i + 1] - t[i]) / 1000000ULL;
                print_message("restart %zu after %llu ms (backoff %llu ms)\n", i + 1, gap_ms,
                              backoff_ms[i]);
                assert_true(t[i + 1] > t[i]);
                assert_true(gap_ms + 5 >= backoff_ms[i]);
        }

        _cleanup_free_ char *log = fpath(f, "log/crash.log");
        assert_int_equal(access(log, F_OK), 0);
}

static void test_restart_no_leaves_clean_exit_alone(void **state) {
        Fixture *f = *state;
        add(f, "once", "echo run >> %D/count; exit 0");
        Service *n = add(f, "next", "touch %D/next.ran; exec sleep 100");
        /* A service that ran to completion satisfies After=. */
        assert_int_equal(strv_extend(&n->after, "once"), 0);

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "next.ran", 15000));
        usleep(300 * 1000);
        stop(pid);
        _cleanup_free_ char *count = slurp(f, "count");
        assert_string_equal(count, "run\n");
}

static void test_never_ready_fails_after_timeout(void **state) {
        Fixture *f = *state;
        Service *d = add(f, "stuck", "echo $$ > %D/stuck.pid; exec sleep 100");
        d->ready = SERVICE_READY_PATH;
        assert_non_null(d->ready_path = fpath(f, "never"));
        d->ready_timeout_s = 1;
        Service *e = add(f, "dependent", "touch %D/dependent.ran; exec sleep 100");
        assert_int_equal(strv_extend(&e->after, "stuck"), 0);

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "stuck.pid", 15000));
        _cleanup_free_ char *spid = slurp(f, "stuck.pid");
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/%d", atoi(spid));
        assert_int_equal(access(proc, F_OK), 0);

        /* Killed and reaped after its 1 s timeout; allow 15 s on a loaded machine. */
        for (unsigned i = 0; i < 750 && access(proc, F_OK) == 0; i++)
                usleep(20 * 1000);
        assert_int_equal(access(proc, F_OK), -1);
        /* Its dependent never started. */
        assert_false(wait_for_file(f, "dependent.ran", 0));
        stop(pid);
}

static void test_notify_ready(void **state) {
        Fixture *f = *state;
        /* No notify client in the base system is guaranteed; skip where the
         * test can't send a datagram with credentials from a shell. */
        if (access("/usr/bin/python3", X_OK) < 0)
                skip_test("/usr/bin/python3 is not installed");
        Service *n = add(f, "notifier",
                         "exec /usr/bin/python3 -c 'import os,socket,time\n"
                         "s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\n"
                         "time.sleep(0.2)\n"
                         "s.sendto(b\"READY=1\",os.environ[\"NOTIFY_SOCKET\"])\n"
                         "time.sleep(100)'");
        n->ready = SERVICE_READY_NOTIFY;
        n->ready_timeout_s = 15;
        Service *m = add(f, "after-notify", "touch %D/after.ran; exec sleep 100");
        assert_int_equal(strv_extend(&m->after, "notifier"), 0);

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "after.ran", 15000));
        stop(pid);
}

static void test_stop_in_reverse_order(void **state) {
        Fixture *f = *state;
        static const char *const names[] = { "one", "two", "three" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char script[256];
                snprintf(script, sizeof script,
                         "trap 'echo %s >> %%D/stopped; exit 0' TERM; touch %%D/%s.up; "
                         "while :; do sleep 0.05; done",
                         names[i], names[i]);
                Service *s = add(f, names[i], script);
                if (i > 0)
                        assert_int_equal(strv_extend(&s->after, names[i - 1]), 0);
        }

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "three.up", 15000));
        stop(pid);
        _cleanup_free_ char *order = slurp(f, "stopped");
        assert_string_equal(order, "three\ntwo\none\n");
}

static void test_stop_timeout_kills_the_process_group(void **state) {
        Fixture *f = *state;
        Service *s = add(f, "stubborn", "trap '' TERM; touch %D/up; while :; do sleep 0.05; done");
        s->stop_timeout_s = 1;

        pid_t pid = start(f);
        assert_true(wait_for_file(f, "up", 15000));
        usec_t t = now_usec();
        stop(pid);
        assert_true(now_usec() - t >= 900 * USEC_PER_MSEC);
}

/* Waits until the status file of name shows state (and, if pid_not > 0, a
 * pid other than pid_not); fills st. */
static bool wait_for_status(Fixture *f, const char *name, const char *state, int pid_not,
                            unsigned restarts, ServiceStatus *st, unsigned ms) {
        _cleanup_free_ char *dir = fpath(f, "services");
        for (unsigned i = 0; i <= ms / 20; i++) {
                if (service_status_read(dir, name, st) == 0 && streq(st->state, state) &&
                    (pid_not <= 0 || st->pid != pid_not) && st->restarts >= restarts)
                        return true;
                usleep(20 * 1000);
        }
        return false;
}

/* Waits until the file has n lines: Ready=started is ready at fork, before
 * the script ran its first command. */
static bool wait_for_lines(Fixture *f, const char *name, size_t n, unsigned ms) {
        for (unsigned i = 0; i <= ms / 20; i++) {
                _cleanup_free_ char *text = slurp(f, name);
                size_t lines = 0;
                for (char *p = text; (p = strchr(p, '\n')); p++)
                        lines++;
                if (lines >= n)
                        return lines == n;
                usleep(20 * 1000);
        }
        return false;
}

static void test_status_files_and_control(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *sock = fpath(f, "init.sock");
        ServiceStatus st;
        char reply[INITCTL_REPLY_MAX];

        add(f, "daemon", "echo $$ >> %D/daemon.pids; exec sleep 100");
        add(f, "oneshot", "exit 4");
        pid_t pid = start(f);

        assert_true(wait_for_status(f, "daemon", "ready", 0, 0, &st, 3000));
        assert_true(wait_for_lines(f, "daemon.pids", 1, 3000));
        int first = st.pid;
        struct stat sst;
        assert_int_equal(stat(sock, &sst), 0);
        assert_int_equal(sst.st_mode & 07777, 0600);
        assert_true(first > 0);
        assert_int_equal(st.restarts, 0);
        assert_true(st.ready_usec > 0);
        assert_true(wait_for_status(f, "oneshot", "failed", 0, 0, &st, 3000));
        assert_int_equal(st.pid, 0);
        assert_int_equal(st.exit_status, 4);

        /* restart: a new process, the count goes up, the old one got SIGTERM. */
        assert_int_equal(
                initctl_request(sock, INITCTL_RESTART, "daemon", 3000, reply, sizeof reply), 0);
        assert_string_equal(reply, "ok restarting daemon");
        assert_true(wait_for_status(f, "daemon", "ready", first, 1, &st, 3000));
        assert_true(wait_for_lines(f, "daemon.pids", 2, 3000));
        assert_int_equal(st.restarts, 1);
        assert_int_equal(st.exit_signal, SIGTERM);
        assert_int_equal(kill(first, 0), -1);

        /* stop, then start again. */
        assert_int_equal(initctl_request(sock, INITCTL_STOP, "daemon", 3000, reply, sizeof reply),
                         0);
        assert_true(wait_for_status(f, "daemon", "stopped", 0, 0, &st, 3000));
        assert_int_equal(st.pid, 0);
        assert_int_equal(initctl_request(sock, INITCTL_START, "daemon", 3000, reply, sizeof reply),
                         0);
        assert_true(wait_for_status(f, "daemon", "ready", 0, 2, &st, 3000));
        assert_int_equal(st.restarts, 2);
        assert_true(wait_for_lines(f, "daemon.pids", 3, 3000));

        /* A failed service can be started again by hand. */
        assert_int_equal(initctl_request(sock, INITCTL_START, "oneshot", 3000, reply, sizeof reply),
                         0);
        assert_true(wait_for_status(f, "oneshot", "failed", 0, 1, &st, 3000));
        assert_int_equal(st.restarts, 1);

        /* Unknown services are refused with PID 1's reason. */
        assert_int_equal(
                initctl_request(sock, INITCTL_RESTART, "nothere", 3000, reply, sizeof reply),
                -EBADR);
        assert_string_equal(reply, "error no such service: nothere");

        stop(pid);
}

/* Connects to the Unix socket path and reads what the server sends until it closes. */
static int ask(const char *path, char *buf, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        size_t n = 0;
        ssize_t k;

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        while (n + 1 < size && (k = read(fd, buf + n, size - n - 1)) > 0)
                n += (size_t) k;
        buf[n] = 0;
        safe_close(fd);
        return 0;
}

static void test_listen_stream_starts_on_a_connection(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *sock = fpath(f, "api.sock");
        ServiceStatus st;
        char buf[256];
        struct stat sst;

        /* The service checks what sd_listen_fds() checks, answers one
         * connection on fd 3 with its pid and leaves after a moment. */
        Service *s = add(f, "api",
                         "echo \"$LISTEN_FDS $LISTEN_PID $$\" >> %D/api.starts; exec python3 -c '"
                         "import os, socket, time\n"
                         "l = socket.socket(fileno=3)\n"
                         "c, _ = l.accept()\n"
                         "c.sendall(str(os.getpid()).encode())\n"
                         "c.close()\n"
                         "time.sleep(1.2)'");
        s->listen_stream = strdup(sock);
        assert_non_null(s->listen_stream);
        pid_t pid = start(f);

        /* Listening, not running, root only. */
        assert_true(wait_for_status(f, "api", "listening", 0, 0, &st, 3000));
        assert_int_equal(st.pid, 0);
        assert_int_equal(stat(sock, &sst), 0);
        assert_true(S_ISSOCK(sst.st_mode));
        assert_int_equal(sst.st_mode & 07777, 0600);
        _cleanup_free_ char *none = fpath(f, "api.starts");
        assert_int_equal(access(none, F_OK), -1);

        /* A connection starts it; it answers on the passed socket. */
        assert_int_equal(ask(sock, buf, sizeof buf), 0);
        assert_true(wait_for_lines(f, "api.starts", 1, 3000));
        _cleanup_free_ char *line = slurp(f, "api.starts");
        int fds = 0, lpid = 0, self = 0;
        assert_int_equal(sscanf(line, "%d %d %d", &fds, &lpid, &self), 3);
        assert_int_equal(fds, 1);
        assert_int_equal(lpid, self);
        assert_int_equal(atoi(buf), self);

        /* It exits; PID 1 listens again, and the next connection starts a
         * new process, which is not counted as a restart. */
        assert_true(wait_for_status(f, "api", "listening", 0, 0, &st, 5000));
        assert_int_equal(st.pid, 0);
        assert_int_equal(st.exit_status, 0);
        assert_int_equal(ask(sock, buf, sizeof buf), 0);
        assert_true(atoi(buf) > 0 && atoi(buf) != self);
        assert_true(wait_for_lines(f, "api.starts", 2, 3000));
        assert_true(wait_for_status(f, "api", "listening", 0, 0, &st, 5000));
        assert_int_equal(st.restarts, 0);

        stop(pid);
        /* PID 1 removes its socket on the way down. */
        assert_int_equal(access(sock, F_OK), -1);
}

static void test_start_every_runs_on_a_schedule(void **state) {
        Fixture *f = *state;
        ServiceStatus st;

        Service *s = add(f, "tick", "echo x >> %D/ticks");
        s->start_every_s = 1;
        s->start_jitter_s = 1;
        pid_t pid = start(f);

        /* Not at start: scheduled, from 1 to 2 s away. */
        assert_true(wait_for_status(f, "tick", "scheduled", 0, 0, &st, 3000));
        _cleanup_free_ char *ticks = fpath(f, "ticks");
        assert_int_equal(access(ticks, F_OK), -1);
        assert_true(wait_for_lines(f, "ticks", 1, 5000));
        assert_true(wait_for_lines(f, "ticks", 2, 5000));
        assert_true(wait_for_status(f, "tick", "scheduled", 0, 0, &st, 3000));
        assert_int_equal(st.exit_status, 0);
        assert_int_equal(st.restarts, 0);
        stop(pid);
}

static void test_control_refuses_junk_and_idle_clients_do_not_block(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *sock = fpath(f, "init.sock");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int idle[6];
        char reply[INITCTL_REPLY_MAX];
        ServiceStatus st;

        add(f, "daemon", "exec sleep 100");
        pid_t pid = start(f);
        assert_true(wait_for_status(f, "daemon", "ready", 0, 0, &st, 3000));
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);

        /* More silent clients than PID 1 has slots: the extra ones are told
         * it is busy, and PID 1 goes on serving. */
        for (size_t i = 0; i < ELEMENTSOF(idle); i++) {
                idle[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                assert_true(idle[i] >= 0);
                assert_int_equal(connect(idle[i], (struct sockaddr *) &sa, sizeof sa), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(idle); i++)
                (void) close(idle[i]);

        /* A request longer than a line is refused whole. Until PID 1 has seen
         * the idle clients go, it may still answer "busy" (or reset the
         * connection while saying so): try again. */
        char big[4096];
        memset(big, 'a', sizeof big);
        reply[0] = 0;
        for (unsigned i = 0; i < 100 && !strneq(reply, "error bad request", 17); i++) {
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
                assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t) sizeof big);
                ssize_t k = recv(fd, reply, sizeof reply - 1, 0);
                reply[MAX(k, 0)] = 0;
                (void) close(fd);
                if (!strneq(reply, "error bad request", 17))
                        usleep(30 * 1000);
        }
        assert_string_equal(reply, "error bad request, expected: start|stop|restart NAME");

        assert_int_equal(
                initctl_request(sock, INITCTL_RESTART, "daemon", 3000, reply, sizeof reply), 0);
        assert_true(wait_for_status(f, "daemon", "ready", st.pid, 1, &st, 3000));
        assert_int_equal(st.restarts, 1);
        stop(pid);
}

static void test_condition_first_boot(void **state) {
        Fixture *f = *state;
        ServiceStatus st;

        Service *s = add(f, "provision", "touch %D/provision.ran; exec sleep 100");
        s->condition_first_boot_set = true;
        s->condition_first_boot = true;
        s = add(f, "later", "touch %D/later.ran; exec sleep 100");
        s->condition_first_boot_set = true;
        s->condition_first_boot = false;
        add(f, "always", "touch %D/always.ran; exec sleep 100");

        f->first_boot = true;
        pid_t pid = start(f);
        assert_true(wait_for_file(f, "provision.ran", 3000));
        assert_true(wait_for_file(f, "always.ran", 3000));
        assert_true(wait_for_status(f, "later", "skipped", 0, 0, &st, 3000));
        stop(pid);
        _cleanup_free_ char *later = fpath(f, "later.ran");
        assert_int_equal(access(later, F_OK), -1);

        /* The next boot: the other way round. */
        _cleanup_free_ char *prov = fpath(f, "provision.ran");
        assert_int_equal(unlink(prov), 0);
        f->first_boot = false;
        pid = start(f);
        assert_true(wait_for_file(f, "later.ran", 3000));
        assert_true(wait_for_status(f, "provision", "skipped", 0, 0, &st, 3000));
        stop(pid);
        assert_int_equal(access(prov, F_OK), -1);
}

static void test_condition_cmdline(void **state) {
        const char *cmdline = "usrhash=ab berth.payload=1 quiet \"x=a b\"";
        assert_true(supervise_condition_cmdline(cmdline, "berth.payload=1"));
        assert_false(supervise_condition_cmdline(cmdline, "berth.payload=0"));
        assert_true(supervise_condition_cmdline(cmdline, "quiet"));
        assert_true(supervise_condition_cmdline(cmdline, "x=a b"));
        assert_false(supervise_condition_cmdline(cmdline, "berth"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_after_waits_for_path_readiness, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_wants_does_not_block_on_a_failed_service,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_restarts_with_doubling_backoff, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_restart_no_leaves_clean_exit_alone, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_never_ready_fails_after_timeout, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_notify_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_in_reverse_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_timeout_kills_the_process_group, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_status_files_and_control, setup, teardown),
                cmocka_unit_test_setup_teardown(test_listen_stream_starts_on_a_connection, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_start_every_runs_on_a_schedule, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_control_refuses_junk_and_idle_clients_do_not_block, setup, teardown),
                cmocka_unit_test_setup_teardown(test_condition_first_boot, setup, teardown),
                cmocka_unit_test(test_condition_cmdline),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
