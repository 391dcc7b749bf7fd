/* SPDX-License-Identifier: MIT */
/* /etc files from the settings (settings-render.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "settings-render.h"
#include "strv.h"

/* The list of mirror files the last render wrote, so a later one removes
 * those no longer set. */
#define MIRRORS_LIST "berth/settings-mirrors"

typedef struct Output {
        char *file;    /* relative to etc */
        char *content; /* NULL: the factory file, or none */
} Output;

static int append(char **buf, const char *fmt, ...) _printf_(2, 3);
static int append(char **buf, const char *fmt, ...) {
        _cleanup_free_ char *add = NULL;
        va_list ap;
        char *n;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&add, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        n = strdup_printf("%s%s", strempty(*buf), add);
        if (!n)
                return -ENOMEM;
        free(*buf);
        *buf = n;
        return 0;
}

static int read_factory(const char *factory, const char *file, char **ret) {
        _cleanup_free_ char *p = path_join(factory, file);
        int r;

        if (!p)
                return -ENOMEM;
        r = read_full_file(p, ret, NULL, 1u << 20);
        if (r == -ENOENT) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return r < 0 ? error_wrapf(r, "cannot read %s", p) : 0;
}

static int render_hostname(const Settings *s, const char *factory, char **ret) {
        if (!s->hostname)
                return 0;
        *ret = strdup_printf("%s\n", s->hostname);
        return *ret ? 0 : -ENOMEM;
}

static int render_dhcpcd(const Settings *s, const char *factory, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (!s->net_mode && strv_isempty(s->net_dns))
                return 0;
        r = read_factory(factory, "dhcpcd.conf", &buf);
        if (r >= 0)
                r = append(&buf, "\n# berth settings (network.*)\n");
        if (r >= 0 && s->net_interface)
                r = append(&buf, "interface %s\n", s->net_interface);
        if (r >= 0 && s->net_address)
                r = append(&buf, "static ip_address=%s\n", s->net_address);
        if (r >= 0 && s->net_gateway)
                r = append(&buf, "static routers=%s\n", s->net_gateway);
        if (r >= 0 && !strv_isempty(s->net_dns)) {
                _cleanup_free_ char *dns = strv_join(s->net_dns, " ");
                r = dns ? append(&buf, "static domain_name_servers=%s\n", dns) : -ENOMEM;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int render_chrony(const Settings *s, const char *factory, char **ret) {
        _cleanup_free_ char *base = NULL, *buf = NULL;
        int r;

        if (strv_isempty(s->time_servers))
                return 0;
        r = read_factory(factory, "chrony/chrony.conf", &base);
        if (r < 0)
                return r;
        /* The factory pool and server lines give way to time.servers. */
        for (char *line = base, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strneq(line, "pool ", 5) || strneq(line, "server ", 7))
                        continue;
                r = append(&buf, "%s\n", line);
                if (r < 0)
                        return r;
        }
        r = append(&buf, "# berth settings (time.servers)\n");
        STRV_FOREACH(t, s->time_servers)
                if (r >= 0)
                        r = append(&buf, "server %s iburst\n", *t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int render_sysctl(const Settings *s, const char *factory, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (strv_isempty(s->sysctl))
                return 0;
        r = append(&buf, "# berth settings (kernel.sysctl)\n");
        for (char **p = s->sysctl; r >= 0 && p[0] && p[1]; p += 2)
                r = append(&buf, "%s = %s\n", p[0], p[1]);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int render_modules(const Settings *s, const char *factory, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (strv_isempty(s->modules))
                return 0;
        r = append(&buf, "# berth settings (kernel.modules)\n");
        STRV_FOREACH(m, s->modules)
                if (r >= 0)
                        r = append(&buf, "%s\n", *m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Read by the update agent over the image's /usr/share/berth/update/update.conf
 * (docs/updates.md): the same KEY=VALUE lines. */
static int render_update(const Settings *s, const char *factory, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (!s->update_channel && strv_isempty(s->health_command) && !s->reboot_coordination &&
            strv_isempty(s->etcd_endpoints) && !s->reboot_group && !s->max_unavailable &&
            !s->reboot_window && !s->reboot_lease_ttl)
                return 0;
        r = append(&buf, "# berth settings (update.*)\n");
        if (r >= 0 && s->update_channel)
                r = append(&buf, "Channel=%s\n", s->update_channel);
        if (r >= 0 && !strv_isempty(s->health_command)) {
                r = append(&buf, "HealthCommand=");
                STRV_FOREACH(w, s->health_command)
                        if (r >= 0)
                                r = append(&buf, w == s->health_command ? "%s" : " %s", *w);
                if (r >= 0)
                        r = append(&buf, "\n");
        }
        if (r >= 0 && s->reboot_coordination)
                r = append(&buf, "RebootCoordination=%s\n", s->reboot_coordination);
        if (r >= 0 && !strv_isempty(s->etcd_endpoints)) {
                _cleanup_free_ char *l = strv_join(s->etcd_endpoints, ",");
                r = l ? append(&buf, "EtcdEndpoints=%s\n", l) : -ENOMEM;
        }
        if (r >= 0 && s->reboot_group)
                r = append(&buf, "RebootGroup=%s\n", s->reboot_group);
        if (r >= 0 && s->max_unavailable)
                r = append(&buf, "MaxUnavailable=%s\n", s->max_unavailable);
        if (r >= 0 && s->reboot_window)
                r = append(&buf, "RebootWindow=%s\n", s->reboot_window);
        if (r >= 0 && s->reboot_lease_ttl)
                r = append(&buf, "RebootLeaseTTL=%s\n", s->reboot_lease_ttl);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

static const struct {
        const char *file;
        int (*render)(const Settings *s, const char *factory, char **ret);
} renderers[] = {
        { "hostname", render_hostname },
        { "dhcpcd.conf", render_dhcpcd },
        { "chrony/chrony.conf", render_chrony },
        { "sysctl.d/60-berth-settings.conf", render_sysctl },
        { "modules-load.d/berth-settings.conf", render_modules },
        { "berth/update.conf", render_update },
};

const char *settings_file_service(const char *file) {
        for (size_t i = 0; i < settings_table_size; i++) {
                const char *f = settings_table[i].file, *reg;

                if (!f)
                        continue;
                reg = strstr(f, "REGISTRY");
                if (reg ? strneq(f, file, reg - f) : streq(f, file))
                        return settings_table[i].service;
        }
        return NULL;
}

/* The upstream a registry name stands for, as containerd resolves it. */
static const char *registry_server(const char *reg, char *buf, size_t n) {
        if (streq(reg, "docker.io"))
                return "https://registry-1.docker.io";
        (void) snprintf(buf, n, "https://%s", reg);
        return buf;
}

static int render_mirrors(const Settings *s, char ***files, char ***contents) {
        for (char **p = s->mirrors; p && p[0] && p[1]; p += 2) {
                _cleanup_free_ char *file = strdup_printf("containerd/certs.d/%s/hosts.toml", p[0]);
                _cleanup_free_ char *buf = NULL;
                char server[300];
                int r;

                if (!file)
                        return -ENOMEM;
                if (strv_contains(*files, file))
                        continue;
                r = append(&buf,
                           "# berth settings (containerd.registry-mirrors)\nserver = \"%s\"\n",
                           registry_server(p[0], server, sizeof server));
                for (char **q = p; r >= 0 && q[0] && q[1]; q += 2)
                        if (streq(q[0], p[0]))
                                r = append(&buf,
                                           "\n[host.\"%s\"]\n  capabilities = [\"pull\", "
                                           "\"resolve\"]\n",
                                           q[1]);
                if (r >= 0)
                        r = strv_extend(files, file);
                if (r >= 0)
                        r = strv_push(contents, TAKE_PTR(buf));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Writes content (NULL: the factory file, or nothing) to etc/file if it
 * differs; returns 1 if the file changed. */
static int update_file(const char *factory, const char *etc, const char *file,
                       const char *content) {
        _cleanup_free_ char *path = path_join(etc, file), *fpath = path_join(factory, file);
        _cleanup_free_ char *old = NULL, *fact = NULL;
        size_t old_size = 0;
        int r;

        if (!path || !fpath)
                return -ENOMEM;
        if (!content) {
                r = read_full_file(fpath, &fact, NULL, 1u << 20);
                if (r < 0 && r != -ENOENT)
                        return error_wrapf(r, "cannot read %s", fpath);
                content = fact;
        }
        r = read_full_file(path, &old, &old_size, 1u << 20);
        if (r < 0 && r != -ENOENT)
                return error_wrapf(r, "cannot read %s", path);
        if (!content && !old)
                return 0;
        if (content && old && streq(content, old) && strlen(content) == old_size)
                return 0;
        if (!content) {
                if (unlink(path) < 0)
                        return error_wrapf(-errno, "cannot remove %s", path);
                return 1;
        }
        r = mkdir_parents(path, 0755);
        if (r >= 0)
                r = write_file_atomic(path, content, strlen(content), 0644);
        return r < 0 ? error_wrapf(r, "cannot write %s", path) : 1;
}

int settings_render(const Settings *s, const char *factory, const char *etc, char ***ret_files,
                    char ***ret_services) {
        _cleanup_strv_free_ char **files = NULL, **contents = NULL, **changed = NULL,
                                 **services = NULL, **old_mirrors = NULL;
        _cleanup_free_ char *list_path = path_join(etc, MIRRORS_LIST), *list = NULL, *text = NULL;
        size_t n_fixed;
        int r;

        if (!list_path)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(renderers); i++) {
                char *c = NULL;

                r = renderers[i].render(s, factory, &c);
                if (r < 0)
                        return r;
                r = strv_extend(&files, renderers[i].file);
                /* strv cannot hold NULL: an empty marker means "factory". */
                if (r >= 0)
                        r = strv_push(&contents, c ?: strdup("\x01"));
                if (r < 0)
                        return r;
        }
        n_fixed = strv_length(files);
        r = render_mirrors(s, &files, &contents);
        if (r < 0)
                return r;

        /* Mirror files of the last render that are no longer set. */
        r = read_full_file(list_path, &list, NULL, 1u << 20);
        if (r < 0 && r != -ENOENT)
                return error_wrapf(r, "cannot read %s", list_path);
        if (list) {
                r = strv_extend_words(&old_mirrors, list, false);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(f, old_mirrors) {
                if (!path_is_safe_relative(*f) || !strneq(*f, "containerd/certs.d/", 19) ||
                    strv_contains(files, *f))
                        continue;
                r = strv_extend(&files, *f);
                if (r >= 0)
                        r = strv_extend(&contents, "\x01");
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; files[i]; i++) {
                const char *c = streq(contents[i], "\x01") ? NULL : contents[i];
                const char *svc;

                r = update_file(factory, etc, files[i], c);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = strv_extend(&changed, files[i]);
                if (r < 0)
                        return r;
                svc = settings_file_service(files[i]);
                if (svc && !strv_contains(services, svc)) {
                        r = strv_extend(&services, svc);
                        if (r < 0)
                                return r;
                }
        }

        /* The new list of mirror files, written last: a crash before it
         * leaves the old list, whose extra entries the next render removes. */
        text = strv_join(files + n_fixed, "\n");
        if (!text)
                return -ENOMEM;
        r = update_file(factory, etc, MIRRORS_LIST, files[n_fixed] ? text : NULL);
        if (r < 0)
                return r;

        strv_sort(services);
        if (ret_files)
                *ret_files = TAKE_PTR(changed);
        if (ret_services)
                *ret_services = TAKE_PTR(services);
        return 0;
}

bool settings_need_reboot(const Settings *a, const Settings *b) {
        static const Settings empty = {};
        json_t *ja = NULL, *jb = NULL;
        bool differ = true;

        a = a ?: &empty;
        b = b ?: &empty;
        if (settings_to_json(a, &ja) >= 0 && settings_to_json(b, &jb) >= 0) {
                differ = false;
                for (size_t i = 0; i < settings_table_size && !differ; i++) {
                        const SettingInfo *info = &settings_table[i];
                        const char *dot = strchr(info->path, '.');
                        _cleanup_free_ char *section = strndup(info->path, dot - info->path);
                        json_t *va, *vb;

                        if (!info->reboot)
                                continue;
                        if (!section) {
                                differ = true;
                                break;
                        }
                        va = json_object_get(json_object_get(ja, section), dot + 1);
                        vb = json_object_get(json_object_get(jb, section), dot + 1);
                        differ = !json_equal(va, vb) && (va || vb);
                }
        }
        json_decref(ja);
        json_decref(jb);
        return differ;
}
