/* SPDX-License-Identifier: MIT */
/* sockready SOCKET [TIMEOUT_S]: waits until a Unix stream socket accepts a
 * connection (every 10 ms, default 120 s), then prints the guest uptime
 * (CLOCK_BOOTTIME, seconds with 2 decimals) and exits 0; exits 1 on timeout.
 * Built static by bench/run and put on the payload disk, so that both guests
 * measure "containerd ready" the same way and without starting a Go binary
 * (ctr) in every poll, which takes seconds under TCG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double uptime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        double timeout = argc > 2 ? atof(argv[2]) : 120.0, end;

        if (argc < 2 || strlen(argv[1]) >= sizeof sa.sun_path) {
                fprintf(stderr, "usage: sockready SOCKET [TIMEOUT_S]\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        end = uptime() + timeout;
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                        perror("socket");
                        return 1;
                }
                if (connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0) {
                        printf("%.2f\n", uptime());
                        close(fd);
                        return 0;
                }
                close(fd);
                if (uptime() > end)
                        return 1;
                usleep(10 * 1000);
        }
}
