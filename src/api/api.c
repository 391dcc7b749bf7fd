/* SPDX-License-Identifier: MIT */
/* berthd's endpoints (api.h). Each returns 0 and a JSON object, or a negative
 * errno with the error object's message, which the client gets as
 * {"error": "..."} with a status from the errno. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "bootcmd.h"
#include "error.h"
#include "fileio.h"
#include "initctl.h"
#include "json-util.h"
#include "partition.h"
#include "settings-render.h"
#include "settings-store.h"
#include "spawn-util.h"
#include "strv.h"

static int json_strv(char **l, json_t **ret) {
        json_t *a = json_array();

        if (!a)
                return -ENOMEM;
        STRV_FOREACH(s, l)
                if (json_append(a, json_string(*s)) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
        *ret = a;
        return 0;
}

/* The value of KEY= in an os-release file, unquoted; NULL if none. */
static char *os_release_value(const char *text, const char *key) {
        size_t n = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                const char *v, *end;

                if (!strneq(l, key, n) || l[n] != '=')
                        continue;
                v = l + n + 1;
                end = strchrnul(v, '\n');
                if (end > v && (*v == '"' || *v == '\'') && end[-1] == *v && end - v >= 2)
                        return strndup(v + 1, end - v - 2);
                return strndup(v, end - v);
        }
        return NULL;
}

/* The value of WORD= on the kernel command line; NULL if none. */
static char *cmdline_value(const char *text, const char *word) {
        _cleanup_strv_free_ char **words = NULL;
        size_t n = strlen(word);

        if (strv_extend_words(&words, text, false) < 0)
                return NULL;
        STRV_FOREACH(w, words)
                if (strneq(*w, word, n) && (*w)[n] == '=')
                        return strdup(*w + n + 1);
        return NULL;
}

static int services_json(const char *dir, json_t **ret) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_strv_free_ char **names = NULL;
        json_t *a = json_array();
        struct dirent *de;

        if (!a)
                return -ENOMEM;
        while (d && (de = readdir(d)))
                if (service_name_is_valid(de->d_name) && strv_extend(&names, de->d_name) < 0)
                        goto oom;
        strv_sort(names);
        STRV_FOREACH(n, names) {
                ServiceStatus st;
                json_t *o;

                if (service_status_read(dir, *n, &st) < 0)
                        continue;
                o = json_pack("{s:s, s:s, s:i, s:i}", "name", st.name, "state", st.state, "pid",
                              st.pid, "restarts", (int) st.restarts);
                if (json_append(a, o) < 0)
                        goto oom;
        }
        *ret = a;
        return 0;
oom:
        json_decref(a);
        return -ENOMEM;
}

static int get_status(Api *api, json_t **ret) {
        _cleanup_free_ char *osr = NULL, *cmd = NULL, *version = NULL, *slot = NULL, *ud = NULL,
                            *lock = NULL;
        _cleanup_free_ char *sdir = path_join(api->run_dir, "services");
        unsigned gen = 0, applied = 0;
        json_t *services = NULL;
        int r;

        if (!sdir)
                return -ENOMEM;
        if (read_full_file(api->os_release, &osr, NULL, 65536) >= 0)
                version = os_release_value(osr, "IMAGE_VERSION")
                                  ?: os_release_value(osr, "VERSION_ID");
        if (read_full_file(api->cmdline, &cmd, NULL, 65536) >= 0)
                slot = cmdline_value(cmd, "berth.slot");
        /* A unified kernel image's command line names no slot: berth-init
         * wrote the one it found. */
        if (!slot) {
                _cleanup_free_ char *f = path_join(api->run_dir, "slot");
                if (!f)
                        return -ENOMEM;
                if (read_full_file(f, &slot, NULL, 16) < 0)
                        slot = NULL;
        }
        /* Where the first-boot user data came from ("none"); null before
         * the first berthd --boot. */
        if (api->user_data_done && read_full_file(api->user_data_done, &ud, NULL, 4096) >= 0)
                ud[strcspn(ud, "\n")] = 0;
        /* Why a node with a release installed has not rebooted into it yet
         * (docs/updates.md, "Fleet reboots"); null without coordination. */
        if (api->reboot_lock && read_full_file(api->reboot_lock, &lock, NULL, 4096) >= 0)
                lock[strcspn(lock, "\n")] = 0;
        r = settings_store_current(api->settings_dir, &gen, NULL);
        if (r >= 0)
                r = settings_store_applied(api->settings_dir, &applied);
        if (r >= 0)
                r = services_json(sdir, &services);
        if (r < 0)
                return r;
        *ret = json_pack("{s:o, s:o, s:o, s:{s:i, s:i}, s:o, s:o}", "version",
                         json_string_or_null(version), "slot", json_string_or_null(slot),
                         "services", services, "settings", "generation", (int) gen, "applied",
                         (int) applied, "user_data", json_string_or_null(ud), "reboot_lock",
                         json_string_or_null(lock));
        return *ret ? 0 : -ENOMEM;
}

static int get_settings(Api *api, json_t **ret) {
        json_t *cur = NULL, *pending = NULL;
        unsigned gen;
        int r;

        r = settings_store_current(api->settings_dir, &gen, &cur);
        if (r < 0)
                return r;
        r = settings_store_pending(api->settings_dir, &pending);
        if (r < 0 && r != -ENOENT) {
                json_decref(cur);
                return r;
        }
        *ret = json_pack("{s:i, s:o, s:o}", "generation", (int) gen, "settings", cur, "pending",
                         pending ?: json_null());
        return *ret ? 0 : -ENOMEM;
}

static int load_settings(const char *dir, unsigned gen, Settings **ret) {
        _cleanup_free_ char *p = NULL, *data = NULL;
        size_t size;
        int r;

        if (gen == 0) {
                *ret = calloc(1, sizeof(Settings));
                return *ret ? 0 : -ENOMEM;
        }
        p = strdup_printf("%s/%u.json", dir, gen);
        if (!p)
                return -ENOMEM;
        r = read_full_file(p, &data, &size, JSON_SIZE_MAX);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", p);
        r = settings_parse(data, size, ret);
        return r < 0 ? error_wrapf(r, "%s", p) : 0;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Restarts one service through PID 1 and waits until it is ready again. */
static int restart_service(Api *api, const char *name) {
        _cleanup_free_ char *sock = path_join(api->run_dir, "init.sock");
        _cleanup_free_ char *sdir = path_join(api->run_dir, "services");
        ServiceStatus before = {}, st;
        char reply[INITCTL_REPLY_MAX];
        uint64_t deadline;
        int r;

        if (!sock || !sdir)
                return -ENOMEM;
        (void) service_status_read(sdir, name, &before);
        error_clear();
        r = initctl_request(sock, INITCTL_RESTART, name, 5000, reply, sizeof reply);
        if (r == -EBADR)
                return error_setf(EIO, "cannot restart %s: %s", name, reply);
        if (r < 0)
                return error_wrapf(r, "cannot restart %s through %s", name, sock);
        deadline = now_ms() + (uint64_t) api->ready_timeout_s * 1000;
        for (;;) {
                r = service_status_read(sdir, name, &st);
                if (r >= 0 && st.restarts > before.restarts && streq(st.state, "ready"))
                        return 0;
                if (r >= 0 && st.restarts > before.restarts && streq(st.state, "failed"))
                        return error_setf(EIO, "%s failed after its restart", name);
                if (now_ms() > deadline)
                        return error_setf(ETIMEDOUT, "%s not ready %u s after its restart (%s)",
                                          name, api->ready_timeout_s,
                                          r >= 0 ? st.state : "no status");
                (void) nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
}

/* What takes effect without a restart: the host name (from the rendered
 * /etc/hostname, so unset gives the factory name back) and the sysctls set
 * (one the settings no longer set keeps its value until the next boot, which
 * the answer's reboot-required says). A sysctl the kernel refuses fails the
 * apply. */
static int apply_live(Api *api, const Settings *s) {
        _cleanup_free_ char *hn = path_join(api->etc, "hostname"), *name = NULL;
        int r;

        if (!hn)
                return -ENOMEM;
        if (api->set_hostname && read_full_file(hn, &name, NULL, 256) >= 0) {
                name[strcspn(name, " \t\r\n")] = 0;
                if (!isempty(name) && sethostname(name, strlen(name)) < 0)
                        return error_wrapf(-errno, "cannot set the host name %s", name);
        }
        for (char **kv = s->sysctl; api->proc_sys && kv && kv[0] && kv[1]; kv += 2) {
                _cleanup_free_ char *p = settings_sysctl_path(api->proc_sys, kv[0]);

                if (!p)
                        return -ENOMEM;
                r = write_string_file(p, kv[1]);
                if (r < 0)
                        return error_wrapf(r, "cannot set sysctl %s to %s", kv[0], kv[1]);
        }
        return 0;
}

static int render_and_restart(Api *api, const Settings *s, char ***ret_files,
                              char ***ret_services) {
        _cleanup_strv_free_ char **files = NULL, **services = NULL;
        int r;

        r = settings_render(s, api->factory, api->etc, &files, &services);
        if (r < 0)
                return r;
        r = apply_live(api, s);
        if (r < 0)
                return r;
        STRV_FOREACH(svc, services) {
                r = restart_service(api, *svc);
                if (r < 0)
                        return r;
        }
        if (ret_files)
                *ret_files = TAKE_PTR(files);
        if (ret_services)
                *ret_services = TAKE_PTR(services);
        return 0;
}

static bool strv_same(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

/* kernel.cmdline from `from` to `to` in the running slot's boot entry.
 * Returns 1 if an entry was written, 0 if nothing was to be done. */
static int update_boot_entry(Api *api, const Settings *from, const Settings *to) {
        _cleanup_free_ char *cmd = NULL, *slot = NULL;
        int r;

        if (!api->esp || strv_same(from->cmdline, to->cmdline))
                return 0;
        r = read_full_file(api->cmdline, &cmd, NULL, 65536);
        if (r < 0)
                return error_wrapf(r, "cannot read %s", api->cmdline);
        slot = cmdline_value(cmd, "berth.slot");
        if (!slot || slot_from_string(slot) < 0)
                return error_setf(EINVAL,
                                  "kernel.cmdline: %s names no berth.slot=, no boot entry "
                                  "to write",
                                  api->cmdline);
        r = bootcmd_update(api->esp, slot_from_string(slot), false, from->cmdline, to->cmdline);
        if (r < 0)
                return error_wrapf(r, "kernel.cmdline");
        /* An update installed but not booted yet (its entry made with the
         * words applied then) gets the change too; an older release kept for
         * a rollback keeps its entry as it is. */
        r = bootcmd_update(api->esp, slot_other(slot_from_string(slot)), true, from->cmdline,
                           to->cmdline);
        if (r == -ENOENT)
                error_clear();
        else if (r < 0)
                return error_wrapf(r, "kernel.cmdline");
        return 1;
}

/* The applied kernel.cmdline words, for the updater's next boot entry
 * (SETTINGS_CMDLINE_FILE, beside the generations). */
static int write_cmdline_words(Api *api, const Settings *s) {
        _cleanup_free_ char *p = path_join(api->settings_dir, SETTINGS_CMDLINE_NAME), *line = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        if (strv_isempty(s->cmdline))
                return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
        _cleanup_free_ char *words = strv_join(s->cmdline, " ");
        line = words ? strdup_printf("%s\n", words) : NULL;
        if (!line)
                return -ENOMEM;
        r = write_file_atomic(p, line, strlen(line), 0600);
        return r < 0 ? error_wrapf(r, "cannot write %s", p) : 0;
}

static int post_apply(Api *api, json_t **ret) {
        _cleanup_(settings_freep) Settings *s = NULL, *old = NULL;
        _cleanup_strv_free_ char **files = NULL, **services = NULL;
        json_t *jf = NULL, *js = NULL;
        unsigned gen, applied;
        bool entry;
        int r, q;

        r = settings_store_current(api->settings_dir, &gen, NULL);
        if (r >= 0)
                r = settings_store_applied(api->settings_dir, &applied);
        if (r >= 0)
                r = load_settings(api->settings_dir, gen, &s);
        if (r >= 0)
                r = load_settings(api->settings_dir, applied, &old);
        if (r < 0)
                return r;
        r = update_boot_entry(api, old, s);
        if (r < 0)
                return r;
        entry = r > 0;
        r = render_and_restart(api, s, &files, &services);
        if (r < 0) {
                /* Back to the generation that worked: its files, its services.
                 * The failure is EPROTO (a part of the node failed: exit 69). */
                _cleanup_free_ char *msg = strdup(error_message(r)), *msg2 = NULL;

                q = settings_store_set_current(api->settings_dir, applied);
                if (q >= 0 && entry)
                        q = update_boot_entry(api, s, old);
                if (q >= 0)
                        q = render_and_restart(api, old, NULL, NULL);
                if (q < 0) {
                        msg2 = strdup(error_message(q));
                        return error_setf(EPROTO,
                                          "apply of settings generation %u failed: %s; "
                                          "restoring generation %u failed too: %s",
                                          gen, strna(msg), applied, strna(msg2));
                }
                return error_setf(EPROTO,
                                  "apply of settings generation %u failed: %s; generation %u "
                                  "restored",
                                  gen, strna(msg), applied);
        }
        if (gen > 0) {
                r = settings_store_set_applied(api->settings_dir, gen);
                if (r < 0)
                        return r;
        }
        r = write_cmdline_words(api, s);
        if (r < 0)
                return r;
        r = json_strv(files, &jf);
        if (r >= 0)
                r = json_strv(services, &js);
        if (r < 0) {
                json_decref(jf);
                return r;
        }
        *ret = json_pack("{s:i, s:o, s:o, s:b, s:b}", "generation", (int) gen, "changed", jf,
                         "restarted", js, "reboot-required", settings_need_reboot(old, s),
                         "boot-entry-written", entry);
        return *ret ? 0 : -ENOMEM;
}

static int post_signal(Api *api, int sig, const char *what, json_t **ret) {
        /* Checked now, sent once the answer is out (api_completed). */
        if (kill(api->init_pid, 0) < 0)
                return error_wrapf(-errno, "cannot ask PID %d to %s", (int) api->init_pid, what);
        *ret = json_pack("{s:s}", "status", what);
        if (!*ret)
                return -ENOMEM;
        api->pending_signal = sig;
        return 0;
}

void api_completed(void *userdata) {
        Api *api = userdata;
        int sig = api->pending_signal;

        api->pending_signal = 0;
        if (sig > 0 && kill(api->init_pid, sig) < 0)
                fprintf(stderr, "berthd: cannot signal PID %d: %m\n", (int) api->init_pid);
}

/* GET /v1/audit: `berth audit --json` (src/audit, in the CLI that ships in
 * the image) run on this node, its JSON passed on. A failing check is an
 * answer, not an error: the CLI then exits 1. */
static int get_audit(json_t **ret) {
        char *const argv[] = { (char *) "berth", (char *) "audit", (char *) "--json", NULL };
        _cleanup_close_ int fd = memfd_create("berth-audit", MFD_CLOEXEC);
        _cleanup_free_ char *path = NULL, *out = NULL;
        json_error_t e;
        int status = 0, r;
        pid_t pid;

        if (fd < 0)
                return -errno;
        r = spawn_start(argv, &(SpawnOptions){ .out_fd = fd }, &pid);
        if (r < 0)
                return error_wrapf(r, "cannot run berth audit");
        (void) spawn_wait(pid, &status);
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                return error_setf(EPROTO, "berth audit failed (wait status %d)", status);
        path = strdup_printf("/proc/self/fd/%d", fd);
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, &out, NULL, 1024 * 1024);
        if (r < 0)
                return error_wrapf(r, "cannot read what berth audit wrote");
        *ret = json_loads(out, 0, &e);
        if (!*ret)
                return error_setf(EPROTO, "berth audit wrote no JSON: %s", e.text);
        return 0;
}

static unsigned status_for(int r) {
        switch (-r) {
        case EINVAL:
        case EBADMSG:
                return 400;
        case ENOENT:
                return 404;
        case ETIMEDOUT:
        case EBUSY:
                return 503;
        default:
                return 500;
        }
}

static int route(Api *api, const char *method, const char *url, const char *body, size_t size,
                 json_t **ret) {
        bool get = streq(method, "GET"), post = streq(method, "POST");
        unsigned gen;
        int r;

        if (streq(url, "/v1/status") && get)
                return get_status(api, ret);
        if (streq(url, "/v1/settings") && get)
                return get_settings(api, ret);
        if (streq(url, "/v1/settings") && streq(method, "PATCH")) {
                r = settings_store_patch(api->settings_dir, body, size, api->proc_sys);
                return r < 0 ? r : get_settings(api, ret);
        }
        if (streq(url, "/v1/settings/commit") && post) {
                r = settings_store_commit(api->settings_dir, &gen);
                *ret = r < 0 ? NULL : json_pack("{s:i}", "generation", (int) gen);
                return r < 0 ? r : *ret ? 0 : -ENOMEM;
        }
        if (streq(url, "/v1/settings/discard") && post) {
                r = settings_store_discard(api->settings_dir);
                return r < 0 ? r : get_settings(api, ret);
        }
        if (streq(url, "/v1/settings/revert") && post) {
                r = settings_store_revert(api->settings_dir, &gen);
                *ret = r < 0 ? NULL : json_pack("{s:i}", "generation", (int) gen);
                return r < 0 ? r : *ret ? 0 : -ENOMEM;
        }
        if (streq(url, "/v1/settings/apply") && post)
                return post_apply(api, ret);
        if (streq(url, "/v1/audit") && get)
                return get_audit(ret);
        if (streq(url, "/v1/reboot") && post)
                return post_signal(api, SIGTERM, "reboot", ret);
        if (streq(url, "/v1/poweroff") && post)
                return post_signal(api, SIGUSR2, "poweroff", ret);
        return -EOPNOTSUPP;
}

void api_handle(void *userdata, const char *method, const char *url, const char *body, size_t size,
                unsigned *ret_status, char **ret_body) {
        json_t *j = NULL;
        int r;

        error_clear();
        r = route(userdata, method, url, body, size, &j);
        if (r == -EOPNOTSUPP && !error_code()) {
                *ret_status = 404;
                j = json_pack("{s:s}", "error", "no such endpoint or method");
        } else if (r < 0) {
                *ret_status = status_for(r);
                j = json_pack("{s:s}", "error", error_message(r));
        } else
                *ret_status = 200;
        *ret_body = j ? json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
        json_decref(j);
}
