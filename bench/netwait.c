/* SPDX-License-Identifier: MIT */
/* netwait [TIMEOUT_S]: waits until the network is up by berth's own rule
 * (src/init/netready.c: an interface other than lo has a global address and
 * the main table has a default route of the same family, read over rtnetlink),
 * checking again at every rtnetlink change (default timeout 120 s). Then prints
 *
 *   bench: network-ready S
 *   bench: network-address-since S
 *   bench: network-seen WHAT
 *
 * (S: guest uptime, CLOCK_BOOTTIME, 2 decimals) and exits 0; exits 1 on
 * timeout, after printing what it saw. Built static by bench/run from this
 * file and src/init/netready.c and put on the payload disk: the reference
 * runs it from a unit that starts early, so both guests' "network ready"
 * follows one definition. (berth's own figure is its timeline's
 * network-ready, which PID 1 takes by the same rule.) */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "netready.h"

static double uptime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const NetState *s, double now) {
        char what[256];

        netready_describe(s, what, sizeof what);
        printf("bench: network-ready %.2f\nbench: network-address-since %.2f\n"
               "bench: network-seen %s\n",
               now, s->address_since, what);
}

int main(int argc, char **argv) {
        double timeout = argc > 1 ? atof(argv[1]) : 120.0, end = uptime() + timeout;
        NetState s = { .address_since = -1 };
        char what[256];
        /* Woken by rtnetlink changes, so it costs the booting guest nothing
         * while it waits; a 10 ms poll only if the monitor cannot be opened. */
        int mon = netready_monitor_open();

        for (;;) {
                int r = netready_check(&s);
                double now = uptime();
                if (r > 0) {
                        report(&s, now);
                        return 0;
                }
                if (now > end) {
                        netready_describe(&s, what, sizeof what);
                        printf("bench: network-seen %s\nbench: error network not ready in %.0f s\n",
                               what, timeout);
                        return 1;
                }
                if (mon >= 0) {
                        struct pollfd p = { .fd = mon, .events = POLLIN };
                        (void) poll(&p, 1, 1000);
                        netready_monitor_drain(mon);
                } else {
                        struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
                        nanosleep(&tick, NULL);
                }
        }
}
