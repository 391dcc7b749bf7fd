/* SPDX-License-Identifier: MIT */
/* settings.h: the node's settings model, one typed table (settings_table)
 * that the parser validates with, the renderer writes /etc from and
 * docs/api.md lists (test-settings checks the page against the table).
 *
 * Settings travel as JSON: an object of sections ("network", "time", ...)
 * whose keys are the table's leaves. Unknown keys, wrong types and bad values
 * are refused with their JSON path: "network.dns[2]: not an IP address".
 * A Settings is owned by its caller (settings_free). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "json-util.h"
#include "macro.h"

typedef struct Settings {
        char *hostname;
        char *net_interface;
        char *net_mode; /* "dhcp" or "static"; NULL: the factory DHCP on every interface */
        char *net_address;
        char *net_gateway;
        char **net_dns;
        char **time_servers;
        char **sysctl; /* pairs: name, value (in the order given) */
        char **modules;
        char **cmdline;
        char **mirrors; /* pairs: registry, mirror URL (in the order given) */
        char *update_channel;
        char **health_command;     /* argv: an absolute path, then its arguments */
        char *reboot_coordination; /* "off" or "etcd" */
        char **etcd_endpoints;
        char *reboot_group;
        char *max_unavailable;  /* a JSON integer, kept as its decimal text */
        char *reboot_window;    /* reboot-window.h's syntax */
        char *reboot_lease_ttl; /* a JSON integer 0..86400, kept as its decimal text */
} Settings;

typedef enum SettingKind {
        SETTING_HOSTNAME,
        SETTING_IFNAME,
        SETTING_NET_MODE,
        SETTING_CIDR,
        SETTING_IP,
        SETTING_IP_LIST,
        SETTING_HOST_LIST,
        SETTING_SYSCTL_MAP,
        SETTING_MODULE_LIST,
        SETTING_CMDLINE_LIST,
        SETTING_MIRROR_MAP,
        SETTING_CHANNEL,
        SETTING_ARGV,
        SETTING_REBOOT_COORDINATION,
        SETTING_URL_LIST,
        SETTING_COUNT,
        SETTING_REBOOT_WINDOW,
        SETTING_SECONDS,
        _SETTING_KIND_MAX,
        _SETTING_KIND_INVALID = -22,
} SettingKind;

typedef struct SettingInfo {
        const char *path; /* dotted JSON path, "network.hostname" */
        SettingKind kind;
        size_t offset;       /* of the field in Settings */
        const char *file;    /* the /etc file it renders (relative to /etc), NULL: none */
        const char *service; /* the service restarted when that file changes, NULL: none */
        bool reboot;         /* takes effect only at the next boot */
        const char *type;    /* what the value is, for docs/api.md */
} SettingInfo;

extern const SettingInfo settings_table[];
extern const size_t settings_table_size;

/* Lists and maps hold at most this many entries. */
#define SETTINGS_LIST_MAX 64

Settings *settings_free(Settings *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Settings *, settings_free);

/* Validates a settings object (JSON null leaves are unset). On failure returns
 * -EINVAL with the error object naming the JSON path. */
int settings_from_json(json_t *j, Settings **ret);

/* Checks the sysctl values against the running kernel under proc_sys (NULL:
 * no check): a sysctl that exists must be writable, and one whose value is a
 * list of integers (vm.swappiness, net.ipv4.tcp_rmem) gets as many integers.
 * One that does not exist yet (its module or interface comes later) and
 * string sysctls are left to the kernel at apply. -EINVAL naming the field. */
int settings_check_sysctl(const Settings *s, const char *proc_sys);

/* proc_sys/net/ipv4/ip_forward for net.ipv4.ip_forward (a validated name). */
char *settings_sysctl_path(const char *proc_sys, const char *name);

/* Parses and validates outside JSON (bounded size and depth). */
int settings_parse(const char *data, size_t size, Settings **ret);

/* The settings as a JSON object, unset leaves left out; the same for the
 * same settings (keys sorted when dumped with JSON_SORT_KEYS). */
int settings_to_json(const Settings *s, json_t **ret);

/* RFC 7396 merge patch of patch into target (target is modified): null
 * removes a key, objects merge, anything else replaces. */
int settings_merge_patch(json_t *target, json_t *patch);

/* The table row for a dotted path, NULL if none. */
const SettingInfo *settings_info(const char *path);
