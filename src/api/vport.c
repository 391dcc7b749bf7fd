/* SPDX-License-Identifier: MIT */
/* The API relay over a virtio-serial port (vport.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "vport.h"

#define HOST_GONE_WAIT_MS 200

static atomic_bool relay_busy, relay_running;

bool vport_relay_busy(void) {
        return atomic_load(&relay_busy);
}

bool vport_relay_running(void) {
        return atomic_load(&relay_running);
}

typedef struct Relay {
        char *sys_class, *name, *socket_path;
        unsigned wait_s;
} Relay;

static void sleep_ms(unsigned ms) {
        (void) nanosleep(
                &(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000 },
                NULL);
}

bool vport_device_present(const char *sys_bus_virtio) {
        _cleanup_(closedirp) DIR *d = opendir(sys_bus_virtio);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *id = NULL;

                if (de->d_name[0] == '.')
                        continue;
                p = strdup_printf("%s/%s/device", sys_bus_virtio, de->d_name);
                if (p && read_full_file(p, &id, NULL, 64) >= 0 && strneq(id, "0x0003", 6))
                        return true;
        }
        return false;
}

/* /dev/NAME of the port whose sysfs name is name, or NULL. */
static char *find_port(const char *sys_class, const char *name) {
        _cleanup_(closedirp) DIR *d = opendir(sys_class);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *n = NULL;

                if (de->d_name[0] == '.')
                        continue;
                p = strdup_printf("%s/%s/name", sys_class, de->d_name);
                if (!p || read_full_file(p, &n, NULL, 256) < 0)
                        continue;
                n[strcspn(n, "\n")] = 0;
                if (streq(n, name))
                        return strdup_printf("/dev/%s", de->d_name);
        }
        return NULL;
}

static int connect_api(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Writes all of buf to the non-blocking port; gives up when the host is gone. */
static int port_write(int port, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(port, buf, n);
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd p = { .fd = port, .events = POLLOUT };
                        if (poll(&p, 1, 5000) <= 0 || (p.revents & POLLHUP))
                                return -EPIPE;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EPIPE;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

static void relay(int port, const char *socket_path) {
        _cleanup_close_ int api = -EBADF;
        bool answered = false; /* the API connection sent bytes back */
        char buf[16384];

        for (;;) {
                struct pollfd p[2] = { { .fd = port, .events = POLLIN },
                                       { .fd = api, .events = POLLIN } };
                ssize_t n;

                atomic_store(&relay_busy, api >= 0);
                if (poll(p, api >= 0 ? 2 : 1, -1) < 0) {
                        if (errno != EINTR)
                                sleep_ms(HOST_GONE_WAIT_MS);
                        continue;
                }
                /* The answer (and berthd closing) first: a client that got
                 * its answer may already be sending the next request. */
                if (api >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        n = read(api, buf, sizeof buf);
                        if (n > 0)
                                answered = true;
                        if (n <= 0 || port_write(port, buf, n) < 0)
                                api = safe_close(api);
                }
                n = 0;
                if (p[0].revents & POLLIN)
                        n = read(port, buf, sizeof buf);
                if (n > 0) {
                        /* One request per connection (the CLI sends
                         * Connection: close, and HTTP/1.1 clients do not
                         * pipeline): bytes after an answer begin a new one. */
                        if (api >= 0 && answered)
                                api = safe_close(api);
                        if (api < 0) {
                                api = connect_api(socket_path);
                                answered = false;
                        }
                        if (api >= 0 && loop_write(api, buf, n) < 0)
                                api = safe_close(api);
                } else if (p[0].revents & (POLLHUP | POLLERR) ||
                           (n == 0 && p[0].revents & POLLIN)) {
                        /* No host on the other end (the port then polls as
                         * readable and hung up, and reads as end of file): a
                         * request half relayed is dropped. The port stays so
                         * until a host connects (SIGIO would say when; a
                         * short sleep is enough and keeps berthd free of
                         * signal handling). */
                        api = safe_close(api);
                        sleep_ms(HOST_GONE_WAIT_MS);
                }
        }
}

static void *relay_thread(void *userdata) {
        Relay *rl = userdata;
        _cleanup_free_ char *dev = NULL;
        int port;

        for (unsigned i = 0; i <= rl->wait_s * 5 && !dev; i++) {
                dev = find_port(rl->sys_class, rl->name);
                if (!dev)
                        sleep_ms(200);
        }
        if (!dev) {
                log_debug("no virtio port named %s", rl->name);
                atomic_store(&relay_running, false);
                return NULL;
        }
        port = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (port < 0) {
                log_warning_errno(-errno, "cannot open %s", dev);
                atomic_store(&relay_running, false);
                return NULL;
        }
        printf("berthd: relaying virtio port %s (%s) to %s\n", rl->name, dev, rl->socket_path);
        fflush(stdout);
        relay(port, rl->socket_path);
        return NULL;
}

int vport_relay_start(const char *sys_class, const char *name, unsigned wait_s,
                      const char *socket_path) {
        /* Lives as long as the process. */
        Relay *rl = calloc(1, sizeof *rl);
        pthread_attr_t attr;
        pthread_t t;
        int r;

        if (!rl)
                return -ENOMEM;
        rl->sys_class = strdup(sys_class);
        rl->name = strdup(name);
        rl->socket_path = strdup(socket_path);
        rl->wait_s = wait_s;
        if (!rl->sys_class || !rl->name || !rl->socket_path)
                return -ENOMEM;
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 128 * 1024);
        atomic_store(&relay_running, true);
        r = pthread_create(&t, &attr, relay_thread, rl);
        if (r != 0)
                atomic_store(&relay_running, false);
        (void) pthread_attr_destroy(&attr);
        return r != 0 ? error_wrapf(-r, "cannot start the virtio port relay") : 0;
}
