/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what a DHCP server sends, as berth-netevent gets it from
 * dhcpcd (src/net/lease.c). The input is the environment's values separated
 * by NUL bytes, in this order: interface, reason, if_up, if_down,
 * new_domain_name_servers, new_domain_search, new_domain_name, new_host_name.
 * Whatever comes in, the rendered resolv.conf has only comment, nameserver and
 * search lines, and the host name is a valid name. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "lease.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vars[] = { "interface",
                                    "reason",
                                    "if_up",
                                    "if_down",
                                    "new_domain_name_servers",
                                    "new_domain_search",
                                    "new_domain_name",
                                    "new_host_name" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char dir[64];
        const char *p = (const char *) data, *end = p + size;
        Lease l;

        if (!dir[0]) {
                snprintf(dir, sizeof dir, "/tmp/berth-fuzz-lease-XXXXXX");
                if (!mkdtemp(dir))
                        abort();
        }
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *nul = p < end ? memchr(p, 0, (size_t) (end - p)) : NULL;
                size_t n = nul ? (size_t) (nul - p) : (size_t) (end - p);
                _cleanup_free_ char *v = strndup(p, n);
                if (!v)
                        abort();
                (void) setenv(vars[i], v, 1);
                p = nul ? nul + 1 : end;
        }
        /* Anything that gets past lease_from_env is stored, rendered, checked. */
        if (lease_from_env(&l) < 0)
                return 0;
        if (lease_store(dir, &l) < 0)
                return 0;
        _cleanup_free_ char *text = NULL, *path = path_join(dir, l.ifname);
        char host[64];
        if (lease_render_resolv(dir, &text) < 0)
                abort();
        for (char *line = text; *line;) {
                char *nl = strchr(line, '\n');
                if (!nl || !(line[0] == '#' || strneq(line, "nameserver ", 11) ||
                             strneq(line, "search ", 7)))
                        __builtin_trap();
                line = nl + 1;
        }
        if (lease_hostname(dir, host, sizeof host) == 0 && !lease_valid_domain(host))
                __builtin_trap();
        if (path)
                (void) unlink(path);
        return 0;
}
