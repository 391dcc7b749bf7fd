/* SPDX-License-Identifier: MIT */
/* compose.c: the composer pipeline, from spec to artifacts. Each step is one
 * module's call; this file only sequences them, names the work directories and
 * moves the finished output into place. */
#include "compose.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "aptsrc.h"
#include "copy.h"
#include "deb.h"
#include "digest.h"
#include "disk.h"
#include "erofs.h"
#include "error.h"
#include "fetch.h"
#include "fileio.h"
#include "initrd.h"
#include "log.h"
#include "manifest.h"
#include "package.h"
#include "repo.h"
#include "secureboot.h"
#include "slot.h"
#include "solve.h"
#include "spec.h"
#include "strv.h"
#include "tailor.h"
#include "verity.h"

#ifndef BERTH_SOURCE_ROOT
#define BERTH_SOURCE_ROOT "."
#endif

#define SYSTEMD_BOOT_MEMBER "usr/lib/systemd/boot/efi/systemd-bootx64.efi"
#define SYSTEMD_STUB_MEMBER "usr/lib/systemd/boot/efi/linuxx64.efi.stub"

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU seconds used so far by this process and its waited-for children. */
static double cpu_s(void) {
        struct rusage self, kids;
        if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
                return 0;
        return (double) (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                         kids.ru_stime.tv_sec) +
               (double) (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                         kids.ru_stime.tv_usec) /
                       1e6;
}

static int64_t source_date_epoch(void) {
        const char *e = getenv("SOURCE_DATE_EPOCH");
        if (!isempty(e)) {
                char *end;
                long long v = strtoll(e, &end, 10);
                if (*end == 0 && v >= 0)
                        return v;
                log_warning("ignoring invalid SOURCE_DATE_EPOCH='%s'", e);
        }
        return 0;
}

static char *default_cache_dir(void) {
        const char *e = getenv("BERTH_CACHE_DIR");
        if (!isempty(e))
                return strdup(e);
        e = getenv("XDG_CACHE_HOME");
        if (!isempty(e))
                return path_join(e, "berth");
        e = getenv("HOME");
        return path_join(isempty(e) ? "/root" : e, ".cache/berth");
}

/* The directory holding the berth binaries: berth-init sits in src/init/ of
 * the same meson build as this berth (src/berth). */
static char *default_bindir(void) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n < 0)
                return NULL;
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash)
                *slash = 0;
        return strdup(self);
}

/* A berth binary for the image: in a build tree SUBDIR/NAME (init/berth-init),
 * installed NAME or ../lib/berth/NAME. */
static char *find_berth_binary(const char *bindir, const char *subdir, const char *name) {
        _cleanup_free_ char *in_build = path_join(subdir, name),
                            *installed = path_join("../lib/berth", name);
        const char *cands[] = { in_build, name, installed };
        if (!in_build || !installed)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(cands); i++) {
                char *p = path_join(bindir, cands[i]);
                if (p && access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

static const char *data_dir(void) {
        const char *e = getenv("BERTH_DATA_DIR");
        return isempty(e) ? BERTH_SOURCE_ROOT "/data" : e;
}

/* berth's own files: PID 1, service definitions of enabled services, factory /etc. */
static int install_berth_files(const ImageSpec *spec, const char *tree, const char *bindir) {
        _cleanup_free_ char *init_src = find_berth_binary(bindir, "init", "berth-init");
        /* The initramfs's /init (stage 1 and its libraries; initrd.c takes
         * it from here): berth-init itself runs without them. */
        _cleanup_free_ char *stage1_src = find_berth_binary(bindir, "init", "berth-stage1");
        _cleanup_free_ char *stage1_dst = path_join(tree, "usr/lib/berth/berth-stage1");
        _cleanup_free_ char *netevent_src = find_berth_binary(bindir, "net", "berth-netevent");
        _cleanup_free_ char *netevent_dst = path_join(tree, "usr/lib/berth/berth-netevent");
        /* The CLI: it links libc only, so it ships in images (berth service). */
        _cleanup_free_ char *cli_src = find_berth_binary(bindir, ".", "berth");
        _cleanup_free_ char *cli_dst = path_join(tree, "usr/bin/berth");
        /* The update agent behind `berth update` (it links OpenSSL's libssl
         * and libcrypto, libcryptsetup, libfdisk, jansson: the image spec
         * ships those). */
        _cleanup_free_ char *update_src = find_berth_binary(bindir, ".", "berth-update");
        _cleanup_free_ char *update_dst = path_join(tree, "usr/lib/berth/berth-update");
        /* The node API daemon (libmicrohttpd, jansson), also run by berth-init
         * before the services to render /etc (berthd --boot). */
        _cleanup_free_ char *berthd_src = find_berth_binary(bindir, ".", "berthd");
        _cleanup_free_ char *berthd_dst = path_join(tree, "usr/lib/berth/berthd");
        _cleanup_free_ char *libdir = path_join(tree, "usr/lib/berth");
        _cleanup_free_ char *svcdir = path_join(tree, "usr/lib/berth/services");
        _cleanup_free_ char *init_dst = path_join(tree, "usr/lib/berth/berth-init");
        _cleanup_free_ char *init_link = path_join(tree, "usr/sbin/init");
        _cleanup_free_ char *factory = path_join(tree, "usr/share/factory/etc");
        _cleanup_free_ char *data_factory = path_join(data_dir(), "factory/etc");
        _cleanup_free_ char *modlist = path_join(tree, "usr/lib/berth/initrd-modules");
        _cleanup_free_ char *mods = NULL;
        int r;

        if (!libdir || !svcdir || !init_dst || !init_link || !factory || !data_factory ||
            !modlist || !netevent_dst)
                return -ENOMEM;
        if (!init_src)
                return error_setf(ENOENT, "berth-init not found next to %s (build it first)",
                                  bindir);
        r = mkdir_p(svcdir, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", svcdir);
        r = copy_file(init_src, init_dst, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot install %s", init_src);
        if (!stage1_dst)
                return -ENOMEM;
        if (!stage1_src)
                return error_setf(ENOENT, "berth-stage1 not found next to %s (build it first)",
                                  bindir);
        r = copy_file(stage1_src, stage1_dst, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot install %s", stage1_src);
        /* dhcpcd's event program (/etc/dhcpcd.conf: script). */
        if (!netevent_src)
                return error_setf(ENOENT, "berth-netevent not found next to %s (build it first)",
                                  bindir);
        r = copy_file(netevent_src, netevent_dst, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot install %s", netevent_src);
        if (!cli_dst)
                return -ENOMEM;
        if (!cli_src)
                return error_setf(ENOENT, "berth (the CLI) not found in %s (build it first)",
                                  bindir);
        r = mkdir_parents(cli_dst, 0755);
        if (r >= 0)
                r = copy_file(cli_src, cli_dst, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot install %s as /usr/bin/berth", cli_src);
        /* Only where the spec runs the agent and so ships its libraries (the
         * default image does; docs/updates.md). */
        if (strv_contains(spec->services, "update")) {
                if (!update_dst)
                        return -ENOMEM;
                if (!update_src)
                        return error_setf(ENOENT, "berth-update not found in %s (build it first)",
                                          bindir);
                r = copy_file(update_src, update_dst, 0755);
                if (r < 0)
                        return error_wrapf(r, "cannot install %s", update_src);
        }
        if (strv_contains(spec->services, "berthd")) {
                if (!berthd_dst)
                        return -ENOMEM;
                if (!berthd_src)
                        return error_setf(ENOENT, "berthd not found in %s (build it first)",
                                          bindir);
                r = copy_file(berthd_src, berthd_dst, 0755);
                if (r < 0)
                        return error_wrapf(r, "cannot install %s", berthd_src);
        }
        r = mkdir_parents(init_link, 0755);
        if (r < 0)
                return r;
        (void) unlink(init_link);
        if (symlink("../lib/berth/berth-init", init_link) < 0)
                return error_wrapf(errno, "cannot create %s", init_link);

        STRV_FOREACH(s, spec->services) {
                _cleanup_free_ char *n = strdup_printf("%s.service", *s);
                _cleanup_free_ char *src = n ? path_join(data_dir(), "services") : NULL;
                _cleanup_free_ char *srcf = src ? path_join(src, n) : NULL;
                _cleanup_free_ char *dst = n ? path_join(svcdir, n) : NULL;
                if (!srcf || !dst)
                        return -ENOMEM;
                r = copy_file(srcf, dst, 0644);
                if (r < 0)
                        return error_wrapf(r, "%s: [Services] Enable=%s: cannot install %s",
                                           spec->path, *s, srcf);
        }

        if (access(data_factory, F_OK) == 0) {
                r = mkdir_p(factory, 0755);
                if (r >= 0)
                        r = copy_tree(data_factory, factory, 0, 0);
                if (r < 0)
                        return r;
        }

        /* Modules loaded at every boot in the real root, modules-load.d format. */
        if (!strv_isempty(spec->load_modules)) {
                _cleanup_free_ char *ml = path_join(tree, "usr/lib/modules-load.d/berth.conf");
                _cleanup_free_ char *words = strv_join(spec->load_modules, "\n");
                _cleanup_free_ char *text =
                        words ? strdup_printf("# from %s [Kernel] Load=\n%s\n", spec->name, words)
                              : NULL;
                if (!ml || !text)
                        return -ENOMEM;
                r = mkdir_parents(ml, 0755);
                if (r >= 0)
                        r = write_file_atomic(ml, text, strlen(text), 0644);
                if (r < 0)
                        return error_wrapf(r, "cannot write %s", ml);
        }

        /* Test images only: berth-init honours berth.payload=1 when this file
         * is in /usr (covered by dm-verity, so no one adds it later). */
        if (spec->test_payload) {
                _cleanup_free_ char *marker = path_join(tree, "usr/lib/berth/test-payload");
                static const char text[] = "# [Test] Payload=yes: berth-init runs the "
                                           "BERTHPAYLOAD disk when berth.payload=1\n";
                if (!marker)
                        return -ENOMEM;
                r = write_file_atomic(marker, text, strlen(text), 0644);
                if (r < 0)
                        return error_wrapf(r, "cannot write %s", marker);
        }

        /* The module list berth-init loads in the initramfs. */
        mods = strv_join(spec->modules, "\n");
        if (!mods)
                return -ENOMEM;
        _cleanup_free_ char *modtxt = strdup_printf("%s\n", mods);
        if (!modtxt)
                return -ENOMEM;
        return write_file_atomic(modlist, modtxt, strlen(modtxt), 0644);
}

static uint64_t tree_bytes;
static int add_size(const char *p, const struct stat *st, int flag, struct FTW *f) {
        if (flag == FTW_F)
                tree_bytes += (uint64_t) st->st_size;
        return 0;
}

static uint64_t du_bytes(const char *path) {
        tree_bytes = 0;
        (void) nftw(path, add_size, 64, FTW_PHYS);
        return tree_bytes;
}

static uint64_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? 0 : (uint64_t) st.st_size;
}

/* Hex digest of the inputs that decide the image's bytes: used for salts and UUIDs. */
static int input_digest(const ImageSpec *spec, const PackageList *pkgs, int64_t sde,
                        const char *what, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_free_ char *s = strdup_printf("%s\n%s\n%lld\n%s\n", spec->name, spec->version,
                                               (long long) sde, what);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < pkgs->n; i++) {
                char *n = strdup_printf("%s%s=%s %s\n", s, pkgs->packages[i].name,
                                        pkgs->packages[i].version, pkgs->packages[i].sha256);
                if (!n)
                        return -ENOMEM;
                free(s);
                s = n;
        }
        return sha256_buffer_hex(s, strlen(s), ret);
}

static void uuid_from_hex(const char *hex, char ret[static 37]) {
        uint8_t b[16];
        (void) hex_decode(strndupa(hex, 32), b, 16);
        uuid_from_bytes(b, ret);
}

/* Remove leftovers of builds that died (their pid is gone). */
static void clean_stale(const char *output_dir) {
        _cleanup_free_ char *parent = strdup(output_dir), *base = NULL;
        char *slash;
        if (!parent)
                return;
        slash = strrchr(parent, '/');
        if (slash) {
                *slash = 0;
                base = strdup(slash + 1);
                if (!*parent)
                        strcpy(parent, "/");
        } else {
                base = strdup(parent);
                strcpy(parent, ".");
        }
        if (!base)
                return;
        _cleanup_(closedirp) DIR *d = opendir(parent);
        if (!d)
                return;
        size_t bl = strlen(base);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strneq(de->d_name, base, bl))
                        continue;
                const char *rest = de->d_name + bl;
                const char *pidstr = NULL;
                if (strneq(rest, ".new-", 5) || strneq(rest, ".work-", 6) ||
                    strneq(rest, ".old-", 5))
                        pidstr = strchr(rest + 1, '-') + 1;
                if (!pidstr)
                        continue;
                pid_t pid = (pid_t) atoi(pidstr);
                if (pid > 0 && pid != getpid() && kill(pid, 0) == 0)
                        continue;
                _cleanup_free_ char *p = path_join(parent, de->d_name);
                if (p) {
                        log_info("removing leftovers of an interrupted build: %s", p);
                        (void) rm_rf(p);
                }
        }
}

/* SIGINT/SIGTERM/SIGHUP during a build: noted here, acted on at the next step
 * boundary, where the failure path removes the work and new directories. */
static volatile sig_atomic_t interrupted = 0;

static void on_interrupt(int sig) {
        interrupted = sig;
}

static void handle_interrupts(bool on) {
        struct sigaction sa = { .sa_handler = on ? on_interrupt : SIG_DFL, .sa_flags = SA_RESTART };
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
}

/* ---- the plan ---- */

/* The artifacts of a build, by name: steps produce them, later steps and the
 * manifest refer to them by id, never by position. */
typedef enum ArtifactId {
        ART_VMLINUZ,
        ART_INITRD,
        ART_USR,
        ART_VERITY,
        ART_CMDLINE,
        ART_UKI,
        ART_DISK,
        _ART_MAX,
} ArtifactId;

static const char *const artifact_file[_ART_MAX] = {
        [ART_VMLINUZ] = "vmlinuz",   [ART_INITRD] = "initrd",   [ART_USR] = "usr.erofs",
        [ART_VERITY] = "usr.verity", [ART_CMDLINE] = "cmdline", [ART_UKI] = "uki.efi",
        [ART_DISK] = "disk.raw",
};

#define STEPS_MAX 16

typedef struct Compose {
        const ComposeOptions *o;
        ImageSpec *spec;
        Slot slot;
        int64_t sde;
        double t0;
        char *cache, *bindir, *outdir, *newdir, *workdir, *olddir, *tree;
        /* filled as the steps run */
        AptConfig *apt;
        RepoSet *repos;
        PackageList *pkgs, *bootpkgs;
        char *kver, *cmdline;
        char *sb_keys;     /* Secure Boot key directory, or NULL: no UKI, nothing signed */
        char *boot_signed; /* systemd-boot signed with sb_keys (in workdir) */
        char root_hash[65];
        char verity_salt[SHA256_HEX_SIZE];
        uint64_t usr_bytes;
        char *path[_ART_MAX]; /* made artifacts, in newdir; NULL: not (yet) made */
        int cache_lock_fd;    /* held from sources to fetch: one writer of the cache */
        /* per step: wall and CPU seconds (this process and its children) */
        double step_wall[STEPS_MAX], step_cpu[STEPS_MAX];
} Compose;

static void compose_done(Compose *c) {
        safe_close(c->cache_lock_fd);
        spec_free(c->spec);
        apt_config_free(c->apt);
        repo_set_free(c->repos);
        package_list_free(c->pkgs);
        package_list_free(c->bootpkgs);
        free(c->cache);
        free(c->bindir);
        free(c->outdir);
        free(c->newdir);
        free(c->workdir);
        free(c->olddir);
        free(c->tree);
        free(c->kver);
        free(c->cmdline);
        free(c->sb_keys);
        free(c->boot_signed);
        for (size_t i = 0; i < _ART_MAX; i++)
                free(c->path[i]);
}

/* Marks artifact id as made (its file is in newdir). */
static int artifact_made(Compose *c, ArtifactId id) {
        free(c->path[id]);
        c->path[id] = path_join(c->newdir, artifact_file[id]);
        return c->path[id] ? 0 : -ENOMEM;
}

/* The file an artifact is written to in newdir (caller frees). */
static char *artifact_dest(const Compose *c, ArtifactId id) {
        return path_join(c->newdir, artifact_file[id]);
}

typedef struct Step {
        const char *name;
        int (*run)(Compose *c);
        bool in_work; /* needs the work and new directories (removed on failure) */
} Step;

/* Builds sharing a package cache take turns for the downloads: index and
 * package files are written through shared ".partial" names (so a killed
 * download resumes), which two writers at once would tear. */
static int lock_cache(Compose *c) {
        _cleanup_free_ char *path = path_join(c->cache, "lock");
        if (!path)
                return -ENOMEM;
        c->cache_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (c->cache_lock_fd < 0)
                return error_wrapf(-errno, "cannot open %s", path);
        if (flock(c->cache_lock_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return error_wrapf(-errno, "cannot lock %s", path);
                log_info("waiting for another build using the package cache %s", c->cache);
                while (flock(c->cache_lock_fd, LOCK_EX) < 0)
                        if (errno != EINTR || interrupted)
                                return error_setf(EINTR, "interrupted while waiting for %s", path);
        }
        return 0;
}

static void unlock_cache(Compose *c) {
        c->cache_lock_fd = safe_close(c->cache_lock_fd);
}

static int step_sources(Compose *c) {
        const ImageSpec *spec = c->spec;
        const SpecSource *sources;
        size_t n_sources;
        bool check_valid_until;
        int r;

        if (spec->n_sources > 0) {
                sources = spec->sources;
                n_sources = spec->n_sources;
                check_valid_until = true;
        } else {
                r = apt_config_load("/", &c->apt);
                if (r < 0)
                        return r;
                if (c->apt->n_sources == 0)
                        return error_setf(ENOENT,
                                          "no apt sources configured on this machine "
                                          "and none in %s",
                                          spec->path);
                sources = c->apt->sources;
                n_sources = c->apt->n_sources;
                check_valid_until = c->apt->check_valid_until;
        }
        if (spec->check_valid_until_set)
                check_valid_until = spec->check_valid_until;

        r = mkdir_p(c->cache, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create cache directory %s", c->cache);
        r = lock_cache(c);
        if (r < 0)
                return r;
        return repo_set_load(sources, n_sources, spec->architecture, check_valid_until, c->cache,
                             &c->repos);
}

static int step_resolve(Compose *c) {
        const ImageSpec *spec = c->spec;
        _cleanup_strv_free_ char **include = strv_copy(spec->include);
        int r;

        if (!include)
                return -ENOMEM;
        if (spec->kernel_package && !strv_contains(include, spec->kernel_package)) {
                r = strv_extend(&include, spec->kernel_package);
                if (r < 0)
                        return r;
        }
        r = solve_packages(c->repos, spec->architecture, include, spec->exclude, &c->pkgs);
        if (r < 0)
                return r;
        if (!strv_isempty(spec->boot_packages)) {
                r = solve_lookup(c->repos, spec->architecture, spec->boot_packages, &c->bootpkgs);
                if (r < 0)
                        return r;
        }
        log_info("resolved %zu packages (+%zu boot packages)", c->pkgs->n,
                 c->bootpkgs ? c->bootpkgs->n : 0);
        return 0;
}

static int step_fetch(Compose *c) {
        int r = package_list_fetch(c->pkgs, c->cache, c->o->jobs);
        if (r >= 0 && c->bootpkgs)
                r = package_list_fetch(c->bootpkgs, c->cache, c->o->jobs);
        if (r < 0)
                return r;
        log_info("packages fetched and verified (%.1fs)", now_s() - c->t0);
        unlock_cache(c);
        return 0;
}

/* The package whose .deb is largest (the kernel's: its data.tar.xz takes
 * longer to decompress than all the others together). */
static size_t largest_package(const PackageList *pkgs) {
        size_t best = 0;
        off_t best_size = -1;
        for (size_t i = 0; i < pkgs->n; i++) {
                struct stat st;
                if (stat(pkgs->packages[i].local_path, &st) >= 0 && st.st_size > best_size) {
                        best = i;
                        best_size = st.st_size;
                }
        }
        return best;
}

/* True when two sorted lists share an entry. */
static bool sorted_lists_meet(char **a, char **b) {
        while (a && b && *a && *b) {
                int k = strcmp(*a, *b);
                if (k == 0)
                        return true;
                if (k < 0)
                        a++;
                else
                        b++;
        }
        return false;
}

/* Child of step_unpack: unpacks one package and writes the paths it installed
 * to fd, one a line, then the count of skipped modules. */
_noreturn_ static void unpack_child(const Compose *c, const Package *p, int fd) {
        TailorUnpackFilter filter = { .spec = c->spec };
        DebUnpackOptions uo = {
                .source_date_epoch = c->sde,
                .skip = tailor_unpack_skip,
                .skip_userdata = &filter,
        };
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        r = deb_unpack(p->local_path, c->tree, &uo, &files);
        if (r < 0) {
                r = error_wrapf(r, "cannot unpack %s", p->local_path);
                log_error("%s", error_message(r));
                _exit(EXIT_FAILURE);
        }
        f = fdopen(fd, "w");
        if (!f)
                _exit(EXIT_FAILURE);
        STRV_FOREACH(l, files)
                fprintf(f, "%s\n", *l);
        fprintf(f, "\n%zu\n", filter.skipped);
        _exit(fflush(f) == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* Unpack every package into the tree, in list order. The largest package is
 * unpacked by a child process beside the others (two cores: the kernel's
 * decompression overlaps the rest); if it installed a path another package
 * also installed, the order would matter, and the tree is unpacked again
 * one package after the other. */
static int unpack_all(Compose *c, bool parallel, size_t *ret_skipped) {
        _cleanup_(tailor_unpack_filter_done) TailorUnpackFilter filter = { .spec = c->spec };
        DebUnpackOptions uo = {
                .source_date_epoch = c->sde,
                .skip = tailor_unpack_skip,
                .skip_userdata = &filter,
        };
        _cleanup_strv_free_ char **mine = NULL, **theirs = NULL;
        _cleanup_free_ char *text = NULL;
        size_t big = parallel ? largest_package(c->pkgs) : SIZE_MAX;
        bool tty = isatty(STDERR_FILENO);
        pid_t pid = -1;
        int pipefd[2] = { -EBADF, -EBADF }, r = 0;

        if (parallel) {
                if (pipe2(pipefd, O_CLOEXEC) < 0)
                        return error_wrapf(-errno, "cannot make a pipe");
                fflush(NULL);
                pid_t parent = getpid();
                pid = fork();
                if (pid < 0) {
                        r = error_wrapf(-errno, "cannot fork");
                        safe_close(pipefd[0]);
                        safe_close(pipefd[1]);
                        return r;
                }
                if (pid == 0) {
                        /* A killed build must not leave a child writing into the
                         * work tree that the next build removes as stale. */
                        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                                _exit(EXIT_FAILURE);
                        pipefd[0] = safe_close(pipefd[0]);
                        unpack_child(c, &c->pkgs->packages[big], pipefd[1]);
                }
                pipefd[1] = safe_close(pipefd[1]);
        }
        for (size_t i = 0; i < c->pkgs->n && r >= 0; i++) {
                const Package *p = &c->pkgs->packages[i];
                _cleanup_strv_free_ char **files = NULL;
                if (i == big)
                        continue;
                if (tty)
                        fprintf(stderr, "\r\033[Kberth: unpacking [%zu/%zu] %s", i + 1, c->pkgs->n,
                                p->name);
                else if ((i + 1) % 10 == 0 || i + 1 == c->pkgs->n)
                        log_info("unpacking [%zu/%zu] %s", i + 1, c->pkgs->n, p->name);
                if (interrupted) {
                        r = error_setf(EINTR, "interrupted by signal %d", (int) interrupted);
                        break;
                }
                r = deb_unpack(p->local_path, c->tree, &uo, parallel ? &files : NULL);
                if (r < 0) {
                        r = error_wrapf(r, "cannot unpack %s", p->local_path);
                        break;
                }
                STRV_FOREACH(l, files) {
                        r = strv_extend(&mine, *l);
                        if (r < 0)
                                break;
                }
        }
        if (tty)
                fputs("\r\033[K", stderr);
        *ret_skipped = filter.skipped;
        if (!parallel)
                return r;

        /* The child's list, then its exit status. */
        {
                _cleanup_free_ char *path = strdup_printf("/proc/self/fd/%d", pipefd[0]);
                int k = path ? read_full_file(path, &text, NULL, 64u * 1024 * 1024) : -ENOMEM;
                pipefd[0] = safe_close(pipefd[0]);
                int status = 0;
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                status = -1;
                                break;
                        }
                if (r < 0)
                        return r;
                if (k < 0)
                        return error_wrapf(k, "cannot read what %s installed",
                                           c->pkgs->packages[big].name);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return error_setf(EIO, "unpacking %s failed (see above)",
                                          c->pkgs->packages[big].name);
        }
        char *save = NULL, *line, *cursor = text;
        /* Lines up to the empty one are paths; the last is the skip count. */
        while ((line = strsep(&cursor, "\n")) && *line) {
                r = strv_extend(&theirs, line);
                if (r < 0)
                        return r;
        }
        if (cursor)
                *ret_skipped += strtoul(cursor, &save, 10);
        strv_sort(mine);
        strv_sort(theirs);
        if (sorted_lists_meet(mine, theirs)) {
                log_info("%s shares files with other packages: unpacking again in order",
                         c->pkgs->packages[big].name);
                return 1;
        }
        return 0;
}

static int step_unpack(Compose *c) {
        size_t skipped = 0;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int r;

        /* --jobs 1: one thing at a time, downloads and unpacking alike. */
        r = unpack_all(c, cpus > 1 && c->pkgs->n > 1 && c->o->jobs != 1, &skipped);
        if (r > 0) {
                r = rm_rf(c->tree);
                if (r >= 0)
                        r = mkdir_p(c->tree, 0755);
                if (r < 0)
                        return error_wrapf(r, "cannot empty %s", c->tree);
                r = unpack_all(c, false, &skipped);
        }
        if (r < 0)
                return r;
        log_info("unpacked %zu packages (%.1fs; %zu kernel modules that Remove= drops left out)",
                 c->pkgs->n, now_s() - c->t0, skipped);
        return install_berth_files(c->spec, c->tree, c->bindir);
}

static int step_tailor(Compose *c) {
        _cleanup_free_ char *kc = path_join(c->cache, "modules-xz");
        int r;

        if (!kc)
                return -ENOMEM;
        tailor_set_module_cache(kc);
        log_info("tailoring the tree (users, ldconfig, kernel modules, Remove= globs)");
        r = tailor_tree(c->spec, c->tree, c->sde);
        tailor_set_module_cache(NULL);
        if (r < 0)
                return r;
        r = tailor_kernel_version(c->tree, &c->kver);
        if (r < 0)
                return error_wrapf(r, "cannot find the kernel's modules in the image");
        return 0;
}

/* The kernel leaves the tree: /usr is what remains of it. */
static int step_kernel(Compose *c) {
        _cleanup_free_ char *vmlinuz = strdup_printf("%s/boot/vmlinuz-%s", c->tree, c->kver);
        _cleanup_free_ char *dst = artifact_dest(c, ART_VMLINUZ);
        _cleanup_free_ char *boot = path_join(c->tree, "boot");
        int r;

        if (!vmlinuz || !dst || !boot)
                return -ENOMEM;
        r = copy_file(vmlinuz, dst, 0644);
        if (r < 0)
                return error_wrapf(r, "cannot copy the kernel %s", vmlinuz);
        (void) rm_rf(boot);
        return artifact_made(c, ART_VMLINUZ);
}

static int step_initrd(Compose *c) {
        _cleanup_free_ char *dst = artifact_dest(c, ART_INITRD);
        _cleanup_free_ char *ic = path_join(c->cache, "initrd-zstd");
        InitrdOptions io = {
                .cache_dir = ic,
                .root = c->tree,
                .kernel_version = c->kver,
                .modules = c->spec->modules,
                .init_binary = "usr/lib/berth/berth-stage1",
                .source_date_epoch = c->sde,
        };
        int r;

        if (!dst || !ic)
                return -ENOMEM;
        r = initrd_build(&io, dst);
        if (r < 0)
                return error_wrapf(r, "cannot build the initramfs");
        return artifact_made(c, ART_INITRD);
}

/* /usr as erofs, and its dm-verity hash tree. */
static int step_usr(Compose *c) {
        _cleanup_free_ char *usr = path_join(c->tree, "usr");
        _cleanup_free_ char *erofs = artifact_dest(c, ART_USR),
                            *hash = artifact_dest(c, ART_VERITY);
        char d_uuid[SHA256_HEX_SIZE], d_salt[SHA256_HEX_SIZE], d_vuuid[SHA256_HEX_SIZE];
        char fs_uuid[37], verity_uuid[37];
        int r;

        if (!usr || !erofs || !hash)
                return -ENOMEM;
        c->usr_bytes = du_bytes(usr);
        if (input_digest(c->spec, c->pkgs, c->sde, "erofs-uuid", d_uuid) < 0 ||
            verity_salt_for_image(c->spec->name, d_salt) < 0 ||
            input_digest(c->spec, c->pkgs, c->sde, "verity-uuid", d_vuuid) < 0)
                return -ENOMEM;
        uuid_from_hex(d_uuid, fs_uuid);
        uuid_from_hex(d_vuuid, verity_uuid);

        log_info("making the erofs image of /usr (%.1f MiB, %s)", (double) c->usr_bytes / 1048576.0,
                 strempty(c->spec->compression));
        r = erofs_make(usr, erofs, c->spec->compression, c->sde, fs_uuid);
        if (r < 0)
                return error_wrapf(r, "cannot make the erofs image of /usr");
        double tv = now_s();
        memcpy(c->verity_salt, d_salt, sizeof d_salt);
        r = verity_format(erofs, hash, d_salt, verity_uuid, c->root_hash);
        if (r < 0)
                return error_wrapf(r, "cannot format the dm-verity hash tree");
        log_info("usr image %.1f MiB, verity %.1f MiB, hashed in %.2fs, root hash %s",
                 (double) file_size(erofs) / 1048576.0, (double) file_size(hash) / 1048576.0,
                 now_s() - tv, c->root_hash);
        r = artifact_made(c, ART_USR);
        return r < 0 ? r : artifact_made(c, ART_VERITY);
}

/* The slot's kernel command line: the usr root hash and the slot. */
static int step_cmdline(Compose *c) {
        _cleanup_free_ char *p = artifact_dest(c, ART_CMDLINE), *t = NULL;
        int r;

        c->cmdline = slot_cmdline(c->root_hash, c->slot, c->spec->cmdline);
        if (!c->cmdline || !p)
                return -ENOMEM;
        t = strdup_printf("%s\n", c->cmdline);
        if (!t)
                return -ENOMEM;
        r = write_file_atomic(p, t, strlen(t), 0644);
        if (r < 0)
                return error_wrapf(r, "cannot write %s", p);
        return artifact_made(c, ART_CMDLINE);
}

/* A file of the systemd-boot-efi package (BootPackages=) into workdir/name. */
static int boot_package_file(Compose *c, const char *member, const char *name, char **ret) {
        const Package *sb = NULL;
        _cleanup_free_ char *dst = path_join(c->workdir, name);
        int r;

        if (!dst)
                return -ENOMEM;
        for (size_t i = 0; c->bootpkgs && i < c->bootpkgs->n && !sb; i++)
                if (streq(c->bootpkgs->packages[i].name, "systemd-boot-efi"))
                        sb = &c->bootpkgs->packages[i];
        if (!sb)
                return error_setf(ENOENT,
                                  "%s: [Packages] BootPackages= must name "
                                  "systemd-boot-efi for the disk image",
                                  c->spec->path);
        r = deb_extract_file(sb->local_path, member, dst);
        if (r < 0)
                return error_wrapf(r, "cannot extract %s from %s", member, sb->local_path);
        *ret = TAKE_PTR(dst);
        return 0;
}

/* Secure Boot images: the unified kernel image (systemd-stub + kernel +
 * initrd + os-release + a command line without berth.slot=, so that the
 * same signed bytes serve either slot and measure the same into PCR 11),
 * signed with the db key, and systemd-boot signed with it. */
static int step_uki(Compose *c) {
        _cleanup_free_ char *stub = NULL, *boot = NULL, *unsigned_uki = NULL, *cmd_path = NULL,
                            *osrel = NULL, *cmd = NULL, *dst = artifact_dest(c, ART_UKI);
        int r;

        unsigned_uki = path_join(c->workdir, "uki.unsigned.efi");
        cmd_path = path_join(c->workdir, "uki-cmdline");
        osrel = path_join(c->tree, "usr/lib/os-release");
        cmd = strdup_printf("usrhash=%s%s%s", c->root_hash, isempty(c->spec->cmdline) ? "" : " ",
                            strempty(c->spec->cmdline));
        c->boot_signed = path_join(c->workdir, "systemd-bootx64.signed.efi");
        if (!dst || !unsigned_uki || !cmd_path || !osrel || !cmd || !c->boot_signed)
                return -ENOMEM;
        r = write_file_atomic(cmd_path, cmd, strlen(cmd), 0644);
        if (r < 0)
                return error_wrapf(r, "cannot write %s", cmd_path);
        if ((r = boot_package_file(c, SYSTEMD_STUB_MEMBER, "linuxx64.efi.stub", &stub)) < 0 ||
            (r = boot_package_file(c, SYSTEMD_BOOT_MEMBER, "systemd-bootx64.efi", &boot)) < 0)
                return r;
        log_info("making the unified kernel image, signed with %s/db.key", c->sb_keys);
        r = secureboot_make_uki(stub, osrel, cmd_path, c->path[ART_VMLINUZ], c->path[ART_INITRD],
                                unsigned_uki);
        if (r < 0)
                return r;
        if ((r = secureboot_sign(c->sb_keys, unsigned_uki, dst)) < 0 ||
            (r = secureboot_sign(c->sb_keys, boot, c->boot_signed)) < 0)
                return r;
        return artifact_made(c, ART_UKI);
}

static int step_disk(Compose *c) {
        const ImageSpec *spec = c->spec;
        _cleanup_free_ char *efi = NULL;
        _cleanup_free_ char *disk = artifact_dest(c, ART_DISK);
        int r;

        if (!disk)
                return -ENOMEM;
        if (!c->boot_signed) {
                r = boot_package_file(c, SYSTEMD_BOOT_MEMBER, "systemd-bootx64.efi", &efi);
                if (r < 0)
                        return r;
        }
        DiskLayout l = {
                .usr_image = c->path[ART_USR],
                .verity_image = c->path[ART_VERITY],
                .root_hash = c->root_hash,
                .kernel = c->path[ART_VMLINUZ],
                .initrd = c->path[ART_INITRD],
                .systemd_boot = c->boot_signed ?: efi,
                .uki = c->path[ART_UKI],
                .secure_boot_keys = c->sb_keys,
                .cmdline = c->cmdline,
                .slot = c->slot,
                .image_name = spec->name,
                .image_version = spec->version,
                .boot_tries = spec->boot_tries,
                .esp_size = spec->esp_size,
                .usr_size = spec->usr_size,
                .root_size = spec->root_size,
                .source_date_epoch = c->sde,
        };
        r = disk_make(&l, disk);
        if (r < 0)
                return error_wrapf(r, "cannot make the disk image");
        return artifact_made(c, ART_DISK);
}

/* Manifest and SBOM describe the artifacts made above. */
static int step_manifest(Compose *c) {
        _cleanup_free_ char *mpath = path_join(c->newdir, "manifest.json");
        _cleanup_free_ char *spath = path_join(c->newdir, "sbom.spdx.json");
        Artifact arts[_ART_MAX];
        size_t n = 0;
        int r;

        if (!mpath || !spath)
                return -ENOMEM;
        for (size_t i = 0; i < _ART_MAX; i++)
                if (c->path[i])
                        arts[n++] = (Artifact){ artifact_file[i], c->path[i] };
        ManifestInfo mi = {
                .name = c->spec->name,
                .version = c->spec->version,
                .flavor = flavor_to_string(c->spec->flavor),
                .architecture = c->spec->architecture,
                .description = c->spec->description,
                .packages = c->pkgs,
                .root_hash = c->root_hash,
                .verity_salt = c->root_hash[0] ? c->verity_salt : NULL,
                .kernel_version = c->kver,
                .cmdline = c->cmdline,
                .usr_tree_bytes = c->usr_bytes,
                .artifacts = arts,
                .n_artifacts = n,
                .source_date_epoch = c->sde,
        };
        r = manifest_and_sbom_write(&mi, mpath, spath);
        if (r < 0)
                return error_wrapf(r, "cannot write %s and %s", mpath, spath);
        return 0;
}

/* Into place: the old output stays until the new one is complete. */
static int step_commit(Compose *c) {
        int r;

        (void) rm_rf(c->workdir);
        r = fsync_directory(c->newdir);
        if (r < 0)
                return error_wrapf(r, "cannot sync %s", c->newdir);
        if (access(c->outdir, F_OK) == 0 && rename(c->outdir, c->olddir) < 0)
                return error_wrapf(errno, "cannot move %s aside", c->outdir);
        if (rename(c->newdir, c->outdir) < 0) {
                r = error_wrapf(errno, "cannot move %s to %s", c->newdir, c->outdir);
                (void) rename(c->olddir, c->outdir);
                return r;
        }
        (void) rm_rf(c->olddir);
        return 0;
}

/* Every step, in order. A plan is this list with the steps the options leave
 * out removed (no disk with --no-disk). */
static const Step all_steps[] = {
        { "sources", step_sources },       { "resolve", step_resolve },
        { "fetch", step_fetch },           { "unpack", step_unpack, true },
        { "tailor", step_tailor, true },   { "kernel", step_kernel, true },
        { "initrd", step_initrd, true },   { "usr", step_usr, true },
        { "cmdline", step_cmdline, true }, { "uki", step_uki, true },
        { "disk", step_disk, true },       { "manifest", step_manifest, true },
        { "commit", step_commit, true },
};

_Static_assert(ELEMENTSOF(all_steps) <= STEPS_MAX, "STEPS_MAX too small");

typedef struct Plan {
        const Step *steps[ELEMENTSOF(all_steps)];
        size_t n;
} Plan;

/* Everything decided before anything is written: the spec, the slot, the
 * directories, the steps. */
static int compose_plan(const ComposeOptions *o, Compose *c, Plan *ret) {
        Plan plan = {};
        int r;

        *c = (Compose){ .o = o,
                        .slot = o->slot,
                        .sde = source_date_epoch(),
                        .t0 = now_s(),
                        .cache_lock_fd = -EBADF };
        if (c->slot < 0 || c->slot >= _SLOT_MAX)
                return error_setf(EINVAL, "no such slot");
        r = spec_parse(o->spec_path, &c->spec);
        if (r < 0)
                return r;
        if (c->spec->flavor != FLAVOR_IMMUTABLE)
                return error_setf(EOPNOTSUPP, "%s: Flavor=%s is not built yet (only immutable)",
                                  c->spec->path, flavor_to_string(c->spec->flavor));

        c->cache = o->cache_dir ? strdup(o->cache_dir) : default_cache_dir();
        c->bindir = o->berth_bindir ? strdup(o->berth_bindir) : default_bindir();
        /* Absolute, so every later step (initrd, disk) agrees on where things are. */
        if (o->output_dir && o->output_dir[0] == '/')
                c->outdir = strdup(o->output_dir);
        else {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return error_wrapf(errno, "cannot get the current directory");
                c->outdir = path_join(cwd, o->output_dir ? o->output_dir : "out");
        }
        if (!c->cache || !c->bindir || !c->outdir)
                return -ENOMEM;
        while (strlen(c->outdir) > 1 && c->outdir[strlen(c->outdir) - 1] == '/')
                c->outdir[strlen(c->outdir) - 1] = 0;
        c->newdir = strdup_printf("%s.new-%d", c->outdir, (int) getpid());
        c->workdir = strdup_printf("%s.work-%d", c->outdir, (int) getpid());
        c->olddir = strdup_printf("%s.old-%d", c->outdir, (int) getpid());
        c->tree = c->workdir ? path_join(c->workdir, "tree") : NULL;
        if (!c->newdir || !c->workdir || !c->olddir || !c->tree)
                return -ENOMEM;

        /* Secure Boot: --secure-boot-keys, else the spec's SecureBootKeys=
         * (relative to the spec file); the keys are checked before anything
         * is fetched. */
        if (o->secure_boot_keys)
                c->sb_keys = strdup(o->secure_boot_keys);
        else if (c->spec->secure_boot_keys)
                c->sb_keys = c->spec->secure_boot_keys[0] == '/' || !c->spec->dir
                                     ? strdup(c->spec->secure_boot_keys)
                                     : path_join(c->spec->dir, c->spec->secure_boot_keys);
        if ((o->secure_boot_keys || c->spec->secure_boot_keys) && !c->sb_keys)
                return -ENOMEM;
        if (c->sb_keys && (r = secureboot_keys_check(c->sb_keys)) < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(all_steps); i++) {
                if (o->no_disk && all_steps[i].run == step_disk)
                        continue;
                if (!c->sb_keys && all_steps[i].run == step_uki)
                        continue;
                plan.steps[plan.n++] = &all_steps[i];
        }
        *ret = plan;
        return 0;
}

static int compose_execute(Compose *c, const Plan *plan) {
        bool in_work = false;
        int r = 0;

        log_info("building %s %s (slot %s) from %s (SOURCE_DATE_EPOCH=%lld)", c->spec->name,
                 c->spec->version, slot_to_string(c->slot), c->spec->path, (long long) c->sde);
        clean_stale(c->outdir);
        for (size_t i = 0; i < plan->n; i++) {
                const Step *s = plan->steps[i];
                if (interrupted) {
                        r = error_setf(EINTR, "interrupted by signal %d", (int) interrupted);
                        break;
                }
                if (s->in_work && !in_work) {
                        /* From here on, a failure removes the work and new directories. */
                        in_work = true;
                        r = mkdir_p(c->tree, 0755);
                        if (r < 0) {
                                r = error_wrapf(r, "cannot create %s", c->tree);
                                break;
                        }
                        r = mkdir_p(c->newdir, 0755);
                        if (r < 0) {
                                r = error_wrapf(r, "cannot create %s", c->newdir);
                                break;
                        }
                }
                log_debug("step %s", s->name);
                double w = now_s(), u = cpu_s();
                r = s->run(c);
                c->step_wall[i] = now_s() - w;
                c->step_cpu[i] = cpu_s() - u;
                if (r < 0)
                        break;
        }
        if (r < 0) {
                if (in_work) {
                        (void) rm_rf(c->workdir);
                        (void) rm_rf(c->newdir);
                        log_info("build failed; %s was left as it was", c->outdir);
                }
                return r;
        }
        return 0;
}

static void print_summary(const Compose *c, const Plan *plan) {
        uint64_t compressed = 0;

        for (size_t i = 0; i < _ART_MAX; i++) {
                _cleanup_free_ char *p = path_join(c->outdir, artifact_file[i]);
                if (c->path[i] && p && (i == ART_VMLINUZ || i == ART_INITRD || i == ART_USR))
                        compressed += file_size(p);
        }
        printf("\n"
               "  image        %s %s (slot %s)\n"
               "  packages     %zu (+%zu boot-only)\n"
               "  /usr tree    %.1f MiB installed\n"
               "  compressed   %.1f MiB (kernel + initrd + erofs /usr)\n"
               "  root hash    %s\n"
               "  kernel       %s\n"
               "  output       %s\n"
               "  time         %.1fs\n",
               c->spec->name, c->spec->version, slot_to_string(c->slot), c->pkgs->n,
               c->bootpkgs ? c->bootpkgs->n : 0, (double) c->usr_bytes / 1048576.0,
               (double) compressed / 1048576.0, c->root_hash, c->kver, c->outdir, now_s() - c->t0);
        printf("  steps       ");
        for (size_t i = 0; i < plan->n; i++)
                printf(" %s %.1fs/%.1fs%s", plan->steps[i]->name, c->step_wall[i], c->step_cpu[i],
                       i + 1 < plan->n ? "," : " (wall/CPU)\n");
        for (size_t i = 0; i < _ART_MAX; i++) {
                if (!c->path[i])
                        continue;
                _cleanup_free_ char *p = path_join(c->outdir, artifact_file[i]);
                printf("  %-12s %.1f MiB\n", artifact_file[i],
                       (double) (p ? file_size(p) : 0) / 1048576.0);
        }
}

int compose_image(const ComposeOptions *o) {
        _cleanup_(compose_done) Compose c = { .cache_lock_fd = -EBADF };
        Plan plan;
        int r;

        interrupted = 0;
        handle_interrupts(true);
        r = compose_plan(o, &c, &plan);
        if (r >= 0)
                r = compose_execute(&c, &plan);
        handle_interrupts(false);
        if (r >= 0)
                print_summary(&c, &plan);
        return r;
}
