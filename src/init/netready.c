/* SPDX-License-Identifier: MIT */
#include "netready.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"

#define NETREADY_MAX_LINKS 64

typedef struct Link {
        int index;
        unsigned flags;
        char name[IF_NAMESIZE];
} Link;

enum { V4, V6, _FAMILIES };

typedef struct Found {
        bool address, route;
        char ifname[IF_NAMESIZE], address_text[64];
        double since;
        char gw_ifname[IF_NAMESIZE], gateway[64];
} Found;

typedef struct Dump {
        Link links[NETREADY_MAX_LINKS];
        size_t n_links;
        Found found[_FAMILIES];
} Dump;

static const Link *find_link(const Dump *d, int index) {
        for (size_t i = 0; i < d->n_links; i++)
                if (d->links[i].index == index)
                        return &d->links[i];
        return NULL;
}

static void on_link(Dump *d, const struct nlmsghdr *h) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        int len = (int) IFLA_PAYLOAD(h);

        if (d->n_links >= NETREADY_MAX_LINKS)
                return;
        Link *l = &d->links[d->n_links];
        *l = (Link){ .index = ifi->ifi_index, .flags = ifi->ifi_flags };
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_IFNAME)
                        snprintf(l->name, sizeof l->name, "%.*s", (int) RTA_PAYLOAD(a),
                                 (const char *) RTA_DATA(a));
        d->n_links++;
}

static void format_addr(int family, const void *data, unsigned prefix, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN] = "?";
        (void) inet_ntop(family, data, a, sizeof a);
        if (prefix > 128)
                snprintf(buf, size, "%s", a);
        else
                snprintf(buf, size, "%s/%u", a, prefix);
}

static void on_address(Dump *d, const struct nlmsghdr *h) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        int len = (int) IFA_PAYLOAD(h);
        const void *addr = NULL;
        uint32_t flags = ifa->ifa_flags;
        double since = -1;

        if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
                return; /* 127.0.0.1, ::1, fe80::/10, fec0::/10 */
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                return;
        for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == IFA_LOCAL || (a->rta_type == IFA_ADDRESS && !addr))
                        addr = RTA_DATA(a);
                else if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= sizeof(uint32_t))
                        memcpy(&flags, RTA_DATA(a), sizeof flags);
                else if (a->rta_type == IFA_CACHEINFO &&
                         RTA_PAYLOAD(a) >= sizeof(struct ifa_cacheinfo)) {
                        struct ifa_cacheinfo ci;
                        memcpy(&ci, RTA_DATA(a), sizeof ci);
                        since = ci.cstamp / 100.0; /* hundredths of a second since boot */
                }
        }
        if (!addr || (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
                return;
        const Link *l = find_link(d, (int) ifa->ifa_index);
        if (!l || (l->flags & IFF_LOOPBACK))
                return;

        Found *f = &d->found[ifa->ifa_family == AF_INET ? V4 : V6];
        if (f->address)
                return; /* the first one is shown */
        f->address = true;
        f->since = since;
        memcpy(f->ifname, l->name, sizeof f->ifname);
        format_addr(ifa->ifa_family, addr, ifa->ifa_prefixlen, f->address_text,
                    sizeof f->address_text);
}

static void on_route(Dump *d, const struct nlmsghdr *h) {
        const struct rtmsg *rt = NLMSG_DATA(h);
        int len = (int) RTM_PAYLOAD(h);
        const void *gw = NULL;
        uint32_t table = rt->rtm_table;
        int oif = 0;

        if (rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST)
                return;
        if (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6)
                return;
        for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= sizeof(uint32_t))
                        memcpy(&table, RTA_DATA(a), sizeof table);
                else if (a->rta_type == RTA_GATEWAY)
                        gw = RTA_DATA(a);
                else if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
                        memcpy(&oif, RTA_DATA(a), sizeof oif);
        }
        if (table != RT_TABLE_MAIN)
                return;

        Found *f = &d->found[rt->rtm_family == AF_INET ? V4 : V6];
        if (f->route)
                return;
        f->route = true;
        const Link *l = find_link(d, oif);
        memcpy(f->gw_ifname, l ? l->name : "?", l ? sizeof f->gw_ifname : 2);
        if (gw)
                format_addr(rt->rtm_family, gw, UINT32_MAX, f->gateway, sizeof f->gateway);
}

/* Shows the family that is ready, else the one with most, IPv4 first. */
static void summarize(const Dump *d, NetState *s) {
        const Found *v4 = &d->found[V4], *v6 = &d->found[V6];
        bool ready4 = v4->address && v4->route, ready6 = v6->address && v6->route;
        const Found *a = ready4 || (!ready6 && (v4->address || !v6->address)) ? v4 : v6;
        const Found *r = ready4 ? v4 : ready6 ? v6 : v4->route ? v4 : v6;

        *s = (NetState){ .address_since = -1 };
        s->ready = ready4 || ready6;
        s->has_address = v4->address || v6->address;
        s->has_default = v4->route || v6->route;
        if (a->address) {
                snprintf(s->ifname, sizeof s->ifname, "%s", a->ifname);
                snprintf(s->address, sizeof s->address, "%s", a->address_text);
                s->address_since = a->since;
        }
        if (r->route) {
                snprintf(s->gw_ifname, sizeof s->gw_ifname, "%s", r->gw_ifname);
                snprintf(s->gateway, sizeof s->gateway, "%s", r->gateway);
        }
}

/* One dump request; every answer goes to the callback. Non-blocking: the
 * kernel queues the first part of a dump while the request is sent and the
 * next part while the previous one is read, so MSG_DONTWAIT never misses one.
 * EAGAIN before NLMSG_DONE would mean otherwise and is returned as it is. */
static int dump(int fd, uint16_t type, uint8_t family, uint32_t seq, Dump *d,
                void (*cb)(Dump *, const struct nlmsghdr *)) {
        struct {
                struct nlmsghdr h;
                struct rtgenmsg g;
        } req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
                       .nlmsg_type = type,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                       .nlmsg_seq = seq },
                .g = { .rtgen_family = family },
        };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        /* Aligned for struct nlmsghdr; 32 KiB holds a dump part of any size the
         * kernel sends to a socket with the default receive buffer. */
        union {
                struct nlmsghdr h;
                char b[32768];
        } buf;

        if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
                return -errno;
        for (;;) {
                ssize_t k = recv(fd, &buf, sizeof buf, MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                int len = (int) k;
                for (struct nlmsghdr *h = &buf.h; NLMSG_OK(h, (unsigned) len);
                     h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_seq != seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                return e->error < 0 ? e->error : -EIO;
                        }
                        cb(d, h);
                }
        }
}

int netready_check(NetState *ret) {
        _cleanup_close_ int fd =
                socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        Dump d = {};
        int r;

        if (fd < 0)
                return -errno;
        r = dump(fd, RTM_GETLINK, AF_UNSPEC, 1, &d, on_link);
        if (r >= 0)
                r = dump(fd, RTM_GETADDR, AF_UNSPEC, 2, &d, on_address);
        if (r >= 0)
                r = dump(fd, RTM_GETROUTE, AF_UNSPEC, 3, &d, on_route);
        if (r < 0)
                return r;
        summarize(&d, ret);
        return ret->ready;
}

void netready_describe(const NetState *s, char *buf, size_t size) {
        char a[128], g[128];

        if (s->has_address && s->address_since >= 0)
                snprintf(a, sizeof a, "%s has %s (since %.2f s)", s->ifname, s->address,
                         s->address_since);
        else if (s->has_address)
                snprintf(a, sizeof a, "%s has %s", s->ifname, s->address);
        else
                snprintf(a, sizeof a, "no address on any interface but lo");
        if (!s->has_default)
                snprintf(g, sizeof g, "no default route");
        else if (s->gateway[0])
                snprintf(g, sizeof g, "default route via %s dev %s", s->gateway, s->gw_ifname);
        else
                snprintf(g, sizeof g, "default route dev %s", s->gw_ifname);
        snprintf(buf, size, "%s, %s", a, g);
}

int netready_monitor_open(void) {
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
                             RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
        };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return fd;
}

void netready_monitor_drain(int fd) {
        char buf[8192];
        /* Only "something changed" matters: the check dumps the state afresh.
         * ENOBUFS (missed events) says the same. */
        for (int i = 0; i < 1024; i++) {
                ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k < 0 && errno != EINTR && errno != ENOBUFS)
                        return;
        }
}

static int try_connect(int type, const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) sa, sizeof *sa) < 0)
                return -errno;
        return 0;
}

int socket_ready_check(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        r = try_connect(SOCK_STREAM, &sa);
        if (r == -EPROTOTYPE) /* a datagram socket, such as chronyd's */
                r = try_connect(SOCK_DGRAM, &sa);
        if (r >= 0)
                return 1;
        if (r == -ENOENT || r == -ECONNREFUSED || r == -EAGAIN)
                return 0; /* not there yet, not listening yet, backlog full */
        return r;
}
