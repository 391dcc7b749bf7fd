/* SPDX-License-Identifier: MIT */
/* lease.h: what berth takes from a DHCP lease besides the address and the
 * routes (which dhcpcd sets itself): DNS servers, search domains and the host
 * name, read from the environment dhcpcd gives its `script` (dhcpcd-run-hooks(8):
 * reason, interface, if_up, if_down, new_domain_name_servers, new_domain_name,
 * new_domain_search, new_host_name, new_ip_address, new_subnet_cidr).
 *
 * Each interface's share is kept in STATE_DIR/IFNAME (one "nameserver A",
 * "search D" or "hostname H" per line), so several interfaces and their
 * changes in any order give one /etc/resolv.conf, rendered from all of them.
 * Everything from the lease is validated: a DHCP server must not be able to
 * write arbitrary lines into /etc/resolv.conf. Needs only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LEASE_MAX_SERVERS 8
#define LEASE_MAX_SEARCH 8
#define LEASE_NAME_MAX 254

typedef struct Lease {
        char ifname[16];
        char reason[32];
        bool up;                             /* the lease is (still) valid */
        bool down;                           /* the interface lost it */
        char address[64];                    /* "10.0.2.15/24", for the log */
        char servers[LEASE_MAX_SERVERS][64]; /* numeric IPv4/IPv6 addresses */
        size_t n_servers;
        char search[LEASE_MAX_SEARCH][LEASE_NAME_MAX];
        size_t n_search;
        char hostname[64]; /* one label or a FQDN, "" if none */
} Lease;

/* Fills ret from getenv(). Invalid values (a server that is not an address, a
 * domain with odd characters) are left out with a warning on stderr, never
 * passed on. Returns 0, or -EINVAL when interface or reason is missing or bad. */
int lease_from_env(Lease *ret);

/* Validators, exposed for the tests. */
bool lease_valid_ifname(const char *s);
bool lease_valid_domain(const char *s);

/* Records the lease in state_dir (created if needed): the interface's file is
 * written when up, removed when down, left alone otherwise. Returns 1 if the
 * state changed, 0 if not, or a negative errno. */
int lease_store(const char *state_dir, const Lease *l);

/* Renders resolv.conf text from every file in state_dir, in interface name
 * order: at most 3 nameservers (glibc reads no more) and 6 search domains,
 * duplicates dropped. *ret_text is malloc'ed. */
int lease_render_resolv(const char *state_dir, char **ret_text);

/* The host name of the first interface (by name) whose lease names one, into
 * buf; 0 if found, -ENOENT if none. */
int lease_hostname(const char *state_dir, char *buf, size_t size);
