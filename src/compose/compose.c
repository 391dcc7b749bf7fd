/* SPDX-License-Identifier: MIT */
/* compose.c: the composer pipeline, from spec to artifacts. Each step is one
 * module's call; this file only sequences them, names the work directories and
 * moves the finished output into place. */
#include "error.h"
#include "compose.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aptsrc.h"
#include "deb.h"
#include "digest.h"
#include "disk.h"
#include "erofs.h"
#include "fetch.h"
#include "copy.h"
#include "fileio.h"
#include "initrd.h"
#include "log.h"
#include "manifest.h"
#include "package.h"
#include "repo.h"
#include "solve.h"
#include "spec.h"
#include "strv.h"
#include "tailor.h"
#include "verity.h"

#ifndef BERTH_SOURCE_ROOT
#define BERTH_SOURCE_ROOT "."
#endif

#define SYSTEMD_BOOT_MEMBER "usr/lib/systemd/boot/efi/systemd-bootx64.efi"

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
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

static char *find_berth_init(const char *bindir) {
        const char *cands[] = { "init/berth-init", "berth-init", "../lib/berth/berth-init" };
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
        _cleanup_free_ char *init_src = find_berth_init(bindir);
        _cleanup_free_ char *libdir = path_join(tree, "usr/lib/berth");
        _cleanup_free_ char *svcdir = path_join(tree, "usr/lib/berth/services");
        _cleanup_free_ char *init_dst = path_join(tree, "usr/lib/berth/berth-init");
        _cleanup_free_ char *init_link = path_join(tree, "usr/sbin/init");
        _cleanup_free_ char *factory = path_join(tree, "usr/share/factory/etc");
        _cleanup_free_ char *data_factory = path_join(data_dir(), "factory/etc");
        _cleanup_free_ char *modlist = path_join(tree, "usr/lib/berth/initrd-modules");
        _cleanup_free_ char *mods = NULL;
        int r;

        if (!libdir || !svcdir || !init_dst || !init_link || !factory || !data_factory || !modlist)
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
                _cleanup_free_ char *text = words ? strdup_printf("# from %s [Kernel] Load=\n%s\n",
                                                                  spec->name, words)
                                                  : NULL;
                if (!ml || !text)
                        return -ENOMEM;
                r = mkdir_parents(ml, 0755);
                if (r >= 0)
                        r = write_file_atomic(ml, text, strlen(text), 0644);
                if (r < 0)
                        return error_wrapf(r, "cannot write %s", ml);
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
                if (strneq(rest, ".new-", 5) || strneq(rest, ".work-", 6) || strneq(rest, ".old-", 5))
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

static int artifact_add(Artifact *a, size_t *n, const char *name, const char *dir) {
        char *p = path_join(dir, name);
        if (!p)
                return -ENOMEM;
        a[*n].name = name;
        a[*n].path = p;
        (*n)++;
        return 0;
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

#define FAIL_IF_INTERRUPTED()                                                                      \
        do {                                                                                       \
                if (interrupted) {                                                                 \
                        r = error_setf(EINTR, "interrupted by signal %d",                      \
                                           (int) interrupted);                                     \
                        goto fail;                                                                 \
                }                                                                                  \
        } while (0)

static int compose_image_internal(const ComposeOptions *o);

int compose_image(const ComposeOptions *o) {
        interrupted = 0;
        handle_interrupts(true);
        int r = compose_image_internal(o);
        handle_interrupts(false);
        return r;
}

static int compose_image_internal(const ComposeOptions *o) {
        _cleanup_(spec_freep) ImageSpec *spec = NULL;
        _cleanup_(apt_config_freep) AptConfig *apt = NULL;
        _cleanup_(repo_set_freep) RepoSet *repos = NULL;
        _cleanup_(package_list_freep) PackageList *pkgs = NULL, *bootpkgs = NULL;
        _cleanup_strv_free_ char **include = NULL;
        _cleanup_free_ char *cache = NULL, *bindir = NULL, *outdir = NULL, *newdir = NULL,
                            *workdir = NULL, *olddir = NULL, *tree = NULL, *kver = NULL,
                            *cmdline = NULL;
        const SpecSource *sources;
        size_t n_sources;
        bool check_valid_until;
        int64_t sde = source_date_epoch();
        double t0 = now_s();
        char root_hash[65] = "";
        Artifact arts[16] = {};
        size_t n_arts = 0;
        int r;

        r = spec_parse(o->spec_path, &spec);
        if (r < 0)
                return r;
        if (spec->flavor != FLAVOR_IMMUTABLE)
                return error_setf(EOPNOTSUPP, "%s: Flavor=%s is not built yet (only immutable)",
                                      spec->path, flavor_to_string(spec->flavor));

        cache = o->cache_dir ? strdup(o->cache_dir) : default_cache_dir();
        bindir = o->berth_bindir ? strdup(o->berth_bindir) : default_bindir();
        /* Absolute, so every later step (initrd, disk) agrees on where things are. */
        if (o->output_dir && o->output_dir[0] == '/')
                outdir = strdup(o->output_dir);
        else {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return error_wrapf(errno, "cannot get the current directory");
                outdir = path_join(cwd, o->output_dir ? o->output_dir : "out");
        }
        if (!cache || !bindir || !outdir)
                return error_setf(ENOMEM, "out of memory");
        while (strlen(outdir) > 1 && outdir[strlen(outdir) - 1] == '/')
                outdir[strlen(outdir) - 1] = 0;

        clean_stale(outdir);
        newdir = strdup_printf("%s.new-%d", outdir, (int) getpid());
        workdir = strdup_printf("%s.work-%d", outdir, (int) getpid());
        olddir = strdup_printf("%s.old-%d", outdir, (int) getpid());
        tree = workdir ? path_join(workdir, "tree") : NULL;
        if (!newdir || !workdir || !olddir || !tree)
                return error_setf(ENOMEM, "out of memory");

        log_info("building %s %s from %s (SOURCE_DATE_EPOCH=%lld)", spec->name, spec->version,
                 spec->path, (long long) sde);

        /* 1. Where packages come from. */
        if (spec->n_sources > 0) {
                sources = spec->sources;
                n_sources = spec->n_sources;
                check_valid_until = true;
        } else {
                r = apt_config_load("/", &apt);
                if (r < 0)
                        return r;
                if (apt->n_sources == 0)
                        return error_setf(ENOENT, "no apt sources configured on this machine "
                                                      "and none in %s", spec->path);
                sources = apt->sources;
                n_sources = apt->n_sources;
                check_valid_until = apt->check_valid_until;
        }
        if (spec->check_valid_until_set)
                check_valid_until = spec->check_valid_until;

        r = mkdir_p(cache, 0755);
        if (r < 0)
                return error_wrapf(r, "cannot create cache directory %s", cache);
        r = repo_set_load(sources, n_sources, spec->architecture, check_valid_until, cache, &repos);
        if (r < 0)
                return r;

        /* 2. Resolve. */
        include = strv_copy(spec->include);
        if (!include)
                return error_setf(ENOMEM, "out of memory");
        if (spec->kernel_package && !strv_contains(include, spec->kernel_package)) {
                r = strv_extend(&include, spec->kernel_package);
                if (r < 0)
                        return error_setf(ENOMEM, "out of memory");
        }
        r = solve_packages(repos, spec->architecture, include, spec->exclude, &pkgs);
        if (r < 0)
                return r;
        if (!strv_isempty(spec->boot_packages)) {
                r = solve_lookup(repos, spec->architecture, spec->boot_packages, &bootpkgs);
                if (r < 0)
                        return r;
        }
        log_info("resolved %zu packages (+%zu boot packages)", pkgs->n, bootpkgs ? bootpkgs->n : 0);

        /* 3. Fetch, verified. */
        r = package_list_fetch(pkgs, cache, o->jobs);
        if (r < 0)
                return r;
        if (bootpkgs) {
                r = package_list_fetch(bootpkgs, cache, o->jobs);
                if (r < 0)
                        return r;
        }
        log_info("packages fetched and verified (%.1fs)", now_s() - t0);

        /* 4. Unpack into the work tree. From here on, failures remove the work dirs. */
        if (interrupted)
                return error_setf(EINTR, "interrupted by signal %d", (int) interrupted);
        r = mkdir_p(tree, 0755);
        if (r < 0) {
                error_wrapf(r, "cannot create %s", tree);
                goto fail;
        }
        r = mkdir_p(newdir, 0755);
        if (r < 0) {
                error_wrapf(r, "cannot create %s", newdir);
                goto fail;
        }
        {
                DebUnpackOptions uo = { .source_date_epoch = sde };
                bool tty = isatty(STDERR_FILENO);
                for (size_t i = 0; i < pkgs->n; i++) {
                        if (tty)
                                fprintf(stderr, "\r\033[Kberth: unpacking [%zu/%zu] %s", i + 1,
                                        pkgs->n, pkgs->packages[i].name);
                        else if ((i + 1) % 10 == 0 || i + 1 == pkgs->n)
                                log_info("unpacking [%zu/%zu] %s", i + 1, pkgs->n,
                                         pkgs->packages[i].name);
                        FAIL_IF_INTERRUPTED();
                        r = deb_unpack(pkgs->packages[i].local_path, tree, &uo, NULL);
                        if (r < 0) {
                                error_wrapf(r, "cannot unpack %s", pkgs->packages[i].local_path);
                                goto fail;
                        }
                }
        }
        if (isatty(STDERR_FILENO))
                fputs("\r\033[K", stderr);
        log_info("unpacked %zu packages (%.1fs)", pkgs->n, now_s() - t0);

        r = install_berth_files(spec, tree, bindir);
        if (r < 0)
                goto fail;

        /* 5. Tailor: maintainer-script duties done declaratively. */
        FAIL_IF_INTERRUPTED();
        {
                _cleanup_free_ char *kc = path_join(cache, "modules-xz");
                if (!kc) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                tailor_set_module_cache(kc);
        }
        log_info("tailoring the tree (users, ldconfig, kernel modules, Remove= globs)");
        r = tailor_tree(spec, tree, sde);
        tailor_set_module_cache(NULL);
        if (r < 0)
                goto fail;
        r = tailor_kernel_version(tree, &kver);
        if (r < 0) {
                error_wrapf(r, "cannot find the kernel's modules in the image");
                goto fail;
        }

        /* 6. Kernel and initramfs leave the tree; /usr is what remains. */
        FAIL_IF_INTERRUPTED();
        {
                _cleanup_free_ char *vmlinuz = strdup_printf("%s/boot/vmlinuz-%s", tree, kver);
                _cleanup_free_ char *dst = path_join(newdir, "vmlinuz");
                _cleanup_free_ char *boot = path_join(tree, "boot");
                if (!vmlinuz || !dst || !boot) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                r = copy_file(vmlinuz, dst, 0644);
                if (r < 0) {
                        error_wrapf(r, "cannot copy the kernel %s", vmlinuz);
                        goto fail;
                }
                (void) rm_rf(boot);
                r = artifact_add(arts, &n_arts, "vmlinuz", newdir);
                if (r < 0)
                        goto fail;
        }
        {
                _cleanup_free_ char *dst = path_join(newdir, "initrd");
                InitrdOptions io = {
                        .root = tree,
                        .kernel_version = kver,
                        .modules = spec->modules,
                        .init_binary = "usr/lib/berth/berth-init",
                        .source_date_epoch = sde,
                };
                if (!dst) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                r = initrd_build(&io, dst);
                if (r < 0) {
                        error_wrapf(r, "cannot build the initramfs");
                        goto fail;
                }
                r = artifact_add(arts, &n_arts, "initrd", newdir);
                if (r < 0)
                        goto fail;
        }

        uint64_t usr_bytes;
        {
                _cleanup_free_ char *usr = path_join(tree, "usr");
                _cleanup_free_ char *erofs = path_join(newdir, "usr.erofs");
                _cleanup_free_ char *hash = path_join(newdir, "usr.verity");
                char d_uuid[SHA256_HEX_SIZE], d_salt[SHA256_HEX_SIZE], d_vuuid[SHA256_HEX_SIZE];
                char fs_uuid[37], verity_uuid[37];
                if (!usr || !erofs || !hash) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                usr_bytes = du_bytes(usr);
                if (input_digest(spec, pkgs, sde, "erofs-uuid", d_uuid) < 0 ||
                    input_digest(spec, pkgs, sde, "verity-salt", d_salt) < 0 ||
                    input_digest(spec, pkgs, sde, "verity-uuid", d_vuuid) < 0) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                uuid_from_hex(d_uuid, fs_uuid);
                uuid_from_hex(d_vuuid, verity_uuid);

                log_info("making the erofs image of /usr (%.1f MiB, %s)", (double) usr_bytes / 1048576.0,
                         strempty(spec->compression));
                FAIL_IF_INTERRUPTED();
                r = erofs_make(usr, erofs, spec->compression, sde, fs_uuid);
                if (r < 0) {
                        error_wrapf(r, "cannot make the erofs image of /usr");
                        goto fail;
                }
                double tv = now_s();
                r = verity_format(erofs, hash, d_salt, verity_uuid, root_hash);
                if (r < 0) {
                        error_wrapf(r, "cannot format the dm-verity hash tree");
                        goto fail;
                }
                log_info("usr image %.1f MiB, verity %.1f MiB, hashed in %.2fs, root hash %s",
                         (double) file_size(erofs) / 1048576.0, (double) file_size(hash) / 1048576.0,
                         now_s() - tv, root_hash);
                r = artifact_add(arts, &n_arts, "usr.erofs", newdir);
                if (r >= 0)
                        r = artifact_add(arts, &n_arts, "usr.verity", newdir);
                if (r < 0)
                        goto fail;
        }

        cmdline = strdup_printf("usrhash=%s berth.slot=a%s%s", root_hash,
                                isempty(spec->cmdline) ? "" : " ", strempty(spec->cmdline));
        if (!cmdline) {
                r = error_setf(ENOMEM, "out of memory");
                goto fail;
        }
        {
                _cleanup_free_ char *p = path_join(newdir, "cmdline");
                _cleanup_free_ char *t = strdup_printf("%s\n", cmdline);
                if (!p || !t) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                r = write_file_atomic(p, t, strlen(t), 0644);
                if (r < 0)
                        goto fail;
                r = artifact_add(arts, &n_arts, "cmdline", newdir);
                if (r < 0)
                        goto fail;
        }

        /* 7. The disk image. */
        FAIL_IF_INTERRUPTED();
        if (!o->no_disk) {
                const Package *sb = NULL;
                _cleanup_free_ char *efi = path_join(workdir, "systemd-bootx64.efi");
                _cleanup_free_ char *disk = path_join(newdir, "disk.raw");
                if (!efi || !disk) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                for (size_t i = 0; bootpkgs && i < bootpkgs->n && !sb; i++)
                        if (streq(bootpkgs->packages[i].name, "systemd-boot-efi"))
                                sb = &bootpkgs->packages[i];
                if (!sb) {
                        r = error_setf(ENOENT, "%s: [Packages] BootPackages= must name "
                                                   "systemd-boot-efi for the disk image",
                                           spec->path);
                        goto fail;
                }
                r = deb_extract_file(sb->local_path, SYSTEMD_BOOT_MEMBER, efi);
                if (r < 0) {
                        error_wrapf(r, "cannot extract %s from %s", SYSTEMD_BOOT_MEMBER,
                                        sb->local_path);
                        goto fail;
                }
                DiskLayout l = {
                        .usr_image = arts[2].path,
                        .verity_image = arts[3].path,
                        .root_hash = root_hash,
                        .kernel = arts[0].path,
                        .initrd = arts[1].path,
                        .systemd_boot = efi,
                        .cmdline = cmdline,
                        .image_name = spec->name,
                        .image_version = spec->version,
                        .boot_tries = spec->boot_tries,
                        .esp_size = spec->esp_size,
                        .usr_size = spec->usr_size,
                        .root_size = spec->root_size,
                        .source_date_epoch = sde,
                };
                r = disk_make(&l, disk);
                if (r < 0) {
                        error_wrapf(r, "cannot make the disk image");
                        goto fail;
                }
                r = artifact_add(arts, &n_arts, "disk.raw", newdir);
                if (r < 0)
                        goto fail;
        }

        /* 8. Manifest and SBOM describe the artifacts above. */
        FAIL_IF_INTERRUPTED();
        {
                _cleanup_free_ char *mpath = path_join(newdir, "manifest.json");
                _cleanup_free_ char *spath = path_join(newdir, "sbom.spdx.json");
                ManifestInfo mi = {
                        .name = spec->name,
                        .version = spec->version,
                        .flavor = flavor_to_string(spec->flavor),
                        .architecture = spec->architecture,
                        .description = spec->description,
                        .packages = pkgs,
                        .root_hash = root_hash,
                        .kernel_version = kver,
                        .cmdline = cmdline,
                        .usr_tree_bytes = usr_bytes,
                        .artifacts = arts,
                        .n_artifacts = n_arts,
                        .source_date_epoch = sde,
                };
                if (!mpath || !spath) {
                        r = error_setf(ENOMEM, "out of memory");
                        goto fail;
                }
                r = manifest_and_sbom_write(&mi, mpath, spath);
                if (r < 0) {
                        error_wrapf(r, "cannot write %s and %s", mpath, spath);
                        goto fail;
                }
        }

        /* 9. Into place: the old output stays until the new one is complete. */
        FAIL_IF_INTERRUPTED();
        (void) rm_rf(workdir);
        r = fsync_directory(newdir);
        if (r < 0)
                goto fail;
        if (access(outdir, F_OK) == 0) {
                if (rename(outdir, olddir) < 0) {
                        r = error_wrapf(errno, "cannot move %s aside", outdir);
                        goto fail;
                }
        }
        if (rename(newdir, outdir) < 0) {
                r = error_wrapf(errno, "cannot move %s to %s", newdir, outdir);
                (void) rename(olddir, outdir);
                goto fail;
        }
        (void) rm_rf(olddir);

        {
                uint64_t total = 0, compressed = 0;
                for (size_t i = 0; i < n_arts; i++) {
                        _cleanup_free_ char *p = path_join(outdir, arts[i].name);
                        uint64_t s = p ? file_size(p) : 0;
                        total += s;
                        if (streq(arts[i].name, "vmlinuz") || streq(arts[i].name, "initrd") ||
                            streq(arts[i].name, "usr.erofs"))
                                compressed += s;
                }
                printf("\n"
                       "  image        %s %s\n"
                       "  packages     %zu (+%zu boot-only)\n"
                       "  /usr tree    %.1f MiB installed\n"
                       "  compressed   %.1f MiB (kernel + initrd + erofs /usr)\n"
                       "  root hash    %s\n"
                       "  kernel       %s\n"
                       "  output       %s\n"
                       "  time         %.1fs\n",
                       spec->name, spec->version, pkgs->n, bootpkgs ? bootpkgs->n : 0,
                       (double) usr_bytes / 1048576.0, (double) compressed / 1048576.0,
                       root_hash, kver, outdir, now_s() - t0);
                for (size_t i = 0; i < n_arts; i++) {
                        _cleanup_free_ char *p = path_join(outdir, arts[i].name);
                        printf("  %-12s %.1f MiB\n", arts[i].name,
                               (double) (p ? file_size(p) : 0) / 1048576.0);
                }
                (void) total;
        }
        for (size_t i = 0; i < n_arts; i++)
                free((char *) arts[i].path);
        return 0;

fail:
        for (size_t i = 0; i < n_arts; i++)
                free((char *) arts[i].path);
        (void) rm_rf(workdir);
        (void) rm_rf(newdir);
        log_info("build failed; %s was left as it was", outdir);
        return r;
}
