/* SPDX-License-Identifier: MIT */
/* The settings table and its JSON parser (settings.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "parse-util.h"
#include "reboot-window.h"
#include "settings.h"
#include "strv.h"

#define F(field) offsetof(Settings, field)

const SettingInfo settings_table[] = {
        { "network.hostname", SETTING_HOSTNAME, F(hostname), "hostname", NULL, false,
          "host name (RFC 1123 labels, at most 253 characters)" },
        { "network.interface", SETTING_IFNAME, F(net_interface), "dhcpcd.conf", "network", false,
          "the interface the static settings are for (eth0)" },
        { "network.mode", SETTING_NET_MODE, F(net_mode), "dhcpcd.conf", "network", false,
          "\"dhcp\" or \"static\"" },
        { "network.address", SETTING_CIDR, F(net_address), "dhcpcd.conf", "network", false,
          "static address with prefix length (10.0.0.2/24); static only" },
        { "network.gateway", SETTING_IP, F(net_gateway), "dhcpcd.conf", "network", false,
          "static default gateway; static only" },
        { "network.dns", SETTING_IP_LIST, F(net_dns), "dhcpcd.conf", "network", false,
          "list of DNS server addresses" },
        { "time.servers", SETTING_HOST_LIST, F(time_servers), "chrony/chrony.conf", "chrony", false,
          "list of NTP servers (host names or addresses); replaces the factory pool" },
        { "kernel.sysctl", SETTING_SYSCTL_MAP, F(sysctl), "sysctl.d/60-berth-settings.conf", NULL,
          true, "object: sysctl name (net.ipv4.ip_forward) -> string or integer value" },
        { "kernel.modules", SETTING_MODULE_LIST, F(modules), "modules-load.d/berth-settings.conf",
          NULL, true, "list of kernel module names loaded at boot" },
        { "kernel.cmdline", SETTING_CMDLINE_LIST, F(cmdline), NULL, NULL, true,
          "list of kernel command-line words added at the next boot" },
        { "containerd.registry-mirrors", SETTING_MIRROR_MAP, F(mirrors),
          "containerd/certs.d/REGISTRY/hosts.toml", "containerd", false,
          "object: registry (docker.io, host:port) -> list of mirror URLs (http or https)" },
        { "update.channel", SETTING_CHANNEL, F(update_channel), "berth/update.conf", NULL, false,
          "update channel name ([a-z0-9][a-z0-9._-]*, at most 64)" },
        { "update.health-command", SETTING_ARGV, F(health_command), "berth/update.conf", NULL,
          false,
          "list: a command (absolute path) and its arguments, run by the update agent's boot "
          "assessment; a non-zero exit is unhealthy (words without spaces, no shell)" },
        { "update.reboot-coordination", SETTING_REBOOT_COORDINATION, F(reboot_coordination),
          "berth/update.conf", NULL, false,
          "\"off\" (a new release waits for the next reboot) or \"etcd\" (the agent takes a slot "
          "of the fleet's reboot semaphore in etcd, then reboots into it)" },
        { "update.etcd-endpoints", SETTING_URL_LIST, F(etcd_endpoints), "berth/update.conf", NULL,
          false, "list of etcd client URLs (http or https), tried in order" },
        { "update.reboot-group", SETTING_CHANNEL, F(reboot_group), "berth/update.conf", NULL, false,
          "the semaphore's name, /berth/reboot/GROUP (default \"default\")" },
        { "update.max-unavailable", SETTING_COUNT, F(max_unavailable), "berth/update.conf", NULL,
          false,
          "integer 1 to 10000: nodes of the group rebooting at once, for a semaphore that does "
          "not exist yet (default 1)" },
        { "update.reboot-window", SETTING_REBOOT_WINDOW, F(reboot_window), "berth/update.conf",
          NULL, false,
          "when the agent may reboot into a new release, weekly, UTC: \"[DAYS ]HH:MM-HH:MM\" "
          "(\"Mon-Fri 02:00-04:00\", \"Sat,Sun 22:00-02:00\"; an end at or before the start is "
          "the next day); installing is not limited" },
        { "update.reboot-lease-ttl", SETTING_SECONDS, F(reboot_lease_ttl), "berth/update.conf",
          NULL, false,
          "integer 0 to 86400: seconds a node's reboot slot outlives the node without renewal "
          "(an etcd lease, renewed after its reboot until blessed; 0: held until given back; "
          "default 3600)" },
};
const size_t settings_table_size = ELEMENTSOF(settings_table);

static bool kind_is_string(SettingKind k) {
        switch (k) {
        case SETTING_HOSTNAME:
        case SETTING_IFNAME:
        case SETTING_NET_MODE:
        case SETTING_CIDR:
        case SETTING_IP:
        case SETTING_CHANNEL:
        case SETTING_REBOOT_COORDINATION:
        case SETTING_REBOOT_WINDOW:
        case SETTING_SECONDS:
        case SETTING_COUNT:
                return true;
        default:
                return false;
        }
}

Settings *settings_free(Settings *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < settings_table_size; i++) {
                void *p = (char *) s + settings_table[i].offset;
                if (kind_is_string(settings_table[i].kind))
                        free(*(char **) p);
                else
                        strv_free(*(char ***) p);
        }
        free(s);
        return NULL;
}

const SettingInfo *settings_info(const char *path) {
        for (size_t i = 0; i < settings_table_size; i++)
                if (streq(settings_table[i].path, path))
                        return &settings_table[i];
        return NULL;
}

/* Validators: true if s is good. */
/* A host name for /etc/hostname: RFC 1123, no final dot. */
static bool valid_hostname(const char *s) {
        return dns_name_is_valid(s) && s[strlen(s) - 1] != '.';
}

static bool valid_ip(const char *s) {
        return ip_address_is_valid(s);
}

static bool valid_cidr(const char *s) {
        _cleanup_free_ char *ip = strdup(s);
        unsigned char buf[16];
        char *slash, *end;
        unsigned long prefix, max;

        if (!ip)
                return false;
        slash = strchr(ip, '/');
        if (!slash || !isdigit((unsigned char) slash[1]))
                return false;
        *slash = 0;
        if (inet_pton(AF_INET, ip, buf) == 1)
                max = 32;
        else if (inet_pton(AF_INET6, ip, buf) == 1)
                max = 128;
        else
                return false;
        errno = 0;
        prefix = strtoul(slash + 1, &end, 10);
        return errno == 0 && *end == 0 && end - (slash + 1) <= 3 && prefix <= max;
}

static bool valid_word(const char *s, size_t max, const char *extra) {
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if (!(isascii(*s) && (isalnum(*s) || strchr(extra, *s))))
                        return false;
        return true;
}

static bool valid_ifname(const char *s) {
        return valid_word(s, 15, "_.-") && !streq(s, ".") && !streq(s, "..");
}

static bool valid_module(const char *s) {
        return valid_word(s, 55, "_-");
}

static bool valid_channel(const char *s) {
        return valid_word(s, 64, "._-") && isalnum((unsigned char) s[0]) &&
               !isupper((unsigned char) s[0]) &&
               strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

/* One word of a command line run without a shell: printable, no spaces. */
static bool valid_argv_word(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 256)
                return false;
        for (; *s; s++)
                if (*s <= ' ' || *s >= 127)
                        return false;
        return true;
}

static bool valid_host(const char *s) {
        return valid_hostname(s) || valid_ip(s);
}

/* host or host:port; [v6]:port is not taken. */
static bool valid_registry(const char *s) {
        _cleanup_free_ char *h = strdup(s);
        char *colon, *end;
        unsigned long port;

        if (!h || strlen(s) > 253 + 6)
                return false;
        colon = strrchr(h, ':');
        if (colon) {
                *colon = 0;
                errno = 0;
                if (!isdigit((unsigned char) colon[1]))
                        return false;
                port = strtoul(colon + 1, &end, 10);
                if (errno || *end || port == 0 || port > 65535 || end - colon > 6)
                        return false;
        }
        return valid_hostname(h) || valid_ip(h);
}

static bool valid_url(const char *s) {
        const char *rest;

        if (strneq(s, "https://", 8))
                rest = s + 8;
        else if (strneq(s, "http://", 7))
                rest = s + 7;
        else
                return false;
        if (strlen(s) > 512 || !*rest || *rest == '/')
                return false;
        for (; *rest; rest++)
                if (*rest <= ' ' || *rest >= 127 || strchr("\"\\'`<>{}", *rest))
                        return false;
        return true;
}

/* Words the settings must never set: what makes the node boot its verified
 * /usr, and init=. */
static const char *const cmdline_reserved[] = { "usrhash=", "berth.", "root=",   "mount.usr",
                                                "init=",    "rd.",    "systemd." };

static const char *cmdline_error(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 256)
                return "not 1 to 256 characters";
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p >= 127 || *p == '"' || *p == '\\')
                        return "not a single kernel command-line word (printable ASCII, no quotes)";
        for (size_t i = 0; i < ELEMENTSOF(cmdline_reserved); i++)
                if (strneq(s, cmdline_reserved[i], strlen(cmdline_reserved[i])))
                        return "reserved for berth's own boot (usrhash=, berth.*, root=, init=, "
                               "...)";
        return NULL;
}

/* sysctl names: dot-separated components of [A-Za-z0-9_-] (interface names
 * such as eth0.100 cannot be written with dots, as in sysctl.d). */
static bool valid_sysctl_name(const char *s) {
        size_t n = strlen(s), comp = 0;

        if (n == 0 || n > 128 || s[n - 1] == '.')
                return false;
        for (; *s; s++) {
                if (*s == '.') {
                        if (comp == 0)
                                return false;
                        comp = 0;
                        continue;
                }
                if (!(isascii(*s) && (isalnum(*s) || *s == '_' || *s == '-')))
                        return false;
                comp++;
        }
        return true;
}

static bool valid_sysctl_value(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 256 || s[0] == ' ' || s[n - 1] == ' ')
                return false;
        for (; *s; s++)
                if (*s < ' ' || *s >= 127)
                        return false;
        return true;
}

/* Checks one string of kind k; NULL if good, else what is wrong. */
static const char *check_string(SettingKind k, const char *s) {
        switch (k) {
        case SETTING_HOSTNAME:
                return valid_hostname(s) ? NULL : "not a host name";
        case SETTING_IFNAME:
                return valid_ifname(s) ? NULL : "not an interface name";
        case SETTING_NET_MODE:
                return streq(s, "dhcp") || streq(s, "static") ? NULL : "not \"dhcp\" or \"static\"";
        case SETTING_CIDR:
                return valid_cidr(s) ? NULL : "not an address with prefix length (10.0.0.2/24)";
        case SETTING_IP:
        case SETTING_IP_LIST:
                return valid_ip(s) ? NULL : "not an IP address";
        case SETTING_HOST_LIST:
                return valid_host(s) ? NULL : "not a host name or IP address";
        case SETTING_MODULE_LIST:
                return valid_module(s) ? NULL : "not a kernel module name";
        case SETTING_CMDLINE_LIST:
                return cmdline_error(s);
        case SETTING_MIRROR_MAP:
        case SETTING_URL_LIST:
                return valid_url(s) ? NULL : "not an http or https URL";
        case SETTING_REBOOT_COORDINATION:
                return streq(s, "off") || streq(s, "etcd") ? NULL : "not \"off\" or \"etcd\"";
        case SETTING_SYSCTL_MAP:
                return valid_sysctl_value(s) ? NULL
                                             : "not a sysctl value (1 to 256 printable characters)";
        case SETTING_CHANNEL:
                return valid_channel(s) ? NULL : "not a channel name";
        case SETTING_ARGV:
                return valid_argv_word(s) ? NULL
                                          : "not a command word (1 to 256 printable characters, "
                                            "no spaces)";
        default:
                return "unknown kind";
        }
}

static int parse_string(const char *path, SettingKind k, json_t *v, char **ret) {
        const char *why = NULL;
        char *s;

        if (k == SETTING_COUNT || k == SETTING_SECONDS) {
                long long lo = k == SETTING_COUNT ? 1 : 0, hi = k == SETTING_COUNT ? 10000 : 86400;
                if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
                        return error_setf(EINVAL, "%s: not an integer from %lld to %lld", path, lo,
                                          hi);
                s = strdup_printf("%lld", (long long) json_integer_value(v));
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        if (!json_is_string(v))
                return error_setf(EINVAL, "%s: not a string", path);
        if (strlen(json_string_value(v)) != json_string_length(v))
                return error_setf(EINVAL, "%s: contains a NUL byte", path);
        if (k == SETTING_REBOOT_WINDOW) {
                RebootWindow w;
                int r = reboot_window_parse(json_string_value(v), &w);
                if (r < 0)
                        return error_wrapf(r, "%s", path);
        } else
                why = check_string(k, json_string_value(v));
        if (why)
                return error_setf(EINVAL, "%s: %s", path, why);
        s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int parse_list(const char *path, SettingKind k, json_t *v, char ***l) {
        size_t i;
        json_t *e;

        if (!json_is_array(v))
                return error_setf(EINVAL, "%s: not a list", path);
        if (json_array_size(v) > SETTINGS_LIST_MAX)
                return error_setf(EINVAL, "%s: more than %d entries", path, SETTINGS_LIST_MAX);
        json_array_foreach(v, i, e) {
                _cleanup_free_ char *p = strdup_printf("%s[%zu]", path, i);
                char *s = NULL;
                int r;

                if (!p)
                        return -ENOMEM;
                r = parse_string(p, k, e, &s);
                if (r < 0)
                        return r;
                if (k != SETTING_ARGV && strv_contains(*l, s)) {
                        free(s);
                        return error_setf(EINVAL, "%s: listed twice", p);
                }
                r = strv_push(l, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_map(const char *path, json_t *v) {
        if (!json_is_object(v))
                return error_setf(EINVAL, "%s: not an object", path);
        if (json_object_size(v) > SETTINGS_LIST_MAX)
                return error_setf(EINVAL, "%s: more than %d entries", path, SETTINGS_LIST_MAX);
        return 0;
}

static int parse_sysctl(const char *path, json_t *v, char ***l) {
        const char *key;
        json_t *e;
        char num[32];
        int r;

        r = check_map(path, v);

        if (r < 0)
                return r;
        json_object_foreach(v, key, e) {
                _cleanup_free_ char *p = strdup_printf("%s.\"%s\"", path, key);
                _cleanup_free_ char *value = NULL;

                if (!p)
                        return -ENOMEM;
                if (!valid_sysctl_name(key))
                        return error_setf(EINVAL, "%s: not a sysctl name", p);
                if (json_is_integer(e)) {
                        (void) snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                                        json_integer_value(e));
                        value = strdup(num);
                        if (!value)
                                return -ENOMEM;
                } else if (json_is_string(e)) {
                        r = parse_string(p, SETTING_SYSCTL_MAP, e, &value);
                        if (r < 0)
                                return r;
                } else
                        return error_setf(EINVAL, "%s: not a string or integer", p);
                r = strv_extend(l, key);
                if (r < 0)
                        return r;
                r = strv_push(l, TAKE_PTR(value));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_mirrors(const char *path, json_t *v, char ***l) {
        const char *key;
        json_t *e;
        int r;

        r = check_map(path, v);

        if (r < 0)
                return r;
        json_object_foreach(v, key, e) {
                _cleanup_free_ char *p = strdup_printf("%s.\"%s\"", path, key);
                _cleanup_strv_free_ char **urls = NULL;

                if (!p)
                        return -ENOMEM;
                if (!valid_registry(key))
                        return error_setf(EINVAL, "%s: not a registry host[:port]", p);
                r = parse_list(p, SETTING_MIRROR_MAP, e, &urls);
                if (r < 0)
                        return r;
                if (strv_isempty(urls))
                        return error_setf(EINVAL, "%s: empty list", p);
                STRV_FOREACH(u, urls) {
                        r = strv_extend(l, key);
                        if (r >= 0)
                                r = strv_extend(l, *u);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_leaf(const SettingInfo *info, json_t *v, Settings *s) {
        void *p = (char *) s + info->offset;

        if (json_is_null(v))
                return 0;
        if (kind_is_string(info->kind))
                return parse_string(info->path, info->kind, v, (char **) p);
        switch (info->kind) {
        case SETTING_SYSCTL_MAP:
                return parse_sysctl(info->path, v, (char ***) p);
        case SETTING_MIRROR_MAP:
                return parse_mirrors(info->path, v, (char ***) p);
        default:
                return parse_list(info->path, info->kind, v, (char ***) p);
        }
}

/* Rules across leaves. */
static int check_network(const Settings *s) {
        bool is_static = s->net_mode && streq(s->net_mode, "static");

        if (is_static && !s->net_interface)
                return error_setf(EINVAL, "network.interface: needed with network.mode \"static\"");
        if (is_static && !s->net_address)
                return error_setf(EINVAL, "network.address: needed with network.mode \"static\"");
        if (!is_static && s->net_address)
                return error_setf(EINVAL, "network.address: only with network.mode \"static\"");
        if (!is_static && s->net_gateway)
                return error_setf(EINVAL, "network.gateway: only with network.mode \"static\"");
        if (s->net_interface && !s->net_mode)
                return error_setf(EINVAL, "network.interface: needs network.mode");
        return 0;
}

int settings_from_json(json_t *j, Settings **ret) {
        _cleanup_(settings_freep) Settings *s = NULL;
        const char *section, *key;
        json_t *sv, *v;
        int r;

        if (!json_is_object(j))
                return error_setf(EINVAL, "settings: not a JSON object");
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        json_object_foreach(j, section, sv) {
                bool known = false;

                for (size_t i = 0; i < settings_table_size && !known; i++) {
                        size_t n = strlen(section);
                        known = strneq(settings_table[i].path, section, n) &&
                                settings_table[i].path[n] == '.';
                }
                if (!known)
                        return error_setf(EINVAL, "%s: unknown setting", section);
                if (json_is_null(sv))
                        continue;
                if (!json_is_object(sv))
                        return error_setf(EINVAL, "%s: not an object", section);
                json_object_foreach(sv, key, v) {
                        _cleanup_free_ char *path = strdup_printf("%s.%s", section, key);
                        const SettingInfo *info;

                        if (!path)
                                return -ENOMEM;
                        info = settings_info(path);
                        if (!info)
                                return error_setf(EINVAL, "%s: unknown setting", path);
                        r = parse_leaf(info, v, s);
                        if (r < 0)
                                return r;
                }
        }
        r = check_network(s);
        if (r < 0)
                return r;
        if (s->health_command && s->health_command[0] && s->health_command[0][0] != '/')
                return error_setf(EINVAL, "update.health-command[0]: not an absolute path");
        *ret = TAKE_PTR(s);
        return 0;
}

int settings_parse(const char *data, size_t size, Settings **ret) {
        _cleanup_free_ char *msg = NULL;
        json_t *j = NULL;
        int r;

        r = json_parse_bounded(data, size, &j, &msg);
        if (r < 0)
                return r == -ENOMEM ? r : error_setf(EINVAL, "settings: %s", strna(msg));
        r = settings_from_json(j, ret);
        json_decref(j);
        return r;
}

static int leaf_to_json(const SettingInfo *info, const Settings *s, json_t **ret) {
        const void *p = (const char *) s + info->offset;
        char **l = *(char **const *) p;
        json_t *v;

        if (kind_is_string(info->kind)) {
                const char *str = *(char *const *) p;
                if (str && (info->kind == SETTING_COUNT || info->kind == SETTING_SECONDS))
                        *ret = json_integer(strtoll(str, NULL, 10));
                else
                        *ret = str ? json_string(str) : NULL;
                return str && !*ret ? -ENOMEM : 0;
        }
        if (strv_isempty(l)) {
                *ret = NULL;
                return 0;
        }
        if (info->kind == SETTING_SYSCTL_MAP || info->kind == SETTING_MIRROR_MAP) {
                v = json_object();
                for (char **k = l; v && k[0] && k[1]; k += 2) {
                        json_t *val;
                        if (info->kind == SETTING_SYSCTL_MAP) {
                                if (json_set(v, k[0], json_string(k[1])) < 0)
                                        goto oom;
                                continue;
                        }
                        val = json_object_get(v, k[0]);
                        if (!val) {
                                if (json_set(v, k[0], json_array()) < 0)
                                        goto oom;
                                val = json_object_get(v, k[0]);
                        }
                        if (json_append(val, json_string(k[1])) < 0)
                                goto oom;
                }
        } else {
                v = json_array();
                STRV_FOREACH(e, l)
                        if (!v || json_append(v, json_string(*e)) < 0)
                                goto oom;
        }
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
oom:
        json_decref(v);
        return -ENOMEM;
}

int settings_to_json(const Settings *s, json_t **ret) {
        json_t *j = json_object();

        if (!j)
                return -ENOMEM;
        for (size_t i = 0; i < settings_table_size; i++) {
                const SettingInfo *info = &settings_table[i];
                const char *dot = strchr(info->path, '.');
                _cleanup_free_ char *section = strndup(info->path, dot - info->path);
                json_t *v = NULL, *sv;
                int r;

                if (!section)
                        goto oom;
                r = leaf_to_json(info, s, &v);
                if (r < 0)
                        goto oom;
                if (!v)
                        continue;
                sv = json_object_get(j, section);
                if (!sv) {
                        if (json_set(j, section, json_object()) < 0) {
                                json_decref(v);
                                goto oom;
                        }
                        sv = json_object_get(j, section);
                }
                if (json_set(sv, dot + 1, v) < 0)
                        goto oom;
        }
        *ret = j;
        return 0;
oom:
        json_decref(j);
        return -ENOMEM;
}

int settings_merge_patch(json_t *target, json_t *patch) {
        const char *key;
        json_t *v;

        json_object_foreach(patch, key, v) {
                json_t *t = json_object_get(target, key);

                if (json_is_null(v)) {
                        (void) json_object_del(target, key);
                        continue;
                }
                if (json_is_object(v) && json_is_object(t)) {
                        int r = settings_merge_patch(t, v);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (json_object_set(target, key, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Counts the whitespace-separated words of s; *all_int says whether every one
 * is a decimal integer (a leading '-' allowed). */
static size_t count_words(const char *s, bool *all_int) {
        size_t n = 0;

        *all_int = true;
        while (*s) {
                size_t k;

                s += strspn(s, " \t\n");
                k = strcspn(s, " \t\n");
                if (k == 0)
                        break;
                size_t d = s[0] == '-' ? 1 : 0;
                if (k == d || strspn(s + d, "0123456789") != k - d)
                        *all_int = false;
                n++;
                s += k;
        }
        return n;
}

char *settings_sysctl_path(const char *proc_sys, const char *name) {
        char *p = path_join(proc_sys, name);

        /* Validated names: dots separate levels (as in sysctl.d). */
        for (char *c = p ? p + strlen(proc_sys) : NULL; c && *c; c++)
                if (*c == '.')
                        *c = '/';
        return p;
}

int settings_check_sysctl(const Settings *s, const char *proc_sys) {
        for (char **kv = s->sysctl; proc_sys && kv && kv[0] && kv[1]; kv += 2) {
                _cleanup_free_ char *p = settings_sysctl_path(proc_sys, kv[0]), *cur = NULL;
                bool cur_int, new_int;
                size_t cur_n, new_n;
                struct stat st;
                int r;

                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue; /* a module or an interface not there yet */
                        return error_setf(errno, "kernel.sysctl.\"%s\": cannot stat %s: %s", kv[0],
                                          p, strerror(errno));
                }
                if (!S_ISREG(st.st_mode))
                        return error_setf(EINVAL,
                                          "kernel.sysctl.\"%s\": not a sysctl (a directory of "
                                          "them in this kernel)",
                                          kv[0]);
                if ((st.st_mode & 0222) == 0)
                        return error_setf(EINVAL, "kernel.sysctl.\"%s\": read-only in this kernel",
                                          kv[0]);
                r = read_full_file(p, &cur, NULL, 4096);
                if (r < 0)
                        continue; /* write-only or unreadable: the kernel judges at apply */
                cur[strcspn(cur, "\n")] = 0;
                cur_n = count_words(cur, &cur_int);
                new_n = count_words(kv[1], &new_int);
                if (!cur_int || cur_n == 0)
                        continue; /* a string sysctl (core_pattern): any value */
                if (!new_int || new_n != cur_n) {
                        if (cur_n == 1)
                                return error_setf(EINVAL,
                                                  "kernel.sysctl.\"%s\": \"%s\" is not an "
                                                  "integer (this kernel's value: %s)",
                                                  kv[0], kv[1], cur);
                        return error_setf(EINVAL,
                                          "kernel.sysctl.\"%s\": \"%s\" is not %zu integers "
                                          "(this kernel's value: %s)",
                                          kv[0], kv[1], cur_n, cur);
                }
        }
        return 0;
}
