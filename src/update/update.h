/* SPDX-License-Identifier: MIT */
/* update.h: the update agent behind `berth update` (docs/updates.md). Its
 * target is the running machine or a disk image (--disk): the same steps on
 * both. check: refresh and verify the repository's TUF metadata, pick the
 * newest release of the channel for this architecture. download: fetch its
 * files into the state directory (resumable, hash-checked). apply: download,
 * then install into the other slot: clear it (old entry gone, pair labelled
 * _empty), write the usr pair, verify it by reading it back against the
 * signed root hash, give it its UUIDs and labels, copy kernel and initrd to
 * the ESP, and last write the loader entry with tries. Every step is
 * recorded in the journal and safe to redo. Refuses downgrades, other
 * architectures and versions marked bad. */
#pragma once

#include <stdbool.h>

#define UPDATE_STATE_DIR "/var/lib/berth/update"
#define UPDATE_CONFIG_DIR "/usr/share/berth/update"
/* The node's settings (update.channel, update.health-command), rendered by
 * berthd: read after the image's update.conf, so its keys win. */
#define UPDATE_SETTINGS_CONF "/etc/berth/update.conf"
/* A health command that runs longer than this is unhealthy. */
#define UPDATE_HEALTH_COMMAND_TIMEOUT 30
#define UPDATE_TRIES 3

typedef struct UpdateOptions {
        const char *disk;         /* NULL: the running machine */
        const char *state_dir;    /* NULL: UPDATE_STATE_DIR */
        const char *repo_url;     /* NULL: update.conf's Repository= */
        const char *channel;      /* NULL: update.conf's Channel=, else "stable" */
        const char *root_path;    /* NULL: UPDATE_CONFIG_DIR/root.json */
        const char *config_dir;   /* NULL: UPDATE_CONFIG_DIR */
        const char *esp_dir;      /* NULL: /efi (running machine only) */
        unsigned timeout;         /* download stall timeout, seconds; 0: fetch's default */
        bool reboot;              /* apply on the running machine: reboot into it after */
        bool full;                /* download whole files, no delta from the running slot */
        const char *services_dir; /* NULL: PID 1's status files (boot assessment) */
        /* Fleet reboots (rebootlock.h): NULL or 0 take update.conf's. */
        const char *etcd;    /* endpoints, separated by commas */
        const char *group;   /* reboot group */
        const char *lock_id; /* holder ID; NULL: the machine ID */
        unsigned lock_max;   /* max for a semaphore that does not exist yet */
        unsigned wait;       /* lock take: seconds to wait for a slot */
        unsigned poll_max;   /* longest pause between tries while waiting */
        unsigned lock_ttl;   /* a holder's lease TTL, seconds (with lock_ttl_set; 0: none) */
        bool lock_ttl_set;
} UpdateOptions;

int update_status(const UpdateOptions *o);
int update_check(const UpdateOptions *o);
int update_download(const UpdateOptions *o);
int update_apply(const UpdateOptions *o);
/* update_apply without the reboot: 1 when a release is installed and waits
 * for a reboot (now or before), 0 when up to date. */
int update_apply_pending(const UpdateOptions *o);
/* Blesses the running slot's loader entry (ends boot counting). */
int update_mark_good(const UpdateOptions *o);
/* Whether the running slot's entry still counts tries, and its version.
 * Notes a rollback first (as every verb does). */
int update_running_entry(const UpdateOptions *o, bool *ret_counting, char **ret_version);
/* The supervised agent (update.service, docs/updates.md "Boot assessment"):
 * after a boot from a counting entry, waits for health and blesses the entry
 * or reboots; gives a fleet reboot slot back; then exits. */
int update_service(const UpdateOptions *o);
/* One scheduled update check (update-check.service, which berth-init starts
 * every CheckInterval=): apply what is new; a release installed and waiting
 * is rebooted into (through the fleet's semaphore with RebootCoordination=),
 * else a slot this node still holds goes back. */
int update_periodic(const UpdateOptions *o);
/* One health probe: every service in services_dir but self ready, exited or
 * skipped; when a service "containerd" exists, containerd_socket accepting a
 * connection; then, when health_command is not NULL, that command (run
 * without a shell, stdout and stderr to the agent's log) exiting 0 within
 * timeout_s. 1 healthy, 0 not (why in ret_reason), <0 error. */
int update_health_probe(const char *services_dir, const char *self, const char *containerd_socket,
                        char *const *health_command, unsigned timeout_s, char **ret_reason);

/* update.conf as the agent sees it: the image's (config_dir, or
 * UPDATE_CONFIG_DIR), then, for the running machine (no config_dir),
 * UPDATE_SETTINGS_CONF. *ret is NULL when neither exists. */
int update_config_load(const UpdateOptions *o, char **ret);
/* The value of the last KEY= line of conf (later lines win); NULL if none. */
int update_config_value(const char *conf, const char *key, char **ret);
/* Records version as bad: never installed again. */
int update_mark_bad(const UpdateOptions *o, const char *version);
