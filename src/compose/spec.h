/* SPDX-License-Identifier: MIT */
/* spec.h: the image spec, an INI file (see docs/spec.md). spec_parse() fills an
 * ImageSpec owned by the caller (spec_free()). Unknown sections and keys, bad
 * values and missing required keys are errors naming path:line. [Spec]
 * Include=PATH reads another spec at that point (relative to the including
 * file; cycles and more than 8 levels are errors naming the including line). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef enum Flavor {
        FLAVOR_IMMUTABLE, /* erofs /usr under dm-verity, A/B slots (default) */
        FLAVOR_MUTABLE,   /* one ext4 root, package manager kept */
        _FLAVOR_MAX,
        _FLAVOR_INVALID = -EINVAL,
} Flavor;

const char *flavor_to_string(Flavor f);
Flavor flavor_from_string(const char *s);

/* One apt source: `deb URI SUITE COMPONENT...` with its keyring. */
typedef struct SpecSource {
        char *uri;     /* e.g. http://host/debian or file:///path */
        char **suites; /* e.g. bookworm, bookworm-updates */
        char **components;
        char *signed_by; /* keyring path; NULL: the default Debian keyring */
} SpecSource;

typedef struct SpecUser {
        char *name;
        uint32_t uid, gid;
        char *home, *shell, *gecos;
} SpecUser;

typedef struct SpecGroup {
        char *name;
        uint32_t gid;
        char **members;
} SpecGroup;

typedef struct SpecKV {
        char *key, *value;
} SpecKV;

typedef struct SpecCopy {
        char *source; /* relative to the spec's directory unless absolute */
        char *dest;   /* absolute path in the image */
        uint32_t mode;
} SpecCopy;

typedef struct ImageSpec {
        char *path; /* the spec file itself */
        char *dir;  /* its directory, for relative paths */

        /* [Image] */
        char *name;    /* required: [a-z0-9-]+ */
        char *version; /* required */
        char *description;
        Flavor flavor;
        char *architecture; /* default amd64 */

        /* [Source] (repeatable); none = use the build host's apt sources */
        SpecSource *sources;
        size_t n_sources;
        bool check_valid_until_set; /* Source CheckValidUntil= given */
        bool check_valid_until;

        /* [Packages] */
        char **include;       /* packages to install (with their closure) */
        char **exclude;       /* never installed; dependencies on them count as met */
        char **boot_packages; /* fetched for their files, not installed (e.g. systemd-boot-efi) */

        /* [Kernel] */
        char *kernel_package; /* e.g. linux-image-amd64 */
        char **modules;       /* modules for the initramfs (deps added by modules.dep) */
        char **load_modules;  /* loaded at boot in the real root (modules-load.d) */
        char *cmdline;        /* extra kernel command line */

        /* [Boot] */
        unsigned boot_tries; /* boot counting tries, default 3 */
        unsigned boot_timeout;
        char *secure_boot_keys; /* SecureBootKeys=: a `berth keygen --secure-boot` directory;
                                 * set: signed UKIs only (docs/security.md) */

        /* [Files] */
        char **remove; /* globs removed from the tree (docs, man, locales) */
        char **keep;   /* globs kept even if matched by remove */
        SpecCopy *copies;
        size_t n_copies;

        /* [Users] */
        SpecUser *users;
        size_t n_users;
        SpecGroup *groups;
        size_t n_groups;

        /* [Sysctl] and [Alternatives] (Link=/path:target) */
        SpecKV *sysctls;
        size_t n_sysctls;
        SpecKV *links;
        size_t n_links;

        /* [Services] */
        char **services; /* berth service units enabled */

        /* [Disk] sizes in bytes (0 = computed) */
        uint64_t disk_size, esp_size, usr_size, root_size;

        /* [Update]: what the image's update agent trusts and asks */
        char *update_root;              /* TUF root.json on the build host, installed under /usr */
        char *update_repository;        /* base URL of the repository */
        char *update_channel;           /* default "stable" */
        unsigned update_check_interval; /* seconds between checks, 0: none; default 21600 */
        unsigned update_check_jitter;   /* random extra delay up to this, default 3600 */
        unsigned update_health_grace;   /* seconds healthy before blessing, default 30 */
        unsigned update_health_timeout; /* seconds to become healthy, default 600 */
        char *update_reboot_coordination; /* "off" or "etcd" (docs/updates.md, "Fleet reboots") */
        char **update_etcd_endpoints;     /* etcd client URLs */
        char *update_reboot_group;        /* the semaphore's group */
        unsigned update_max_unavailable;  /* 0: not set (the agent's default, 1) */
        char *update_reboot_window;       /* reboot-window.h; NULL: any time */

        /* [Output] */
        char *compression; /* erofs compressor, default lz4hc */

        /* [Test] */
        bool test_payload; /* berth-init honours berth.payload=1 (test images only) */
} ImageSpec;

ImageSpec *spec_free(ImageSpec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageSpec *, spec_free);

int spec_parse(const char *path, ImageSpec **ret);
/* For the fuzzer and tests: parse from memory; path is only used in messages. */
int spec_parse_string(const char *path, const char *data, size_t size, ImageSpec **ret);
