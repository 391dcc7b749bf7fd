/* SPDX-License-Identifier: MIT */
#include "lease.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "strv.h"

#define RESOLV_MAX_SERVERS 3 /* MAXNS in glibc's resolv.h */
#define RESOLV_MAX_SEARCH 6

bool lease_valid_ifname(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n >= 16 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p <= ' ' || *p > '~')
                        return false;
        return true;
}

bool lease_valid_domain(const char *s) {
        return dns_name_is_valid(s);
}

static bool valid_server(const char *s) {
        return ip_address_is_valid(s);
}

static const char *env(const char *name) {
        const char *v = getenv(name);
        return v ? v : "";
}

static bool env_true(const char *name) {
        return streq(env(name), "true") || streq(env(name), "1");
}

/* Appends the valid words of value to an array of fixed-size strings. */
static void add_words(const char *what, const char *value, bool (*valid)(const char *), char *arr,
                      size_t width, size_t max, size_t *n) {
        _cleanup_strv_free_ char **words = NULL;
        if (strv_extend_words(&words, value, false) < 0)
                return;
        STRV_FOREACH(w, words) {
                /* a trailing dot is the root, not part of a search domain */
                size_t len = strlen(*w);
                if (len > 1 && (*w)[len - 1] == '.' && valid != valid_server)
                        (*w)[len - 1] = 0;
                if (!valid(*w) || strlen(*w) >= width) {
                        fprintf(stderr, "berth-netevent: ignoring %s '%s' from the lease\n", what,
                                *w);
                        continue;
                }
                bool dup = false;
                for (size_t i = 0; i < *n; i++)
                        dup |= streq(arr + i * width, *w);
                if (!dup && *n < max)
                        snprintf(arr + (*n)++ * width, width, "%s", *w);
        }
}

int lease_from_env(Lease *ret) {
        Lease l = {};
        const char *ifname = env("interface"), *reason = env("reason");

        if (!lease_valid_ifname(ifname) || isempty(reason) || strlen(reason) >= sizeof l.reason)
                return -EINVAL;
        snprintf(l.ifname, sizeof l.ifname, "%s", ifname);
        snprintf(l.reason, sizeof l.reason, "%s", reason);
        /* dhcpcd sets if_up/if_down; by reason when it does not (older versions). */
        if (getenv("if_up") || getenv("if_down")) {
                l.up = env_true("if_up");
                l.down = env_true("if_down");
        } else {
                static const char *const up[] = { "BOUND",  "RENEW",  "REBIND",
                                                  "REBOOT", "INFORM", "STATIC" };
                static const char *const down[] = { "EXPIRE",    "FAIL",     "RELEASE", "STOP",
                                                    "NOCARRIER", "DEPARTED", "STOPPED" };
                for (size_t i = 0; i < ELEMENTSOF(up); i++)
                        l.up |= streq(reason, up[i]);
                for (size_t i = 0; i < ELEMENTSOF(down); i++)
                        l.down |= streq(reason, down[i]);
        }
        if (valid_server(env("new_ip_address")))
                snprintf(l.address, sizeof l.address, "%s/%s", env("new_ip_address"),
                         isempty(env("new_subnet_cidr")) ? "?" : env("new_subnet_cidr"));

        add_words("nameserver", env("new_domain_name_servers"), valid_server, &l.servers[0][0],
                  sizeof l.servers[0], LEASE_MAX_SERVERS, &l.n_servers);
        /* The search list (option 119) wins over the domain name (option 15). */
        add_words("search domain", env("new_domain_search"), lease_valid_domain, &l.search[0][0],
                  sizeof l.search[0], LEASE_MAX_SEARCH, &l.n_search);
        if (l.n_search == 0)
                add_words("domain name", env("new_domain_name"), lease_valid_domain,
                          &l.search[0][0], sizeof l.search[0], LEASE_MAX_SEARCH, &l.n_search);
        const char *h = env("new_host_name");
        if (!isempty(h)) {
                if (lease_valid_domain(h) && strlen(h) < sizeof l.hostname)
                        snprintf(l.hostname, sizeof l.hostname, "%s", h);
                else
                        fprintf(stderr, "berth-netevent: ignoring host name '%s' from the lease\n",
                                h);
        }
        *ret = l;
        return 0;
}

static int lease_text(const Lease *l, char **ret) {
        _cleanup_free_ char *t = strdup_printf("# %s: %s\n", l->ifname, l->reason);
        for (size_t i = 0; t && i < l->n_servers; i++) {
                char *n = strdup_printf("%snameserver %s\n", t, l->servers[i]);
                free(t);
                t = n;
        }
        for (size_t i = 0; t && i < l->n_search; i++) {
                char *n = strdup_printf("%ssearch %s\n", t, l->search[i]);
                free(t);
                t = n;
        }
        if (t && l->hostname[0]) {
                char *n = strdup_printf("%shostname %s\n", t, l->hostname);
                free(t);
                t = n;
        }
        if (!t)
                return -ENOMEM;
        *ret = TAKE_PTR(t);
        return 0;
}

int lease_store(const char *state_dir, const Lease *l) {
        _cleanup_free_ char *path = path_join(state_dir, l->ifname), *text = NULL, *old = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        if (l->down) {
                if (unlink(path) < 0)
                        return errno == ENOENT ? 0 : -errno;
                return 1;
        }
        if (!l->up)
                return 0;
        r = lease_text(l, &text);
        if (r < 0)
                return r;
        /* Same servers, domains and name (a RENEW) is no change; the reason line differs. */
        if (read_full_file(path, &old, NULL, 64 * 1024) >= 0 && strchr(old, '\n') &&
            streq(strchr(old, '\n'), strchr(text, '\n')))
                return 0;
        r = mkdir_p(state_dir, 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(path, text, strlen(text), 0644);
        return r < 0 ? r : 1;
}

static int filter_entries(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Calls cb for every "key value" line of every interface file, in name order. */
static int for_each_line(const char *state_dir, void (*cb)(void *, const char *, const char *),
                         void *userdata) {
        struct dirent **list = NULL;
        int n = scandir(state_dir, &list, filter_entries, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = path_join(state_dir, list[i]->d_name), *data = NULL;
                if (path && read_full_file(path, &data, NULL, 64 * 1024) >= 0)
                        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
                                char *sp = strchr(line, ' ');
                                if (line[0] == '#' || !sp)
                                        continue;
                                *sp = 0;
                                cb(userdata, line, sp + 1);
                        }
                free(list[i]);
        }
        free(list);
        return 0;
}

typedef struct Resolv {
        char **servers, **search;
        int error;
} Resolv;

static void collect(void *userdata, const char *key, const char *value) {
        Resolv *r = userdata;
        char ***l = streq(key, "nameserver") ? &r->servers
                    : streq(key, "search")   ? &r->search
                                             : NULL;
        size_t max = l == &r->servers ? RESOLV_MAX_SERVERS : RESOLV_MAX_SEARCH;
        if (!l || strv_contains(*l, value) || strv_length(*l) >= max)
                return;
        if (strv_extend(l, value) < 0)
                r->error = -ENOMEM;
}

int lease_render_resolv(const char *state_dir, char **ret_text) {
        Resolv res = {};
        int r = for_each_line(state_dir, collect, &res);
        _cleanup_free_ char *text = NULL;

        if (r >= 0)
                r = res.error;
        if (r >= 0) {
                text = strdup("# berth: rendered by berth-netevent from the DHCP leases "
                              "(/run/berth/net); do not edit\n");
                STRV_FOREACH(s, res.servers) {
                        char *n = text ? strdup_printf("%snameserver %s\n", text, *s) : NULL;
                        free(text);
                        text = n;
                }
                if (text && !strv_isempty(res.search)) {
                        _cleanup_free_ char *j = strv_join(res.search, " ");
                        char *n = j ? strdup_printf("%ssearch %s\n", text, j) : NULL;
                        free(text);
                        text = n;
                }
                if (!text)
                        r = -ENOMEM;
        }
        strv_free(res.servers);
        strv_free(res.search);
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(text);
        return 0;
}

typedef struct Hostname {
        char *buf;
        size_t size;
        bool found;
} Hostname;

static void first_hostname(void *userdata, const char *key, const char *value) {
        Hostname *h = userdata;
        if (!h->found && streq(key, "hostname") && lease_valid_domain(value)) {
                snprintf(h->buf, h->size, "%s", value);
                h->found = true;
        }
}

int lease_hostname(const char *state_dir, char *buf, size_t size) {
        Hostname h = { .buf = buf, .size = size };
        int r = for_each_line(state_dir, first_hostname, &h);
        if (r < 0)
                return r;
        return h.found ? 0 : -ENOENT;
}
