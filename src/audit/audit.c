/* SPDX-License-Identifier: MIT */
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "fileio.h"
#include "macro.h"

#define FORWARDING_EXCEPTION                                                                       \
        "exception: a container host routes between its containers' bridge and the network"
#define ACCEPT_RA_EXCEPTION                                                                        \
        "exception: with forwarding on, accept_ra=2 keeps SLAAC addresses and routes on the NIC"

/* CIS Distribution Independent Linux Benchmark v2.0.0 numbering; berth-* for
 * berth's own (docs/security.md says what each covers). */
static const AuditCheck checks[] = {
        /* 1.1.1 file systems that are never mounted on a container host */
        { "1.1.1.1", 1, "cramfs cannot be loaded", AUDIT_MODULE_OFF, "cramfs" },
        { "1.1.1.2", 1, "freevxfs cannot be loaded", AUDIT_MODULE_OFF, "freevxfs" },
        { "1.1.1.3", 1, "jffs2 cannot be loaded", AUDIT_MODULE_OFF, "jffs2" },
        { "1.1.1.4", 1, "hfs cannot be loaded", AUDIT_MODULE_OFF, "hfs" },
        { "1.1.1.5", 1, "hfsplus cannot be loaded", AUDIT_MODULE_OFF, "hfsplus" },
        { "1.1.1.6", 2, "squashfs cannot be loaded", AUDIT_MODULE_OFF, "squashfs" },
        { "1.1.1.7", 1, "udf cannot be loaded", AUDIT_MODULE_OFF, "udf" },
        /* 1.1.2-1.1.17 scratch space */
        { "1.1.2", 1, "/tmp is a separate mount", AUDIT_MOUNT_POINT, "/tmp" },
        { "1.1.3", 1, "/tmp is mounted nodev", AUDIT_MOUNT_OPTIONS, "/tmp", "nodev" },
        { "1.1.4", 1, "/tmp is mounted nosuid", AUDIT_MOUNT_OPTIONS, "/tmp", "nosuid" },
        { "1.1.5", 1, "/tmp is mounted noexec", AUDIT_MOUNT_OPTIONS, "/tmp", "noexec" },
        { "1.1.15", 1, "/dev/shm is mounted nodev", AUDIT_MOUNT_OPTIONS, "/dev/shm", "nodev" },
        { "1.1.16", 1, "/dev/shm is mounted nosuid", AUDIT_MOUNT_OPTIONS, "/dev/shm", "nosuid" },
        { "1.1.17", 1, "/dev/shm is mounted noexec", AUDIT_MOUNT_OPTIONS, "/dev/shm", "noexec" },
        { "berth-var", 0, "/var (the root file system) is mounted nosuid,nodev",
          AUDIT_MOUNT_OPTIONS, "/var", "nosuid,nodev" },
        { "1.1.24", 1, "usb-storage cannot be loaded", AUDIT_MODULE_OFF, "usb_storage" },
        /* 1.3 integrity: berth's is dm-verity under Secure Boot */
        { "berth-verity", 0, "/usr is read-only on dm-verity", AUDIT_VERITY, "/usr" },
        { "berth-secure-boot", 0, "the firmware booted with Secure Boot on", AUDIT_SECURE_BOOT },
        { "berth-lockdown", 0, "the kernel is locked down (integrity or more)", AUDIT_LOCKDOWN,
          NULL, "integrity" },
        { "berth-module-sig", 0, "the kernel loads only signed modules", AUDIT_FILE_FIRST,
          "/sys/module/module/parameters/sig_enforce", "Y" },
        { "berth-cmdline", 0, "kernel hardening words are on the command line", AUDIT_CMDLINE, NULL,
          "init_on_free=1 slab_nomerge randomize_kstack_offset=on page_alloc.shuffle=1 "
          "vsyscall=none debugfs=off" },
        /* 1.5 process hardening */
        { "1.5.1", 1, "set-user-ID programs dump no core", AUDIT_SYSCTL, "fs.suid_dumpable", "0" },
        { "1.5.3", 1, "address space layout randomisation is full", AUDIT_SYSCTL,
          "kernel.randomize_va_space", "2" },
        { "berth-kptr", 0, "kernel pointers are hidden", AUDIT_SYSCTL, "kernel.kptr_restrict",
          "2" },
        { "berth-dmesg", 0, "the kernel log is root's", AUDIT_SYSCTL, "kernel.dmesg_restrict",
          "1" },
        { "berth-bpf", 0, "unprivileged eBPF is off", AUDIT_SYSCTL,
          "kernel.unprivileged_bpf_disabled", "1" },
        { "berth-ptrace", 0, "ptrace only of descendants (Yama)", AUDIT_SYSCTL,
          "kernel.yama.ptrace_scope", ">=1" },
        /* 1.6 mandatory access control */
        { "1.6.2.1", 1, "AppArmor is enabled on the kernel command line", AUDIT_CMDLINE, NULL,
          "apparmor=1 security=apparmor" },
        { "berth-apparmor", 0, "AppArmor is on and its policy interface mounted", AUDIT_FILE_FIRST,
          "/sys/kernel/security/apparmor/profiles", NULL },
        /* 2.2.1 time */
        { "2.2.1.1", 1, "time is synchronised (chrony is ready)", AUDIT_SERVICE_READY, "chrony" },
        /* 3.1-3.2 network parameters */
        { "3.1.1", 1, "IPv4 forwarding is off", AUDIT_SYSCTL, "net.ipv4.ip_forward", "0",
          FORWARDING_EXCEPTION },
        { "3.1.1", 1, "IPv6 forwarding is off", AUDIT_SYSCTL, "net.ipv6.conf.all.forwarding", "0",
          FORWARDING_EXCEPTION },
        { "3.1.2", 1, "no ICMP redirects sent (all)", AUDIT_SYSCTL,
          "net.ipv4.conf.all.send_redirects", "0" },
        { "3.1.2", 1, "no ICMP redirects sent (default)", AUDIT_SYSCTL,
          "net.ipv4.conf.default.send_redirects", "0" },
        { "3.2.1", 1, "source-routed packets refused (all)", AUDIT_SYSCTL,
          "net.ipv4.conf.all.accept_source_route", "0" },
        { "3.2.1", 1, "source-routed packets refused (default)", AUDIT_SYSCTL,
          "net.ipv4.conf.default.accept_source_route", "0" },
        { "3.2.1", 1, "IPv6 source-routed packets refused (all)", AUDIT_SYSCTL,
          "net.ipv6.conf.all.accept_source_route", "0" },
        { "3.2.2", 1, "ICMP redirects refused (all)", AUDIT_SYSCTL,
          "net.ipv4.conf.all.accept_redirects", "0" },
        { "3.2.2", 1, "ICMP redirects refused (default)", AUDIT_SYSCTL,
          "net.ipv4.conf.default.accept_redirects", "0" },
        { "3.2.2", 1, "IPv6 redirects refused (all)", AUDIT_SYSCTL,
          "net.ipv6.conf.all.accept_redirects", "0" },
        { "3.2.3", 1, "secure ICMP redirects refused (all)", AUDIT_SYSCTL,
          "net.ipv4.conf.all.secure_redirects", "0" },
        { "3.2.3", 1, "secure ICMP redirects refused (default)", AUDIT_SYSCTL,
          "net.ipv4.conf.default.secure_redirects", "0" },
        { "3.2.4", 1, "suspicious packets logged (all)", AUDIT_SYSCTL,
          "net.ipv4.conf.all.log_martians", "1" },
        { "3.2.5", 1, "broadcast ICMP echo ignored", AUDIT_SYSCTL,
          "net.ipv4.icmp_echo_ignore_broadcasts", "1" },
        { "3.2.6", 1, "bogus ICMP responses ignored", AUDIT_SYSCTL,
          "net.ipv4.icmp_ignore_bogus_error_responses", "1" },
        { "3.2.7", 1, "reverse path filtering (all)", AUDIT_SYSCTL, "net.ipv4.conf.all.rp_filter",
          "1" },
        { "3.2.7", 1, "reverse path filtering (default)", AUDIT_SYSCTL,
          "net.ipv4.conf.default.rp_filter", "1" },
        { "3.2.8", 1, "TCP SYN cookies on", AUDIT_SYSCTL, "net.ipv4.tcp_syncookies", "1" },
        { "3.2.9", 1, "IPv6 router advertisements refused", AUDIT_SYSCTL,
          "net.ipv6.conf.all.accept_ra", "0", ACCEPT_RA_EXCEPTION },
        /* 3.4 uncommon network protocols */
        { "3.4.1", 1, "DCCP cannot be loaded", AUDIT_MODULE_OFF, "dccp" },
        { "3.4.2", 1, "SCTP cannot be loaded", AUDIT_MODULE_OFF, "sctp" },
        { "3.4.3", 1, "RDS cannot be loaded", AUDIT_MODULE_OFF, "rds" },
        { "3.4.4", 1, "TIPC cannot be loaded", AUDIT_MODULE_OFF, "tipc" },
};

const AuditCheck *audit_checks(size_t *ret_n) {
        *ret_n = ELEMENTSOF(checks);
        return checks;
}

const char *audit_result_to_string(AuditResult r) {
        static const char *const table[_AUDIT_RESULT_MAX] = {
                [AUDIT_PASS] = "PASS",
                [AUDIT_FAIL] = "FAIL",
                [AUDIT_SKIP] = "SKIP",
        };
        return r >= 0 && r < _AUDIT_RESULT_MAX ? table[r] : NULL;
}

typedef struct Ctx {
        const char *root;
        char *cmdline;   /* /proc/cmdline, or NULL */
        char *mountinfo; /* /proc/self/mountinfo, or NULL */
        char *modules;   /* /proc/modules, or NULL */
} Ctx;

static __attribute__((format(printf, 3, 4))) AuditResult set(AuditOutcome *o, AuditResult r,
                                                             const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->reason, sizeof o->reason, fmt, ap);
        va_end(ap);
        return o->result = r;
}

/* The file under the root, whole; NULL if it cannot be read. */
static char *read_under(const Ctx *c, const char *path) {
        _cleanup_free_ char *p = path_join(c->root, path);
        char *data = NULL;
        if (!p || read_full_file(p, &data, NULL, 4 * 1024 * 1024) < 0)
                return NULL;
        return data;
}

/* The first word of a file under the root into buf; false if unreadable. */
static bool first_word(const Ctx *c, const char *path, char *buf, size_t size) {
        _cleanup_free_ char *data = read_under(c, path);
        if (!data)
                return false;
        const char *w = data + strspn(data, " \t\n");
        snprintf(buf, size, "%.*s", (int) strcspn(w, " \t\n"), w);
        return true;
}

static void check_sysctl(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char path[256], value[64];
        size_t n = (size_t) snprintf(path, sizeof path, "/proc/sys/%s", k->arg);
        for (size_t i = strlen("/proc/sys/"); i < n; i++)
                if (path[i] == '.')
                        path[i] = '/';
        if (!first_word(c, path, value, sizeof value)) {
                set(o, AUDIT_SKIP, "%s does not exist in this kernel", k->arg);
                return;
        }
        /* ">=N": N or stricter. */
        bool at_least = strneq(k->want, ">=", 2);
        if (at_least ? strtol(value, NULL, 10) >= strtol(k->want + 2, NULL, 10)
                     : streq(value, k->want))
                set(o, AUDIT_PASS, "%s = %s", k->arg, value);
        else if (k->exception)
                set(o, AUDIT_SKIP, "%s (%s = %s)", k->exception, k->arg, value);
        else
                set(o, AUDIT_FAIL, "%s = %s, want %s", k->arg, value, k->want);
}

/* The mountinfo line of the mount that holds path (the longest mount point
 * that is path or a parent of it; the last such line, as mounts stack). Its
 * mount point, per-mount options and source go into the out buffers. */
static bool find_mount(const Ctx *c, const char *path, char mp[static 256], char opts[static 256],
                       char dev[static 32]) {
        size_t best = 0;
        bool found = false;
        if (!c->mountinfo)
                return false;
        for (const char *l = c->mountinfo; l && *l;) {
                const char *nl = strchr(l, '\n');
                char line[1024], m[256], o[256], d[32];
                snprintf(line, sizeof line, "%.*s", (int) (nl ? (size_t) (nl - l) : strlen(l)), l);
                l = nl ? nl + 1 : NULL;
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
                if (sscanf(line, "%*s %*s %31s %*s %255s %255s", d, m, o) != 3)
                        continue;
                size_t ml = strlen(m);
                bool holds = streq(m, "/") ||
                             (strneq(path, m, ml) && (path[ml] == 0 || path[ml] == '/'));
                if (!holds || (found && ml < best))
                        continue;
                best = streq(m, "/") ? 1 : ml;
                found = true;
                snprintf(mp, 256, "%s", m);
                snprintf(opts, 256, "%s", o);
                snprintf(dev, 32, "%s", d);
        }
        return found;
}

static bool has_option(const char *opts, const char *opt, size_t len) {
        for (const char *p = opts; p && *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && strneq(p, opt, len))
                        return true;
                p = p[n] ? p + n + 1 : NULL;
        }
        return false;
}

static void check_mount(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char mp[256], opts[256], dev[32], missing[128] = "";
        if (!find_mount(c, k->arg, mp, opts, dev)) {
                set(o, AUDIT_FAIL, "no mount holds %s", k->arg);
                return;
        }
        if (k->kind == AUDIT_MOUNT_POINT) {
                if (streq(mp, k->arg))
                        set(o, AUDIT_PASS, "%s is a mount point", k->arg);
                else
                        set(o, AUDIT_FAIL, "%s is on the mount at %s", k->arg, mp);
                return;
        }
        for (const char *w = k->want; *w;) {
                size_t n = strcspn(w, ",");
                if (!has_option(opts, w, n))
                        snprintf(missing + strlen(missing), sizeof missing - strlen(missing),
                                 "%s%.*s", missing[0] ? "," : "", (int) n, w);
                w += n + (w[n] == ',');
        }
        if (missing[0])
                set(o, AUDIT_FAIL, "%s (mount %s) lacks %s: %s", k->arg, mp, missing, opts);
        else
                set(o, AUDIT_PASS, "%s (mount %s): %s", k->arg, mp, opts);
}

/* Module names compare with '-' and '_' alike, as the kernel's. */
static bool module_name_eq(const char *a, size_t alen, const char *b) {
        size_t i = 0;
        for (; i < alen && b[i]; i++)
                if (a[i] != b[i] && !(strchr("-_", a[i]) && strchr("-_", b[i])))
                        return false;
        return i == alen && !b[i];
}

/* Whether a modules.dep or modules.builtin text lists NAME.ko (any
 * compression) as a path's last component at the start of a line. */
static bool module_listed(const char *text, const char *name) {
        for (const char *l = text; l && *l;) {
                const char *end = l + strcspn(l, ":\n");
                const char *slash = l;
                for (const char *p = l; p < end; p++)
                        if (*p == '/')
                                slash = p + 1;
                const char *ko = strstr(slash, ".ko");
                if (ko && ko < end && module_name_eq(slash, (size_t) (ko - slash), name))
                        return true;
                l = strchr(l, '\n');
                l = l ? l + 1 : NULL;
        }
        return false;
}

static void check_module(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char release[128], dir[256];
        if (c->modules)
                for (const char *l = c->modules; l && *l;) {
                        if (module_name_eq(l, strcspn(l, " \n"), k->arg)) {
                                set(o, AUDIT_FAIL, "%s is loaded", k->arg);
                                return;
                        }
                        l = strchr(l, '\n');
                        l = l ? l + 1 : NULL;
                }
        if (c->cmdline && cmdline_module_blacklisted(c->cmdline, k->arg)) {
                set(o, AUDIT_PASS, "not loaded; the kernel refuses it (module_blacklist)");
                return;
        }
        if (!first_word(c, "/proc/sys/kernel/osrelease", release, sizeof release)) {
                set(o, AUDIT_SKIP, "cannot read the kernel release");
                return;
        }
        snprintf(dir, sizeof dir, "/usr/lib/modules/%s/modules.builtin", release);
        _cleanup_free_ char *builtin = read_under(c, dir);
        if (builtin && module_listed(builtin, k->arg)) {
                set(o, AUDIT_FAIL, "%s is built into the kernel", k->arg);
                return;
        }
        snprintf(dir, sizeof dir, "/usr/lib/modules/%s/modules.dep", release);
        _cleanup_free_ char *dep = read_under(c, dir);
        if (!dep)
                set(o, AUDIT_SKIP, "cannot read %s", dir);
        else if (module_listed(dep, k->arg))
                set(o, AUDIT_FAIL, "%s is shipped and not on module_blacklist", k->arg);
        else
                set(o, AUDIT_PASS, "not loaded; not shipped in this image");
}

static void check_cmdline(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char missing[192] = "";
        if (!c->cmdline) {
                set(o, AUDIT_SKIP, "cannot read /proc/cmdline");
                return;
        }
        for (const char *w = k->want; *w;) {
                char word[64], key[64], value[64];
                size_t n = strcspn(w, " ");
                snprintf(word, sizeof word, "%.*s", (int) n, w);
                w += n + (w[n] == ' ');
                char *eq = strchr(word, '=');
                snprintf(key, sizeof key, "%.*s", (int) (eq ? (size_t) (eq - word) : strlen(word)),
                         word);
                int found = cmdline_get(c->cmdline, key, value, sizeof value);
                if (found > 0 && (!eq || streq(value, eq + 1)))
                        continue;
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                         missing[0] ? " " : "", word);
        }
        if (missing[0])
                set(o, AUDIT_FAIL, "missing: %s", missing);
        else
                set(o, AUDIT_PASS, "%s", k->want);
}

static void check_file(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char value[64];
        if (!first_word(c, k->arg, value, sizeof value))
                set(o, AUDIT_FAIL, "%s cannot be read", k->arg);
        else if (k->want && !streq(value, k->want))
                set(o, AUDIT_FAIL, "%s is %s, want %s", k->arg, value, k->want);
        else
                set(o, AUDIT_PASS, "%s%s%s", k->arg, k->want ? " is " : " readable",
                    k->want ? value : "");
}

static void check_lockdown(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        _cleanup_free_ char *data = read_under(c, "/sys/kernel/security/lockdown");
        if (!data) {
                set(o, AUDIT_FAIL, "/sys/kernel/security/lockdown cannot be read");
                return;
        }
        data[strcspn(data, "\n")] = 0;
        if (strstr(data, "[integrity]") || strstr(data, "[confidentiality]"))
                set(o, AUDIT_PASS, "lockdown: %s", data);
        else
                set(o, AUDIT_FAIL, "lockdown: %s, want %s", data, k->want);
}

static void check_secure_boot(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        _cleanup_free_ char *efi = path_join(c->root, "/sys/firmware/efi");
        if (!efi || access(efi, F_OK) < 0) {
                set(o, AUDIT_SKIP, "not booted through UEFI (direct kernel boot)");
                return;
        }
        /* 4 bytes of attributes, then the value. */
        _cleanup_free_ char *p = path_join(
                c->root,
                "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c");
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        if (!p || read_full_file(p, &data, &size, 64) < 0 || size < 5)
                set(o, AUDIT_FAIL, "the firmware has no SecureBoot variable");
        else if (data[4] == 1)
                set(o, AUDIT_PASS, "SecureBoot = 1");
        else
                set(o, AUDIT_FAIL, "SecureBoot = %d", data[4]);
}

static void check_verity(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char mp[256], opts[256], dev[32], sys[96], uuid[128];
        if (!find_mount(c, k->arg, mp, opts, dev) || !streq(mp, k->arg)) {
                set(o, AUDIT_FAIL, "%s is not a mount point", k->arg);
                return;
        }
        snprintf(sys, sizeof sys, "/sys/dev/block/%s/dm/uuid", dev);
        if (!first_word(c, sys, uuid, sizeof uuid) || !strneq(uuid, "CRYPT-VERITY-", 13))
                set(o, AUDIT_FAIL, "%s (device %s) is not on dm-verity", k->arg, dev);
        else if (!has_option(opts, "ro", 2))
                set(o, AUDIT_FAIL, "%s is mounted writable: %s", k->arg, opts);
        else
                set(o, AUDIT_PASS, "%s on %s (%s), %s", k->arg, dev, uuid, opts);
}

static void check_service(const Ctx *c, const AuditCheck *k, AuditOutcome *o) {
        char path[128];
        snprintf(path, sizeof path, "/run/berth/services/%s", k->arg);
        _cleanup_free_ char *data = read_under(c, path);
        if (!data) {
                set(o, AUDIT_FAIL, "%s is not a service of this node", k->arg);
                return;
        }
        const char *s = strstr(data, "\nstate=");
        s = s ? s + 1 : strneq(data, "state=", 6) ? data : NULL;
        if (s && strneq(s + 6, "ready", 5) && strchr("\n", s[11]))
                set(o, AUDIT_PASS, "%s is ready", k->arg);
        else
                set(o, AUDIT_FAIL, "%s is %.*s", k->arg, s ? (int) strcspn(s + 6, "\n") : 7,
                    s ? s + 6 : "unknown");
}

typedef void (*Runner)(const Ctx *c, const AuditCheck *k, AuditOutcome *o);
static const Runner runners[_AUDIT_KIND_MAX] = {
        [AUDIT_SYSCTL] = check_sysctl,       [AUDIT_MOUNT_POINT] = check_mount,
        [AUDIT_MOUNT_OPTIONS] = check_mount, [AUDIT_MODULE_OFF] = check_module,
        [AUDIT_CMDLINE] = check_cmdline,     [AUDIT_FILE_FIRST] = check_file,
        [AUDIT_LOCKDOWN] = check_lockdown,   [AUDIT_SECURE_BOOT] = check_secure_boot,
        [AUDIT_VERITY] = check_verity,       [AUDIT_SERVICE_READY] = check_service,
};

int audit_run(const char *root, AuditOutcome **ret, size_t *ret_n) {
        Ctx c = { .root = root };
        size_t n = ELEMENTSOF(checks);
        AuditOutcome *out = calloc(n, sizeof *out);
        if (!out)
                return -ENOMEM;
        c.cmdline = read_under(&c, "/proc/cmdline");
        c.mountinfo = read_under(&c, "/proc/self/mountinfo");
        c.modules = read_under(&c, "/proc/modules");
        for (size_t i = 0; i < n; i++) {
                const AuditCheck *k = &checks[i];
                out[i].check = k;
                if (k->kind < _AUDIT_KIND_MAX && runners[k->kind])
                        runners[k->kind](&c, k, &out[i]);
                else
                        set(&out[i], AUDIT_SKIP, "unknown kind of check");
        }
        free(c.cmdline);
        free(c.mountinfo);
        free(c.modules);
        *ret = out;
        *ret_n = n;
        return 0;
}

size_t audit_failed(const AuditOutcome *o, size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += o[i].result == AUDIT_FAIL;
        return k;
}

static void count(const AuditOutcome *o, size_t n, size_t by[_AUDIT_RESULT_MAX],
                  size_t *exceptions) {
        *exceptions = 0;
        for (size_t i = 0; i < n; i++) {
                by[o[i].result]++;
                *exceptions += !!o[i].check->exception;
        }
}

void audit_format_text(const AuditOutcome *o, size_t n, FILE *f) {
        size_t by[_AUDIT_RESULT_MAX] = {}, exc;
        for (size_t i = 0; i < n; i++) {
                char level[16] = "-";
                if (o[i].check->level > 0)
                        snprintf(level, sizeof level, "L%u", o[i].check->level);
                fprintf(f, "%s  %-17s %-2s  %s: %s\n", audit_result_to_string(o[i].result),
                        o[i].check->id, level, o[i].check->title, o[i].reason);
        }
        count(o, n, by, &exc);
        fprintf(f,
                "%zu checks: %zu pass, %zu fail, %zu skip (%zu of them exceptions a container "
                "host needs)\n",
                n, by[AUDIT_PASS], by[AUDIT_FAIL], by[AUDIT_SKIP], exc);
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20)
                        fprintf(f, "\\u%04x", ch);
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

char *audit_format_json(const AuditOutcome *o, size_t n) {
        size_t by[_AUDIT_RESULT_MAX] = {}, exc, size = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        fputs("{\"checks\":[", f);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ",{\"id\":" : "{\"id\":", f);
                json_string(f, o[i].check->id);
                fprintf(f, ",\"level\":%u,\"title\":", o[i].check->level);
                json_string(f, o[i].check->title);
                fprintf(f, ",\"result\":\"%s\",\"reason\":", audit_result_to_string(o[i].result));
                json_string(f, o[i].reason);
                fprintf(f, ",\"exception\":%s}", o[i].check->exception ? "true" : "false");
        }
        count(o, n, by, &exc);
        fprintf(f, "],\"summary\":{\"pass\":%zu,\"fail\":%zu,\"skip\":%zu,\"exceptions\":%zu}}\n",
                by[AUDIT_PASS], by[AUDIT_FAIL], by[AUDIT_SKIP], exc);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
