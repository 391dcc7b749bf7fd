/* SPDX-License-Identifier: MIT */
/* berthd: the node API (docs/api.md), HTTP/1.1 + JSON on a Unix socket, root
 * only. Options move every path, so tests run it against a temporary root. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "boot.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "logs.h"
#include "partition.h"
#include "vport.h"

#define BODY_MAX (64u * 1024)
#define IDLE_TIMEOUT_S 10

static int listen_unix(const char *path, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (strlen(path) >= sizeof sa.sun_path)
                return error_setf(EINVAL, "%s: socket path too long", path);
        strcpy(sa.sun_path, path);
        r = mkdir_parents(path, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create the directory of %s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return error_wrapf(-errno, "cannot create a socket");
        (void) unlink(path);
        /* Root only twice over: the socket's mode, and SO_PEERCRED on every
         * connection (http.c). */
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0)
                return error_wrapf(-errno, "cannot bind %s", path);
        if (listen(fd, 16) < 0)
                return error_wrapf(-errno, "cannot listen on %s", path);
        *ret = TAKE_FD(fd);
        return 0;
}

/* The socket PID 1 passed (ListenStream=, docs/services.md): LISTEN_PID is
 * ours and LISTEN_FDS=1, fd 3 a listening Unix stream socket. 1 if so,
 * 0 when not started that way (then berthd binds the socket itself). */
static int listen_passed(int *ret) {
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        char want[32];
        int type = 0, listening = 0;
        socklen_t len = sizeof type;

        snprintf(want, sizeof want, "%d", (int) getpid());
        if (!pid || !fds || !streq(pid, want))
                return 0;
        (void) unsetenv("LISTEN_PID");
        (void) unsetenv("LISTEN_FDS");
        if (!streq(fds, "1"))
                return error_setf(EINVAL, "LISTEN_FDS=%s: expected one socket", fds);
        if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
            getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
                return error_setf(EINVAL, "fd 3 is not a listening stream socket");
        if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 || fcntl(3, F_SETFL, O_NONBLOCK) < 0)
                return error_wrapf(-errno, "fd 3");
        *ret = 3;
        return 1;
}

/* berthd --vport-relay (berthd-vport.service): only the relay of the
 * virtio-serial port to the API socket, which PID 1 holds, so a request from
 * the host starts berthd like any other. Without a virtio console device
 * there is nothing to relay: it exits 0 at once. */
static int run_vport_relay(const char *socket_path, const sigset_t *mask) {
        int sig, r;

        if (!vport_device_present("/sys/bus/virtio/devices")) {
                printf("berthd: no virtio console device, nothing to relay\n");
                return 0;
        }
        r = vport_relay_start("/sys/class/virtio-ports", VPORT_NAME, 60, socket_path);
        if (r < 0)
                return r;
        for (;;) {
                sig = sigtimedwait(mask, NULL, &(struct timespec){ .tv_sec = 1 });
                if (sig > 0)
                        break;
                if (!vport_relay_running()) {
                        printf("berthd: no virtio port named %s, nothing to relay\n", VPORT_NAME);
                        return 0;
                }
        }
        for (unsigned i = 0; i < 20 && vport_relay_busy(); i++)
                (void) usleep(100 * 1000);
        return 0;
}

/* Serves until a stop signal, or, with idle_s > 0, until no connection was
 * open for idle_s seconds: then it stops accepting, lets the open ones end
 * and returns; what arrives later waits in the socket's queue, where PID 1
 * sees it and starts berthd again. */
static int serve(HttpServer *server, const sigset_t *mask, unsigned idle_s) {
        struct timespec tick = { .tv_sec = 1 };
        bool quiet = false;

        for (;;) {
                int sig = idle_s > 0 ? sigtimedwait(mask, NULL, &tick) : -1;
                if (idle_s == 0 && sigwait(mask, &sig) != 0)
                        return -EINTR;
                if (sig > 0)
                        return 0;
                uint64_t idle = http_server_idle_usec(server);
                if (quiet && idle > 0)
                        return 0;
                if (!quiet && idle >= (uint64_t) idle_s * 1000000u && !vport_relay_busy()) {
                        printf("berthd: no connection for %us, exiting\n", idle_s);
                        fflush(stdout);
                        http_server_quiesce(server);
                        quiet = true;
                }
        }
}

/* berthd --boot: before any service (boot.h). Exit status 65 (EX_DATAERR)
 * tells berth-init that the user data was invalid and the boot must stop. */
static int run_boot(const char *root, const Api *api, const char *esp, const char *user_data) {
        _cleanup_free_ char *keep = path_join(root, "var/lib/berth/etc"),
                            *cidata = path_join(api->run_dir, "cidata"),
                            *esp_file = path_join(esp, "berth/user-data");
        int r;

        if (!keep || !cidata || !esp_file)
                return -ENOMEM;
        BootOptions o = {
                .root = root,
                .settings_dir = api->settings_dir,
                .etc = api->etc,
                .factory = api->factory,
                .keep_etc = keep,
                .done_marker = api->user_data_done,
                .esp = esp,
                .sources = {
                        .fw_cfg = user_data,
                        .config_drive = streq(root, "/"),
                        .cidata_mount = cidata,
                        .esp_file = esp_file,
                },
        };
        r = boot_run(&o);
        if (r == -EBADMSG)
                exit(EXIT_CODE_DATAERR);
        return r;
}

static int run(int argc, char **argv) {
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' },
                { "settings-dir", required_argument, NULL, 'd' },
                { "etc", required_argument, NULL, 'e' },
                { "factory", required_argument, NULL, 'f' },
                { "run-dir", required_argument, NULL, 'r' },
                { "os-release", required_argument, NULL, 'o' },
                { "cmdline", required_argument, NULL, 'c' },
                { "log-dir", required_argument, NULL, 'l' },
                { "init-pid", required_argument, NULL, 'p' },
                { "ready-timeout", required_argument, NULL, 't' },
                { "boot", no_argument, NULL, 'b' },
                { "root", required_argument, NULL, 'R' },
                { "esp", required_argument, NULL, 'E' },
                { "user-data", required_argument, NULL, 'u' },
                { "no-vport", no_argument, NULL, 'V' },
                { "vport-relay", no_argument, NULL, 'P' },
                { "idle-exit", required_argument, NULL, 'I' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Api api = {
                .settings_dir = SETTINGS_DIR,
                .etc = "/etc",
                .factory = "/usr/share/factory/etc",
                .run_dir = "/run/berth",
                .os_release = "/usr/lib/os-release",
                .cmdline = "/proc/cmdline",
                .log_dir = "/var/log/berth",
                .init_pid = 1,
                .ready_timeout_s = 60,
        };
        const char *socket_path = "/run/berth/api.sock";
        const char *root = "/", *esp = "/efi",
                   *user_data = "/sys/firmware/qemu_fw_cfg/by_name/opt/berth/user-data/raw";
        bool boot = false, vport = true, esp_given = false, relay_only = false;
        unsigned idle_s = 0;
        _cleanup_(http_server_stopp) HttpServer *server = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned n;
        sigset_t mask;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        socket_path = optarg;
                        break;
                case 'd':
                        api.settings_dir = optarg;
                        break;
                case 'e':
                        api.etc = optarg;
                        break;
                case 'f':
                        api.factory = optarg;
                        break;
                case 'r':
                        api.run_dir = optarg;
                        break;
                case 'o':
                        api.os_release = optarg;
                        break;
                case 'c':
                        api.cmdline = optarg;
                        break;
                case 'l':
                        api.log_dir = optarg;
                        break;
                case 'p':
                        r = cli_number_arg("--init-pid", optarg, 1, 4194304, &n);
                        if (r < 0)
                                return r;
                        api.init_pid = (pid_t) n;
                        break;
                case 't':
                        r = cli_number_arg("--ready-timeout", optarg, 1, 3600, &n);
                        if (r < 0)
                                return r;
                        api.ready_timeout_s = n;
                        break;
                case 'b':
                        boot = true;
                        break;
                case 'R':
                        root = optarg;
                        break;
                case 'E':
                        esp = optarg;
                        esp_given = true;
                        break;
                case 'u':
                        user_data = optarg;
                        break;
                case 'V':
                        vport = false;
                        break;
                case 'P':
                        relay_only = true;
                        break;
                case 'I':
                        r = cli_number_arg("--idle-exit", optarg, 0, 86400, &idle_s);
                        if (r < 0)
                                return r;
                        break;
                case 'h':
                        printf("usage: berthd [--socket PATH] [--settings-dir DIR] [--etc DIR] "
                               "[--factory DIR] [--run-dir DIR] [--os-release FILE] "
                               "[--cmdline FILE] [--log-dir DIR] [--init-pid PID] "
                               "[--ready-timeout S] [--esp DIR] [--no-vport] [--idle-exit S]\n"
                               "       berthd --vport-relay [--socket PATH]\n"
                               "       berthd --boot [--root DIR] [--settings-dir DIR] "
                               "[--etc DIR] [--factory DIR] [--esp DIR] [--user-data FILE]\n");
                        return 0;
                default:
                        return cli_usage_error("unknown option");
                }
        if (optind < argc)
                return cli_usage_error("unexpected argument '%s'", argv[optind]);
        /* Next to the settings directory: /var/lib/berth/user-data.done. */
        size_t len = strlen(api.settings_dir);
        while (len > 1 && api.settings_dir[len - 1] == '/')
                len--;
        while (len > 0 && api.settings_dir[len - 1] != '/')
                len--;
        _cleanup_free_ char *done =
                strdup_printf("%.*suser-data.done", (int) len, len > 0 ? api.settings_dir : "./");
        if (!done)
                return -ENOMEM;
        api.user_data_done = done;
        /* The update agent's state, also next to it: /var/lib/berth/update/reboot-lock. */
        _cleanup_free_ char *lock = strdup_printf("%.*supdate/reboot-lock", (int) len,
                                                  len > 0 ? api.settings_dir : "./");
        if (!lock)
                return -ENOMEM;
        api.reboot_lock = lock;
        if (boot)
                return run_boot(root, &api, esp, user_data);
        /* The live parts of apply touch the running kernel only when berthd
         * serves the machine's own /etc (not a test's temporary root). */
        if (streq(api.etc, "/etc")) {
                api.proc_sys = "/proc/sys";
                api.set_hostname = true;
        }
        if (streq(api.etc, "/etc") || esp_given)
                api.esp = esp;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        if (relay_only)
                return run_vport_relay(socket_path, &mask);
        r = listen_passed(&fd);
        if (r < 0)
                return r;
        /* Started by PID 1 for a connection: berthd-vport.service relays the
         * port, not this short-lived process. */
        if (r > 0)
                vport = false;
        else {
                r = listen_unix(socket_path, &fd);
                if (r < 0)
                        return r;
        }
        r = http_server_start_streams(fd, BODY_MAX, IDLE_TIMEOUT_S, api_handle, logs_handle, &api,
                                      &server);
        if (r < 0)
                return r;
        http_server_on_completed(server, api_completed);
        if (fd == 3)
                printf("berthd: serving the socket passed as fd 3 (LISTEN_FDS)\n");
        else
                printf("berthd: listening on %s\n", socket_path);
        fflush(stdout);
        /* berth vm --api: the port's driver may still be loading (coldplug). */
        if (vport && vport_device_present("/sys/bus/virtio/devices")) {
                r = vport_relay_start("/sys/class/virtio-ports", VPORT_NAME, 60, socket_path);
                if (r < 0)
                        log_warning_errno(r, "%s", error_message(r));
        }
        r = serve(server, &mask, idle_s);
        if (r < 0)
                return r;
        /* An answer still on its way through the relay (the one to a
         * power-off, say) gets a moment to reach the host. */
        for (unsigned i = 0; i < 20 && vport_relay_busy(); i++)
                (void) usleep(100 * 1000);
        server = http_server_stop(server);
        /* PID 1's socket stays where it is, for the next connection. */
        if (fd != 3)
                (void) unlink(socket_path);
        return 0;
}

int main(int argc, char **argv) {
        return cli_finish(run(argc, argv));
}
