/* SPDX-License-Identifier: MIT */
/* netready.h: the readiness checks of the supervisor that look at the system
 * rather than at a file: "the network is up" over rtnetlink, and "this Unix
 * socket accepts a connection". Both are non-blocking (the kernel answers a
 * netlink dump while the request is sent; a Unix connect never waits), so PID 1
 * can run them from its event loop. Needs only libc and the kernel headers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What the network check saw, for the log and the tests. */
typedef struct NetState {
        char ifname[16];      /* the interface with the address shown, "" if none */
        char address[64];     /* that address, "10.0.2.15/24" */
        double address_since; /* when it was added, seconds since boot; <0 unknown */
        char gw_ifname[16];   /* the default route's interface, "" if none */
        char gateway[64];     /* its gateway, "" for an on-link default route */
        bool has_address;     /* a global address (not tentative) off lo, either family */
        bool has_default;     /* a default route in the main table, either family */
        bool ready;           /* an address and a default route of the same family */
} NetState;

/* Dumps addresses and routes over rtnetlink into ret. The network is ready
 * when an interface other than lo has a global IPv4 address (or IPv6: global
 * scope, not tentative) and the main table has a default route of the same
 * family; what is shown prefers the family that is ready, then IPv4.
 * Returns 1 when ready, 0 when not, a negative errno if netlink failed. */
int netready_check(NetState *ret);

/* One line about ret: "eth0 has 10.0.2.15/24, default route via 10.0.2.2 dev
 * eth0", or what is missing: "no address on any interface but lo, no default
 * route". */
void netready_describe(const NetState *s, char *buf, size_t size);

/* A netlink socket subscribed to address, route and link changes; readable
 * whenever something changed (drain it with netready_monitor_drain()).
 * Returns the fd or a negative errno. */
int netready_monitor_open(void);
void netready_monitor_drain(int fd);

/* 1 if the Unix socket at path accepts a connection (stream or datagram), 0 if
 * not yet (missing, refused, backlog full), a negative errno otherwise. */
int socket_ready_check(const char *path);
