/* SPDX-License-Identifier: MIT */
/* rebootlock.h: fleet reboot coordination (docs/updates.md, "Fleet
 * reboots"), a counting semaphore in etcd as Flatcar's locksmith keeps one:
 * the key /berth/reboot/GROUP holds {"max": N, "holders": [ID, ...]} and
 * changes only by compare-and-swap on its mod_revision (etcd.h), so two
 * nodes that take the last slot at once cannot both win. A node takes a slot
 * before it reboots into a new release and gives it back once the new boot is
 * blessed (or it rolled back). The holder ID is the machine ID. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "etcd.h"
#include "macro.h"
#include "reboot-window.h"
#include "update.h"

#define REBOOT_LOCK_PREFIX "/berth/reboot/"
#define REBOOT_LOCK_GROUP_DEFAULT "default"
#define REBOOT_LOCK_MAX_LIMIT 10000u
/* Retries of a compare-and-swap that lost to another writer. */
#define REBOOT_LOCK_CAS_TRIES 64
/* The agent's own view (STATE/reboot-lock, one line), for `update status`. */
#define REBOOT_LOCK_STATE_FILE "reboot-lock"

/* The default TTL of a holder's lease (RebootLeaseTTL=): longer than a reboot
 * and HealthTimeout='s default assessment together. */
#define REBOOT_LOCK_LEASE_TTL_DEFAULT 3600u
#define REBOOT_LOCK_LEASE_TTL_MAX 86400u

typedef struct RebootSem {
        unsigned max;
        char **holders;
        int64_t *leases; /* per holder, in the same order: its etcd lease, 0 none */
} RebootSem;

/* Parses the key's value; what names it in errors ("etcd key
 * /berth/reboot/default: field \"max\": not an integer from 1 to 10000").
 * -EBADMSG for anything but {"max": N, "holders": [unique IDs], "leases":
 * {ID: "lease ID"}} ("leases" optional, each ID a holder). */
int reboot_sem_parse(const char *data, size_t size, const char *what, RebootSem *ret);
int reboot_sem_format(const RebootSem *s, char **ret);
void reboot_sem_done(RebootSem *s);
/* Adds id (lease 0: none) at the end; removes id (and its lease). */
int reboot_sem_add(RebootSem *s, const char *id, int64_t lease);
void reboot_sem_remove(RebootSem *s, const char *id);
/* id's lease: > 0, 0 none, -1 not a holder. */
int64_t reboot_sem_lease(const RebootSem *s, const char *id);
/* A holder ID: 1 to 128 characters of [A-Za-z0-9._:-]. */
bool reboot_lock_id_is_valid(const char *id);

typedef struct RebootLock {
        bool enabled; /* RebootCoordination=etcd */
        char **endpoints;
        char *group, *key, *id;
        unsigned max; /* for a key that does not exist yet (MaxUnavailable=) */
        char *state_dir;
        unsigned lease_ttl; /* RebootLeaseTTL=: a holder's lease, seconds; 0 none */
        bool has_window;    /* RebootWindow= */
        RebootWindow window;
} RebootLock;

/* From update.conf (RebootCoordination=, EtcdEndpoints=, RebootGroup=,
 * MaxUnavailable=, RebootWindow=) and the options (--etcd, --group, --id, --max win);
 * the ID defaults to /etc/machine-id. -EINVAL naming the key for bad
 * values. */
int reboot_lock_load(const UpdateOptions *o, RebootLock *ret);
void reboot_lock_done(RebootLock *l);

/* Reads the semaphore: 1 with *ret (and its revision), 0 when the key does
 * not exist. */
int reboot_lock_read(EtcdClient *e, const RebootLock *l, RebootSem *ret, int64_t *ret_rev);
/* One attempt to take a slot for id: 1 held (now, or already: a reboot
 * between taking and rebooting), 0 every slot is taken (*ret_sem says by
 * whom). Creates the key with max l->max when it does not exist. A key that
 * does not parse is an error, and is left as it is. With l->lease_ttl the
 * slot comes with a new lease of that TTL; a full group first loses the
 * holders whose lease expired (a node that died holding a slot). */
int reboot_lock_take(EtcdClient *e, const RebootLock *l, const char *id, RebootSem *ret_sem);
/* Gives id's slot back (and revokes its lease): 1 released, 0 id held none. */
int reboot_lock_release(EtcdClient *e, const RebootLock *l, const char *id);

/* Takes a slot for l->id, waiting while the group is full or etcd does not
 * answer (1 s, then doubling up to poll_max seconds), at most wait_s seconds
 * (0: one try, REBOOT_LOCK_FOREVER: no limit). Records each state in
 * STATE/reboot-lock. 0 held; -EBUSY still full, or the last etcd error,
 * after wait_s. */
#define REBOOT_LOCK_FOREVER UINT_MAX
int reboot_lock_acquire(const RebootLock *l, unsigned wait_s, unsigned poll_max);

/* The agent's last recorded state (NULL if none). */
int reboot_lock_state_read(const char *state_dir, char **ret);
int reboot_lock_state_write(const char *state_dir, const char *fmt, ...) _printf_(2, 3);

/* `berth update lock status|take|release ID` (docs/updates.md). */
int update_lock(const UpdateOptions *o, const char *verb, const char *id);
/* The lines `update status` adds: coordination and the agent's state. */
int update_lock_status_line(const UpdateOptions *o, const char *state_dir);
/* The agent: with RebootCoordination=etcd, gives this machine's slot back
 * (1 released, 0 held none or coordination off). */
/* The agent after a boot, until it gives the slot back: renews the lease of
 * this machine's slot (a new one if it expired while the machine was down
 * and the slot is still its own): 1 renewed, *ret_ttl its TTL; 0 no slot,
 * no lease or coordination off. */
int update_reboot_lock_renew_own(const UpdateOptions *o, unsigned *ret_ttl);
int update_reboot_lock_release_own(const UpdateOptions *o);
/* The agent, with a release installed: may it reboot into it? With
 * RebootWindow= it first waits for the window (update.conf read again each
 * poll, so a changed window counts); with RebootCoordination=etcd it then
 * waits for a slot for this machine, until the window closes (then waits for
 * the next one) or, without a window, as long as it takes. 1 reboot now
 * (holding a slot), 2 reboot now (in the window, not coordinated), 0 neither
 * a window nor coordination (the release waits for the next reboot), < 0
 * error. */
int update_reboot_lock_take_own(const UpdateOptions *o);
