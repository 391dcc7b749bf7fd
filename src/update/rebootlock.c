/* SPDX-License-Identifier: MIT */
/* The fleet reboot semaphore in etcd (rebootlock.h). */
#include "rebootlock.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "json-util.h"
#include "log.h"
#include "parse-util.h"
#include "strv.h"

bool reboot_lock_id_is_valid(const char *id) {
        size_t n = strlen(id);
        if (n == 0 || n > 128)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("._:-", *p)))
                        return false;
        return true;
}

void reboot_sem_done(RebootSem *s) {
        s->holders = strv_free(s->holders);
        free(s->leases);
        s->leases = NULL;
        s->max = 0;
}

int reboot_sem_add(RebootSem *s, const char *id, int64_t lease) {
        size_t n = strv_length(s->holders);
        int64_t *l = reallocarray(s->leases, n + 1, sizeof(int64_t));
        if (!l)
                return -ENOMEM;
        s->leases = l;
        int r = strv_extend(&s->holders, id);
        if (r < 0)
                return r;
        s->leases[n] = lease;
        return 0;
}

static ssize_t sem_index(const RebootSem *s, const char *id) {
        for (size_t i = 0; s->holders && s->holders[i]; i++)
                if (streq(s->holders[i], id))
                        return (ssize_t) i;
        return -1;
}

void reboot_sem_remove(RebootSem *s, const char *id) {
        ssize_t i = sem_index(s, id);
        if (i < 0)
                return;
        size_t n = strv_length(s->holders);
        free(s->holders[i]);
        memmove(s->holders + i, s->holders + i + 1, (n - (size_t) i) * sizeof(char *));
        memmove(s->leases + i, s->leases + i + 1, (n - (size_t) i - 1) * sizeof(int64_t));
}

int64_t reboot_sem_lease(const RebootSem *s, const char *id) {
        ssize_t i = sem_index(s, id);
        return i < 0 ? -1 : s->leases[i];
}

/* "leases": {ID: "decimal lease ID"}, each ID a holder; into s->leases. */
static int parse_leases(json_t *m, const char *what, RebootSem *s) {
        const char *id;
        json_t *v;
        size_t n = strv_length(s->holders);
        s->leases = calloc(n + 1, sizeof(int64_t));
        if (!s->leases)
                return -ENOMEM;
        if (!m)
                return 0;
        if (!json_is_object(m))
                return error_setf(EBADMSG, "%s: field \"leases\": not an object", what);
        json_object_foreach(m, id, v) {
                const char *t = json_string_value(v);
                ssize_t i = sem_index(s, id);
                char *end;
                if (i < 0)
                        return error_setf(EBADMSG,
                                          "%s: field \"leases\": \"%.128s\" is not a holder", what,
                                          id);
                errno = 0;
                long long x = t ? strtoll(t, &end, 10) : 0;
                if (!t || errno != 0 || end == t || *end || x <= 0 ||
                    !isdigit((unsigned char) t[0]))
                        return error_setf(EBADMSG,
                                          "%s: field \"leases.%s\": not a lease ID (a string of "
                                          "digits)",
                                          what, id);
                s->leases[i] = x;
        }
        return 0;
}

int reboot_sem_parse(const char *data, size_t size, const char *what, RebootSem *ret) {
        _cleanup_free_ char *msg = NULL;
        _cleanup_strv_free_ char **holders = NULL;
        json_t *j = NULL, *v, *h;
        const char *field;
        size_t i;
        int r = json_parse_bounded(data, size, &j, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_setf(EBADMSG, "%s: not JSON: %s", what, strna(msg));
        if (!json_is_object(j)) {
                r = error_setf(EBADMSG, "%s: not a JSON object", what);
                goto out;
        }
        json_object_foreach(j, field, v) if (!streq(field, "max") && !streq(field, "holders") &&
                                             !streq(field, "leases")) {
                r = error_setf(EBADMSG, "%s: unknown field \"%s\"", what, field);
                goto out;
        }
        v = json_object_get(j, "max");
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > REBOOT_LOCK_MAX_LIMIT) {
                r = error_setf(EBADMSG, "%s: field \"max\": %s", what,
                               v ? "not an integer from 1 to 10000" : "missing");
                goto out;
        }
        h = json_object_get(j, "holders");
        if (!json_is_array(h)) {
                r = error_setf(EBADMSG, "%s: field \"holders\": %s", what,
                               h ? "not a list" : "missing");
                goto out;
        }
        if (json_array_size(h) > REBOOT_LOCK_MAX_LIMIT) {
                r = error_setf(EBADMSG, "%s: field \"holders\": more than %u entries", what,
                               REBOOT_LOCK_MAX_LIMIT);
                goto out;
        }
        json_array_foreach(h, i, v) {
                const char *id = json_string_value(v);
                if (!id || strlen(id) != json_string_length(v) || !reboot_lock_id_is_valid(id)) {
                        r = error_setf(EBADMSG, "%s: field \"holders[%zu]\": not a holder ID", what,
                                       i);
                        goto out;
                }
                if (strv_contains(holders, id)) {
                        r = error_setf(EBADMSG, "%s: field \"holders[%zu]\": \"%s\" listed twice",
                                       what, i, id);
                        goto out;
                }
                r = strv_extend(&holders, id);
                if (r < 0)
                        goto out;
        }
        RebootSem s = { .max = (unsigned) json_integer_value(json_object_get(j, "max")),
                        .holders = TAKE_PTR(holders) };
        r = parse_leases(json_object_get(j, "leases"), what, &s);
        if (r < 0) {
                reboot_sem_done(&s);
                goto out;
        }
        *ret = s;
out:
        json_decref(j);
        return r;
}

int reboot_sem_format(const RebootSem *s, char **ret) {
        json_t *j = json_object(), *h = json_array(), *m = json_object();
        int r = -ENOMEM;
        if (!j || !h || !m || json_set(j, "max", json_integer(s->max)) < 0)
                goto out;
        for (size_t i = 0; s->holders && s->holders[i]; i++) {
                if (json_append(h, json_string(s->holders[i])) < 0)
                        goto out;
                if (s->leases && s->leases[i] > 0) {
                        char id[24];
                        (void) snprintf(id, sizeof id, "%" PRId64, s->leases[i]);
                        if (json_set(m, s->holders[i], json_string(id)) < 0)
                                goto out;
                }
        }
        r = json_set(j, "holders", h);
        h = NULL;
        if (r >= 0 && json_object_size(m) > 0) {
                r = json_set(j, "leases", m);
                m = NULL;
        }
        if (r < 0)
                goto out;
        *ret = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        r = *ret ? 0 : -ENOMEM;
out:
        json_decref(m);
        json_decref(h);
        json_decref(j);
        return r;
}

void reboot_lock_done(RebootLock *l) {
        strv_free(l->endpoints);
        free(l->group);
        free(l->key);
        free(l->id);
        free(l->state_dir);
        *l = (RebootLock){};
}

static int machine_id(char **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file("/etc/machine-id", &data, &size, 4096);
        if (r < 0)
                return error_wrapf(r, "cannot read /etc/machine-id (give --id)");
        data[strcspn(data, "\n")] = 0;
        if (!reboot_lock_id_is_valid(data))
                return error_setf(EINVAL, "/etc/machine-id: not a machine ID");
        *ret = TAKE_PTR(data);
        return 0;
}

int reboot_lock_load(const UpdateOptions *o, RebootLock *ret) {
        _cleanup_free_ char *conf = NULL, *mode = NULL, *eps = NULL, *group = NULL, *max = NULL,
                            *window = NULL, *ttl = NULL;
        RebootLock l = { .max = 1, .lease_ttl = REBOOT_LOCK_LEASE_TTL_DEFAULT };
        int r = update_config_load(o, &conf);
        if (r < 0)
                return r;
        if (conf && ((r = update_config_value(conf, "RebootCoordination", &mode)) < 0 ||
                     (r = update_config_value(conf, "EtcdEndpoints", &eps)) < 0 ||
                     (r = update_config_value(conf, "RebootGroup", &group)) < 0 ||
                     (r = update_config_value(conf, "MaxUnavailable", &max)) < 0 ||
                     (r = update_config_value(conf, "RebootWindow", &window)) < 0 ||
                     (r = update_config_value(conf, "RebootLeaseTTL", &ttl)) < 0))
                return r;
        if (mode && !streq(mode, "etcd") && !streq(mode, "off"))
                return error_setf(EINVAL,
                                  "update.conf: RebootCoordination=%s: not \"etcd\" or "
                                  "\"off\"",
                                  mode);
        l.enabled = mode && streq(mode, "etcd");
        if (max && parse_unsigned_range(max, 1, REBOOT_LOCK_MAX_LIMIT, &l.max) < 0)
                return error_setf(EINVAL,
                                  "update.conf: MaxUnavailable=%s: not a number from 1 to %u", max,
                                  REBOOT_LOCK_MAX_LIMIT);
        if (o->lock_max > 0)
                l.max = o->lock_max;
        if (ttl && parse_unsigned_range(ttl, 0, REBOOT_LOCK_LEASE_TTL_MAX, &l.lease_ttl) < 0)
                return error_setf(EINVAL,
                                  "update.conf: RebootLeaseTTL=%s: not a number of seconds from 0 "
                                  "to %u",
                                  ttl, REBOOT_LOCK_LEASE_TTL_MAX);
        if (o->lock_ttl_set)
                l.lease_ttl = o->lock_ttl;
        if (window) {
                r = reboot_window_parse(window, &l.window);
                if (r < 0)
                        return error_wrapf(r, "update.conf: RebootWindow=%s", window);
                l.has_window = true;
        }
        _cleanup_(reboot_lock_done) RebootLock tmp = l;
        const char *e = o->etcd ?: eps;
        if (e && (r = strv_extend_words(&tmp.endpoints, e, true)) < 0)
                return r;
        tmp.group = strdup(o->group ?: group ?: REBOOT_LOCK_GROUP_DEFAULT);
        if (!tmp.group)
                return -ENOMEM;
        if (!reboot_lock_id_is_valid(tmp.group))
                return error_setf(EINVAL, "reboot group '%s': not a name of [A-Za-z0-9._:-]",
                                  tmp.group);
        tmp.key = strdup_printf(REBOOT_LOCK_PREFIX "%s", tmp.group);
        tmp.state_dir = strdup(o->state_dir ?: UPDATE_STATE_DIR);
        if (!tmp.key || !tmp.state_dir)
                return -ENOMEM;
        if (o->lock_id) {
                if (!reboot_lock_id_is_valid(o->lock_id))
                        return error_setf(EINVAL, "--id %s: not a holder ID ([A-Za-z0-9._:-])",
                                          o->lock_id);
                tmp.id = strdup(o->lock_id);
                if (!tmp.id)
                        return -ENOMEM;
        }
        *ret = tmp;
        tmp = (RebootLock){};
        return 0;
}

static char *key_what(const RebootLock *l, EtcdClient *e) {
        return strdup_printf("etcd key %s (%s)", l->key, strna(etcd_endpoint(e)));
}

int reboot_lock_read(EtcdClient *e, const RebootLock *l, RebootSem *ret, int64_t *ret_rev) {
        EtcdKv kv = {};
        int r = etcd_get(e, l->key, &kv);
        if (r <= 0)
                return r;
        _cleanup_free_ char *what = key_what(l, e);
        r = what ? reboot_sem_parse(kv.value, kv.size, what, ret) : -ENOMEM;
        if (r >= 0)
                *ret_rev = kv.mod_revision;
        etcd_kv_done(&kv);
        return r < 0 ? r : 1;
}

/* A short random pause after a lost compare-and-swap, so that two writers
 * do not collide again and again. */
static void conflict_pause(void) {
        unsigned x = 0;
        if (getrandom(&x, sizeof x, 0) != sizeof x)
                x = (unsigned) getpid();
        (void) usleep(1000 + x % 20000);
}

/* Writes s over revision rev (0: the key must not exist): 1 written, 0 lost. */
static int write_sem(EtcdClient *e, const RebootLock *l, const RebootSem *s, int64_t rev) {
        _cleanup_free_ char *text = NULL;
        int r = reboot_sem_format(s, &text);
        return r < 0 ? r : etcd_cas(e, l->key, rev, text, strlen(text));
}

/* Drops the holders whose lease expired (their node died, or stayed down
 * longer than the TTL); holders without a lease stay. The number dropped. */
static int evict_expired(EtcdClient *e, const RebootLock *l, RebootSem *s) {
        int n = 0;
        for (size_t i = 0; s->holders && s->holders[i];) {
                int64_t ttl = 0;
                if (s->leases[i] <= 0) {
                        i++;
                        continue;
                }
                int r = etcd_lease_ttl(e, s->leases[i], &ttl);
                if (r < 0)
                        return r;
                if (ttl > 0) {
                        i++;
                        continue;
                }
                log_info("reboot lock %s: the lease %" PRId64 " of holder %s expired: its slot "
                         "is free",
                         l->key, s->leases[i], s->holders[i]);
                _cleanup_free_ char *gone = strdup(s->holders[i]);
                if (!gone)
                        return -ENOMEM;
                reboot_sem_remove(s, gone);
                n++;
        }
        return n;
}

/* Best effort: a lease nobody revokes ends after its TTL anyway. */
static void revoke_quietly(EtcdClient *e, int64_t lease) {
        if (lease <= 0)
                return;
        int r = etcd_lease_revoke(e, lease);
        if (r < 0) {
                log_debug("etcd: cannot revoke lease %" PRId64 ": %s", lease, error_message(r));
                error_clear();
        }
}

int reboot_lock_take(EtcdClient *e, const RebootLock *l, const char *id, RebootSem *ret_sem) {
        int64_t lease = 0; /* granted once, for all the tries */
        int r = 0;
        for (unsigned try = 0; try < REBOOT_LOCK_CAS_TRIES; try++) {
                _cleanup_(reboot_sem_done) RebootSem s = {};
                int64_t rev = 0;
                r = reboot_lock_read(e, l, &s, &rev);
                if (r < 0)
                        break;
                if (r == 0)
                        s.max = l->max;
                if (strv_contains(s.holders, id)) {
                        *ret_sem = s;
                        s = (RebootSem){};
                        r = 1;
                        break;
                }
                if (strv_length(s.holders) >= s.max && (r = evict_expired(e, l, &s)) < 0)
                        break;
                if (strv_length(s.holders) >= s.max) {
                        *ret_sem = s;
                        s = (RebootSem){};
                        r = 0;
                        break;
                }
                if (l->lease_ttl > 0 && lease == 0 &&
                    (r = etcd_lease_grant(e, l->lease_ttl, &lease)) < 0)
                        break;
                r = reboot_sem_add(&s, id, lease);
                if (r < 0)
                        break;
                r = write_sem(e, l, &s, rev);
                if (r < 0)
                        break;
                if (r > 0) {
                        if (try > 0)
                                log_info("reboot lock %s: took a slot after %u lost "
                                         "compare-and-swaps",
                                         l->key, try);
                        *ret_sem = s;
                        s = (RebootSem){};
                        return 1; /* the lease is the slot's now */
                }
                log_debug("reboot lock %s: changed meanwhile, again", l->key);
                conflict_pause();
                r = -EAGAIN;
        }
        revoke_quietly(e, lease);
        if (r == -EAGAIN)
                return error_setf(EAGAIN,
                                  "reboot lock %s: %u compare-and-swaps lost to other writers",
                                  l->key, REBOOT_LOCK_CAS_TRIES);
        return r;
}

int reboot_lock_release(EtcdClient *e, const RebootLock *l, const char *id) {
        for (unsigned try = 0; try < REBOOT_LOCK_CAS_TRIES; try++) {
                _cleanup_(reboot_sem_done) RebootSem s = {};
                int64_t rev = 0;
                int r = reboot_lock_read(e, l, &s, &rev);
                if (r <= 0)
                        return r;
                int64_t lease = reboot_sem_lease(&s, id);
                if (lease < 0)
                        return 0;
                reboot_sem_remove(&s, id);
                r = write_sem(e, l, &s, rev);
                if (r > 0)
                        revoke_quietly(e, lease);
                if (r != 0)
                        return r;
                conflict_pause();
        }
        return error_setf(EAGAIN, "reboot lock %s: %u compare-and-swaps lost to other writers",
                          l->key, REBOOT_LOCK_CAS_TRIES);
}

int reboot_lock_state_write(const char *state_dir, const char *fmt, ...) {
        _cleanup_free_ char *p = path_join(state_dir, REBOOT_LOCK_STATE_FILE), *line = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (r < 0 || !p)
                return -ENOMEM;
        char *l2 = strdup_printf("%s\n", line);
        if (!l2)
                return -ENOMEM;
        r = mkdir_p(state_dir, 0755);
        if (r >= 0)
                r = write_file_atomic(p, l2, strlen(l2), 0644);
        free(l2);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 0;
}

int reboot_lock_state_read(const char *state_dir, char **ret) {
        _cleanup_free_ char *p = path_join(state_dir, REBOOT_LOCK_STATE_FILE), *data = NULL;
        size_t size;
        if (!p)
                return -ENOMEM;
        int r = read_full_file(p, &data, &size, 4096);
        *ret = NULL;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        data[strcspn(data, "\n")] = 0;
        *ret = TAKE_PTR(data);
        return 0;
}

static uint64_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec;
}

int reboot_lock_acquire(const RebootLock *l, unsigned wait_s, unsigned poll_max) {
        _cleanup_(etcd_client_freep) EtcdClient *e = NULL;
        uint64_t start = now_sec();
        unsigned pause = 1;
        int r = etcd_client_new(l->endpoints, 0, &e);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(reboot_sem_done) RebootSem s = {};
                r = reboot_lock_take(e, l, l->id, &s);
                if (r > 0) {
                        _cleanup_free_ char *who = strv_join(s.holders, " ");
                        (void) reboot_lock_state_write(l->state_dir,
                                                       "holding a slot of %s (max %u, holders: %s) "
                                                       "at %s",
                                                       l->key, s.max, strna(who),
                                                       strna(etcd_endpoint(e)));
                        error_clear();
                        printf("reboot lock %s: %s holds a slot (max %u, holders: %s)\n", l->key,
                               l->id, s.max, strna(who));
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                if (r == 0) {
                        _cleanup_free_ char *who = strv_join(s.holders, " ");
                        r = error_setf(EBUSY, "reboot lock %s: all %u slots taken (holders: %s)",
                                       l->key, s.max, strna(who));
                }
                /* Not rebooting without a slot: etcd down or a bad key is
                 * waited out like a full group, and said. */
                (void) reboot_lock_state_write(l->state_dir, "waiting, not rebooting: %s",
                                               error_message(r));
                if (wait_s != REBOOT_LOCK_FOREVER && now_sec() - start + pause > wait_s)
                        return r;
                log_info("waiting %us for a reboot slot: %s", pause, error_message(r));
                fflush(stdout);
                error_clear();
                sleep(pause);
                pause = MIN(pause * 2, MAX(poll_max, 1u));
        }
}

/* "reboot window: Mon-Fri 02:00-04:00 UTC, opens 2026-11-30 02:00 UTC" */
static void print_window(const RebootLock *l) {
        char w[REBOOT_WINDOW_FORMAT_MAX], t[REBOOT_WINDOW_TIME_MAX];
        time_t now = time(NULL), next;
        if (!l->has_window)
                return;
        next = reboot_window_next(&l->window, now);
        if (next == now && reboot_window_end(&l->window, now) - now >= 7 * 86400) {
                printf("reboot window: %s, open at all times\n",
                       reboot_window_format(&l->window, w));
                return;
        }
        printf("reboot window: %s, %s %s\n", reboot_window_format(&l->window, w),
               next == now ? "open now, until" : "opens",
               reboot_window_format_time(next == now ? reboot_window_end(&l->window, now) : next,
                                         t));
}

int update_lock_status_line(const UpdateOptions *o, const char *state_dir) {
        _cleanup_(reboot_lock_done) RebootLock l = {};
        _cleanup_free_ char *state = NULL;
        int r = reboot_lock_load(o, &l);
        if (r < 0) {
                /* The rest of the status is still worth showing. */
                printf("reboot coordination: %s\n", error_message(r));
                error_clear();
                return 0;
        }
        r = reboot_lock_state_read(state_dir, &state);
        if (r < 0)
                return r;
        print_window(&l);
        if (!l.enabled && !state)
                return 0;
        _cleanup_free_ char *eps = strv_join(l.endpoints, ",");
        printf("reboot coordination: %s", l.enabled ? "etcd" : "off");
        if (l.enabled)
                printf(", %s at %s", l.key, isempty(eps) ? "(no EtcdEndpoints=)" : eps);
        printf("\nreboot lock: %s\n", state ?: "no slot taken by this agent");
        return 0;
}

static int check_enabled(RebootLock *l, bool need_id) {
        if (strv_isempty(l->endpoints))
                return error_setf(EINVAL, "no etcd endpoints: no --etcd URL and no "
                                          "EtcdEndpoints= in update.conf");
        if (need_id && !l->id)
                return machine_id(&l->id);
        return 0;
}

static int lock_status(const RebootLock *l) {
        _cleanup_(etcd_client_freep) EtcdClient *e = NULL;
        _cleanup_(reboot_sem_done) RebootSem s = {};
        _cleanup_free_ char *state = NULL;
        int64_t rev = 0;
        int r = reboot_lock_state_read(l->state_dir, &state);
        if (r < 0)
                return r;
        printf("agent: %s\n", state ?: "no slot taken");
        print_window(l);
        r = etcd_client_new(l->endpoints, 0, &e);
        if (r < 0)
                return r;
        r = reboot_lock_read(e, l, &s, &rev);
        if (r < 0)
                return r;
        if (r == 0) {
                printf("%s: not created yet (max %u when the first node takes a slot)\n", l->key,
                       l->max);
                return 0;
        }
        printf("%s: max %u, %zu held, revision %" PRId64 " (%s)\n", l->key, s.max,
               strv_length(s.holders), rev, strna(etcd_endpoint(e)));
        for (size_t i = 0; s.holders && s.holders[i]; i++) {
                int64_t ttl = 0;
                if (s.leases[i] <= 0) {
                        printf("holder: %s (no lease: until given back)\n", s.holders[i]);
                        continue;
                }
                r = etcd_lease_ttl(e, s.leases[i], &ttl);
                if (r < 0)
                        return r;
                if (ttl > 0)
                        printf("holder: %s (lease %" PRId64 ", %" PRId64 " s left)\n", s.holders[i],
                               s.leases[i], ttl);
                else
                        printf("holder: %s (lease %" PRId64 " expired: the next taker frees "
                               "its slot)\n",
                               s.holders[i], s.leases[i]);
        }
        return 0;
}

static int lock_release(const RebootLock *l, const char *id) {
        _cleanup_(etcd_client_freep) EtcdClient *e = NULL;
        int r = etcd_client_new(l->endpoints, 0, &e);
        if (r < 0)
                return r;
        r = reboot_lock_release(e, l, id);
        if (r < 0)
                return r;
        if (r == 0) {
                printf("%s holds no slot of %s\n", id, l->key);
                return 0;
        }
        printf("released the slot of %s in %s\n", id, l->key);
        if (l->id && streq(l->id, id))
                (void) reboot_lock_state_write(l->state_dir, "released its slot of %s", l->key);
        error_clear();
        return 0;
}

static int renew(const RebootLock *l, unsigned *ret_ttl);

static int lock_renew(const RebootLock *l) {
        unsigned ttl = 0;
        int r = renew(l, &ttl);
        if (r < 0)
                return r;
        if (r == 0)
                printf("%s holds no slot of %s with a lease\n", l->id, l->key);
        else
                printf("renewed the lease of %s's slot in %s: %u s\n", l->id, l->key, ttl);
        return 0;
}

int update_lock(const UpdateOptions *o, const char *verb, const char *id) {
        _cleanup_(reboot_lock_done) RebootLock l = {};
        bool release = streq(verb, "release");
        int r = reboot_lock_load(o, &l);
        if (r >= 0)
                r = check_enabled(&l,
                                  streq(verb, "take") || streq(verb, "renew") || (release && !id));
        if (r < 0)
                return r;
        if (id && !reboot_lock_id_is_valid(id))
                return error_setf(EINVAL, "holder ID '%s': not of [A-Za-z0-9._:-]", id);
        if (streq(verb, "status"))
                return lock_status(&l);
        if (streq(verb, "take"))
                return reboot_lock_acquire(&l, o->wait, o->poll_max ?: 60);
        if (release)
                return lock_release(&l, id ?: l.id);
        if (streq(verb, "renew"))
                return lock_renew(&l);
        return error_setf(EINVAL, "unknown lock verb '%s' (status, take, release, renew)", verb);
}

int update_reboot_lock_release_own(const UpdateOptions *o) {
        _cleanup_(reboot_lock_done) RebootLock l = {};
        int r = reboot_lock_load(o, &l);
        if (r < 0 || !l.enabled)
                return r;
        r = check_enabled(&l, true);
        return r < 0 ? r : lock_release(&l, l.id);
}

/* Waits until the window is open, reading update.conf again after each
 * pause of at most poll_s (an operator may change or drop the window):
 * 0 inside it (or none now), < 0 error. */
static int wait_window(const UpdateOptions *o, RebootLock *l, unsigned poll_s) {
        for (;;) {
                char w[REBOOT_WINDOW_FORMAT_MAX], t[REBOOT_WINDOW_TIME_MAX];
                time_t now = time(NULL), next;
                if (!l->has_window)
                        return 0;
                next = reboot_window_next(&l->window, now);
                if (next <= now)
                        return 0;
                int r = reboot_lock_state_write(
                        l->state_dir, "waiting for the reboot window %s, not rebooting before %s",
                        reboot_window_format(&l->window, w), reboot_window_format_time(next, t));
                if (r < 0)
                        return r;
                log_info("waiting for the reboot window %s (opens %s)", w, t);
                fflush(stdout);
                sleep((unsigned) MIN((time_t) poll_s, next - now));
                reboot_lock_done(l);
                r = reboot_lock_load(o, l);
                if (r < 0)
                        return r;
        }
}

/* Renews the lease of l->id's slot: 1 renewed (*ret_ttl), 0 no slot or no lease. */
static int renew(const RebootLock *l, unsigned *ret_ttl) {
        _cleanup_(etcd_client_freep) EtcdClient *e = NULL;
        int r = etcd_client_new(l->endpoints, 0, &e);
        if (r < 0)
                return r;
        for (unsigned try = 0; try < REBOOT_LOCK_CAS_TRIES; try++) {
                _cleanup_(reboot_sem_done) RebootSem s = {};
                int64_t rev = 0, ttl = 0, lease;
                r = reboot_lock_read(e, l, &s, &rev);
                if (r <= 0)
                        return r;
                lease = reboot_sem_lease(&s, l->id);
                if (lease <= 0 || l->lease_ttl == 0)
                        return 0; /* no slot, or one without a lease */
                r = etcd_lease_keepalive(e, lease, &ttl);
                if (r < 0)
                        return r;
                if (ttl > 0) {
                        *ret_ttl = (unsigned) MIN(ttl, (int64_t) REBOOT_LOCK_LEASE_TTL_MAX);
                        return 1;
                }
                /* Down longer than the TTL, and nobody took the slot
                 * meanwhile: it is still this node's, with a new lease. */
                int64_t fresh = 0;
                r = etcd_lease_grant(e, l->lease_ttl, &fresh);
                if (r < 0)
                        return r;
                reboot_sem_remove(&s, l->id);
                r = reboot_sem_add(&s, l->id, fresh);
                if (r >= 0)
                        r = write_sem(e, l, &s, rev);
                if (r > 0) {
                        log_info("reboot lock %s: lease %" PRId64 " had expired; the slot "
                                 "holds lease %" PRId64 " now",
                                 l->key, lease, fresh);
                        *ret_ttl = l->lease_ttl;
                        return 1;
                }
                revoke_quietly(e, fresh);
                if (r < 0)
                        return r;
                conflict_pause();
        }
        return error_setf(EAGAIN, "reboot lock %s: %u compare-and-swaps lost to other writers",
                          l->key, REBOOT_LOCK_CAS_TRIES);
}

int update_reboot_lock_renew_own(const UpdateOptions *o, unsigned *ret_ttl) {
        _cleanup_(reboot_lock_done) RebootLock l = {};
        int r = reboot_lock_load(o, &l);
        if (r < 0 || !l.enabled)
                return r;
        r = check_enabled(&l, true);
        return r < 0 ? r : renew(&l, ret_ttl);
}

int update_reboot_lock_take_own(const UpdateOptions *o) {
        _cleanup_(reboot_lock_done) RebootLock l = {};
        unsigned poll_s = o->poll_max ?: 60;
        int r = reboot_lock_load(o, &l);
        if (r < 0)
                return r;
        if (!l.enabled && !l.has_window)
                return 0;
        for (;;) {
                r = wait_window(o, &l, poll_s);
                if (r < 0)
                        return r;
                if (!l.enabled) {
                        char w[REBOOT_WINDOW_FORMAT_MAX];
                        if (!l.has_window) /* dropped while waiting: the next reboot */
                                return 0;
                        (void) reboot_lock_state_write(l.state_dir,
                                                       "rebooting in the reboot window %s",
                                                       reboot_window_format(&l.window, w));
                        return 2;
                }
                r = check_enabled(&l, true);
                if (r < 0)
                        return r;
                /* A slot only while the window is open: one taken outside
                 * it would keep the other nodes waiting. */
                time_t now = time(NULL);
                unsigned wait_s = l.has_window
                                          ? (unsigned) MAX(reboot_window_end(&l.window, now) - now,
                                                           (time_t) 1)
                                          : REBOOT_LOCK_FOREVER;
                r = reboot_lock_acquire(&l, wait_s, o->poll_max ?: 300);
                if (r >= 0)
                        return 1;
                if (!l.has_window || r == -ENOMEM)
                        return r;
                log_info("reboot window closed without a slot: %s", error_message(r));
                error_clear();
        }
}
