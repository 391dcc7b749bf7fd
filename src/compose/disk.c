/* SPDX-License-Identifier: MIT */
#include "disk.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "erofs.h"
#include "error.h"
#include "spawn-util.h"
#include "fileio.h"
#include "gpt.h"
#include "log.h"
#include "macro.h"
#include "partition.h"
#include "slot.h"
#include "strv.h"
#include "verity.h"

#define MIB (1ull << 20)
#define SECTOR 512ull

static inline void rm_rf_freep(char **p) {
        if (*p) {
                (void) rm_rf(*p);
                free(*p);
        }
}

typedef struct Part {
        const char *label;
        const char *type;
        char uuid[37];
        const char *image; /* content, NULL = zeros */
        uint64_t offset, size;
        bool read_only;
} Part;

enum { P_ESP, P_USR_A, P_USR_A_VERITY, P_USR_B, P_USR_B_VERITY, P_ROOT, _P_MAX };

int disk_derive_uuid(const char *name, const char *version, const char *purpose,
                     char ret[static UUID_STRING_SIZE]) {
        _cleanup_free_ char *s = NULL;
        uint8_t md[32];
        int r;

        if (!name || !version || !purpose)
                return -EINVAL;
        s = strdup_printf("%s\n%s\n%s", name, version, purpose);
        if (!s)
                return -ENOMEM;
        r = sha256_buffer(s, strlen(s), md);
        if (r < 0)
                return r;
        uuid_from_bytes(md, ret);
        return 0;
}

static uint64_t round_up(uint64_t x, uint64_t to) {
        return (x + to - 1) / to * to;
}

/* Size of a verity hash file (superblock + tree) for data_bytes of data,
 * sha256 and 4096-byte blocks: 128 hashes per block. */
static uint64_t verity_hash_bytes(uint64_t data_bytes) {
        uint64_t blocks = (data_bytes + VERITY_BLOCK_SIZE - 1) / VERITY_BLOCK_SIZE, total = 1;
        do {
                blocks = (blocks + 127) / 128;
                total += blocks;
        } while (blocks > 1);
        return total * VERITY_BLOCK_SIZE;
}

static int file_size(const char *path, uint64_t *ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return error_wrapf(-errno, "%s", path);
        if (!S_ISREG(st.st_mode))
                return error_wrapf(-EINVAL, "%s: not a regular file", path);
        *ret = (uint64_t) st.st_size;
        return 0;
}

static int create_sized(const char *path, uint64_t size) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) size) < 0)
                return -errno;
        return 0;
}

static int write_text(const char *dir, const char *name, const char *text, char **ret_path) {
        _cleanup_free_ char *p = path_join(dir, name);
        int r;

        if (!p)
                return -ENOMEM;
        r = write_file_atomic(p, text, strlen(text), 0644);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(p);
        return 0;
}

/* mtools: no user config, no geometry check, file times from
 * SOURCE_DATE_EPOCH, FAT local time = UTC. */
static int mtools(char **env, const char *tool, const char *img, char *const args[]) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (strv_extend(&argv, tool) < 0 || strv_extend(&argv, "-i") < 0 ||
            strv_extend(&argv, img) < 0)
                return -ENOMEM;
        for (char *const *a = args; *a; a++)
                if (strv_extend(&argv, *a) < 0)
                        return -ENOMEM;
        r = spawn_run(argv, &(SpawnOptions){ .env_extra = env }, NULL);
        return r < 0 ? error_wrapf(r, "%s on %s", tool, img) : 0;
}

static int esp_copy(char **env, const char *img, const char *from, const char *to) {
        _cleanup_free_ char *dst = strdup_printf("::%s", to);
        if (!dst)
                return -ENOMEM;
        return mtools(env, "mcopy", img, (char *[]){ (char *) from, dst, NULL });
}

/* Secure Boot: systemd-boot and the UKI (both signed), the owner's keys for
 * secure-boot-enroll, and nothing else: no kernel, initrd or loader entry a
 * writer of the disk could edit. "auto" is the key directory systemd-boot
 * 252 enrolls without a menu choice when loader.conf says "force". */
static int esp_secure_boot_files(const DiskLayout *l, const char *work, const char *img,
                                 char **env) {
        static const char *const names[] = { "PK", "KEK", "db" };
        char name[BOOT_ENTRY_NAME_MAX];
        int r;

        r = mtools(env, "mmd", img,
                   (char *[]){ (char *) "::EFI/Linux", (char *) "::loader/keys",
                               (char *) "::loader/keys/auto", NULL });
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *src = strdup_printf("%s/%s.auth", l->secure_boot_keys,
                                                         names[i]),
                                    *dst = strdup_printf("loader/keys/auto/%s.auth", names[i]);
                if (!src || !dst)
                        return -ENOMEM;
                r = esp_copy(env, img, src, dst);
                if (r < 0)
                        return r;
        }
        r = boot_entry_new_name(l->slot, l->boot_tries, ".efi", name);
        if (r < 0)
                return r;
        _cleanup_free_ char *uki = strdup_printf("EFI/Linux/%s", name), *loader = NULL;
        if (!uki)
                return -ENOMEM;
        r = esp_copy(env, img, l->uki, uki);
        if (r < 0)
                return r;
        r = write_text(work, "loader.conf",
                       "timeout 0\neditor no\ndefault berth-*\nsecure-boot-enroll force\n",
                       &loader);
        if (r < 0)
                return r;
        return esp_copy(env, img, loader, "loader/loader.conf");
}

static int make_esp(const DiskLayout *l, const char *work, const char *img, uint64_t size,
                    char **env) {
        _cleanup_free_ char *volid = NULL, *entry = NULL, *entry_name = NULL, *loader = NULL,
                            *entry_path = NULL;
        char uuid[37];
        int r;

        r = disk_derive_uuid(l->image_name, l->image_version, "esp-volid", uuid);
        if (r < 0)
                return r;
        volid = strndup(uuid, 8);
        if (!volid)
                return -ENOMEM;
        /* The slot's kernel and initrd live in /berth/<slot>/ on the ESP. */
        const char *sn = slot_to_string(l->slot);
        if (!sn)
                return -EINVAL;
        char slot_dir_esp[16], kernel_path[32], initrd_path[32];
        snprintf(slot_dir_esp, sizeof slot_dir_esp, "::berth/%s", sn);
        snprintf(kernel_path, sizeof kernel_path, BOOT_KERNEL_FMT, sn);
        snprintf(initrd_path, sizeof initrd_path, BOOT_INITRD_FMT, sn);
        r = create_sized(img, size);
        if (r < 0)
                return error_wrapf(r, "%s", img);
        /* --invariant first: it would otherwise override -i. */
        r = spawn_run((char *[]){ (char *) "mkfs.fat", (char *) "-F", (char *) "32", (char *) "-n",
                                  (char *) "ESP", (char *) "--invariant", (char *) "-i", volid,
                                  (char *) img, NULL },
                      &(SpawnOptions){ .env_extra = env }, NULL);
        if (r < 0)
                return error_wrapf(r, "mkfs.fat on %s", img);

        if (l->uki)
                r = mtools(env, "mmd", img,
                           (char *[]){ (char *) "::EFI", (char *) "::EFI/BOOT",
                                       (char *) "::EFI/systemd", (char *) "::loader", NULL });
        else
                r = mtools(env, "mmd", img,
                           (char *[]){ (char *) "::EFI", (char *) "::EFI/BOOT",
                                       (char *) "::EFI/systemd", (char *) "::loader",
                                       (char *) "::loader/entries", (char *) "::berth",
                                       slot_dir_esp, NULL });
        if (r < 0)
                return r;

        if (l->systemd_boot) {
                r = esp_copy(env, img, l->systemd_boot, "EFI/BOOT/BOOTX64.EFI");
                if (r < 0)
                        return r;
                r = esp_copy(env, img, l->systemd_boot, "EFI/systemd/systemd-bootx64.efi");
                if (r < 0)
                        return r;
        }
        if (l->uki)
                return esp_secure_boot_files(l, work, img, env);

        r = esp_copy(env, img, l->kernel, kernel_path + 1);
        if (r < 0)
                return r;
        r = esp_copy(env, img, l->initrd, initrd_path + 1);
        if (r < 0)
                return r;

        /* The newest entry with tries left sorts first (sort-key, then
         * version); "default berth-*" skips systemd-boot's auto entries. */
        r = write_text(work, "loader.conf", "timeout 0\neditor no\ndefault berth-*\n", &loader);
        if (r < 0)
                return r;
        r = esp_copy(env, img, loader, "loader/loader.conf");
        if (r < 0)
                return r;

        entry = boot_entry_text(l->image_name, l->image_version, l->slot, l->cmdline);
        char name[BOOT_ENTRY_NAME_MAX];
        r = boot_entry_new_name(l->slot, l->boot_tries, ".conf", name);
        if (r < 0)
                return r;
        entry_name = strdup_printf("loader/entries/%s", name);
        if (!entry || !entry_name)
                return -ENOMEM;
        r = write_text(work, "entry.conf", entry, &entry_path);
        if (r < 0)
                return r;
        return esp_copy(env, img, entry_path, entry_name);
}

static int set_times(const char *path, int64_t t) {
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };
        if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static const struct {
        const char *name;
        mode_t mode; /* 0: symlink */
        const char *target;
} root_skeleton[] = {
        { "usr", 0755 },
        { "etc", 0755 },
        { "var", 0755 },
        { "proc", 0555 },
        { "sys", 0555 },
        { "dev", 0755 },
        { "run", 0755 },
        { "tmp", 01777 },
        { "root", 0700 },
        { "bin", 0, "usr/bin" },
        { "sbin", 0, "usr/sbin" },
        { "lib", 0, "usr/lib" },
        { "lib64", 0, "usr/lib64" },
};

static int make_root(const DiskLayout *l, const char *work, const char *img, uint64_t size,
                     char **env) {
        _cleanup_free_ char *skel = path_join(work, "root-skel"), *opts = NULL, *cmds_path = NULL,
                            *fake = NULL, *size_k = NULL;
        _cleanup_strv_free_ char **cmds = NULL, **fenv = NULL;
        char uuid[37];
        int r;

        if (!skel)
                return -ENOMEM;
        r = disk_derive_uuid(l->image_name, l->image_version, "root-fs", uuid);
        if (r < 0)
                return r;
        if (mkdir(skel, 0755) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(root_skeleton); i++) {
                _cleanup_free_ char *p = path_join(skel, root_skeleton[i].name), *c = NULL;
                if (!p)
                        return -ENOMEM;
                if (root_skeleton[i].mode == 0) {
                        if (symlink(root_skeleton[i].target, p) < 0)
                                return -errno;
                } else if (mkdir(p, root_skeleton[i].mode) < 0 ||
                           chmod(p, root_skeleton[i].mode) < 0)
                        return -errno;
                r = set_times(p, l->source_date_epoch);
                if (r < 0)
                        return r;
                /* mke2fs -d copies the source ctime, which cannot be set:
                 * debugfs fixes it afterwards. */
                c = strdup_printf("sif /%s ctime @%" PRIi64, root_skeleton[i].name,
                                  l->source_date_epoch);
                if (!c || strv_push(&cmds, TAKE_PTR(c)) < 0)
                        return -ENOMEM;
        }
        {
                _cleanup_free_ char *c =
                        strdup_printf("sif / ctime @%" PRIi64, l->source_date_epoch);
                if (!c || strv_push(&cmds, TAKE_PTR(c)) < 0)
                        return -ENOMEM;
        }
        r = set_times(skel, l->source_date_epoch);
        if (r < 0)
                return r;

        /* e2fsprogs reads a fake time of 0 as "not set" and uses the clock. */
        fake = strdup_printf("E2FSPROGS_FAKE_TIME=%" PRIi64,
                             MAX(l->source_date_epoch, (int64_t) 1));
        opts = strdup_printf("hash_seed=%s,root_owner=0:0", uuid);
        size_k = strdup_printf("%" PRIu64 "k", size / 1024);
        if (!fake || !opts || !size_k)
                return -ENOMEM;
        fenv = strv_copy(env);
        if (!fenv || strv_extend(&fenv, fake) < 0)
                return -ENOMEM;
        r = create_sized(img, size);
        if (r < 0)
                return error_wrapf(r, "%s", img);
        r = spawn_run((char *[]){ (char *) "mkfs.ext4", (char *) "-q", (char *) "-F", (char *) "-L",
                                  (char *) "root", (char *) "-U", uuid, (char *) "-E", opts,
                                  (char *) "-d", skel, (char *) img, size_k, NULL },
                      &(SpawnOptions){ .env_extra = fenv }, NULL);
        if (r < 0)
                return error_wrapf(r, "mkfs.ext4 on %s", img);

        _cleanup_free_ char *script = strv_join(cmds, "\n");
        if (!script)
                return -ENOMEM;
        r = write_text(work, "debugfs.cmds", script, &cmds_path);
        if (r < 0)
                return r;
        r = spawn_run((char *[]){ (char *) "debugfs", (char *) "-w", (char *) "-f", cmds_path,
                                  (char *) img, NULL },
                      &(SpawnOptions){ .env_extra = fenv }, NULL);
        if (r < 0)
                return error_wrapf(r, "debugfs on %s", img);
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* Copies src into fd at offset, skipping zero blocks so the disk image stays
 * sparse (the target is a fresh, all-zero sparse file). */
static int copy_sparse(const char *src, int fd, uint64_t offset, uint64_t max) {
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = malloc(MIB);
        uint64_t pos = 0;

        if (in < 0)
                return -errno;
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(in, buf, MIB);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return 0;
                if (pos + (uint64_t) k > max)
                        return -ENOSPC;
                for (size_t o = 0; o < (size_t) k; o += 4096) {
                        size_t n = MIN((size_t) 4096, (size_t) k - o);
                        if (all_zero(buf + o, n))
                                continue;
                        ssize_t w = pwrite(fd, buf + o, n, (off_t) (offset + pos + o));
                        if (w < 0)
                                return -errno;
                        if ((size_t) w != n)
                                return -EIO;
                }
                pos += (uint64_t) k;
        }
}

static int plan(const DiskLayout *l, Part p[static _P_MAX], uint64_t *ret_total) {
        uint64_t usr_img, hash_img, kernel, initrd, esp, usr, ver, root, off;
        int r;

        if ((r = file_size(l->usr_image, &usr_img)) < 0 ||
            (r = file_size(l->verity_image, &hash_img)) < 0 ||
            (r = file_size(l->kernel, &kernel)) < 0 || (r = file_size(l->initrd, &initrd)) < 0)
                return r;

        /* Two slots' kernels and initrds, with a quarter to spare. */
        esp = l->esp_size ?: MAX(DISK_ESP_SIZE_DEFAULT, round_up((kernel + initrd) * 5 / 2, MIB));
        esp = round_up(esp, MIB);
        if (esp < (kernel + initrd) * 2 + 2 * MIB)
                return error_wrapf(-ENOSPC, "ESP of %" PRIu64 " bytes cannot hold two slots", esp);
        usr = round_up(l->usr_size ?: usr_img * 3 / 2, MIB);
        if (usr < usr_img)
                return error_wrapf(-ENOSPC,
                                   "usr partition of %" PRIu64
                                   " bytes is smaller than the image (%" PRIu64 ")",
                                   usr, usr_img);
        ver = round_up(MAX(hash_img * 3 / 2, verity_hash_bytes(usr)), MIB);
        root = round_up(l->root_size ?: DISK_ROOT_SIZE_DEFAULT, MIB);

        if (l->slot < 0 || l->slot >= _SLOT_MAX)
                return error_setf(EINVAL, "disk: no such slot");
        p[P_ESP] = (Part){ PART_LABEL_ESP, PART_TYPE_ESP, .size = esp };
        p[P_USR_A] = (Part){ usr_partition_label(SLOT_A, false), PART_TYPE_USR_X86_64, .size = usr,
                             .read_only = true };
        p[P_USR_A_VERITY] = (Part){ usr_partition_label(SLOT_A, true), PART_TYPE_USR_VERITY_X86_64,
                                    .size = ver, .read_only = true };
        p[P_USR_B] = (Part){ usr_partition_label(SLOT_B, false), PART_TYPE_USR_X86_64, .size = usr,
                             .read_only = true };
        p[P_USR_B_VERITY] = (Part){ usr_partition_label(SLOT_B, true), PART_TYPE_USR_VERITY_X86_64,
                                    .size = ver, .read_only = true };
        p[P_ROOT] = (Part){ PART_LABEL_ROOT, PART_TYPE_ROOT_X86_64, .size = root };

        /* The image goes into its slot's pair, whose PARTUUIDs derive from the
         * root hash; the other pair stays empty. */
        size_t data = l->slot == SLOT_A ? P_USR_A : P_USR_B, hash = data + 1;
        p[data].image = l->usr_image;
        p[hash].image = l->verity_image;
        if ((r = usr_partuuids_from_hex(l->root_hash, p[data].uuid, p[hash].uuid)) < 0)
                return error_wrapf(r, "bad root hash '%s'", l->root_hash);
        for (size_t i = 0; i < _P_MAX; i++) {
                if (i == data || i == hash)
                        continue;
                r = disk_derive_uuid(l->image_name, l->image_version, p[i].label, p[i].uuid);
                if (r < 0)
                        return r;
        }
        /* The empty pair keeps its types (the updater finds it by them) but is
         * labelled "_empty", so Discoverable Partitions tools never pick it. */
        size_t other = l->slot == SLOT_A ? P_USR_B : P_USR_A;
        p[other].label = PART_LABEL_EMPTY;
        p[other + 1].label = PART_LABEL_EMPTY;

        off = MIB;
        for (size_t i = 0; i < _P_MAX; i++) {
                p[i].offset = off;
                off += p[i].size;
        }
        *ret_total = off + MIB;
        return 0;
}

int disk_make(const DiskLayout *l, const char *dest) {
        _cleanup_(rm_rf_freep) char *work = NULL;
        _cleanup_free_ char *tmp = NULL, *esp_img = NULL, *root_img = NULL, *sde = NULL;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int fd = -EBADF;
        char disk_uuid[37];
        Part parts[_P_MAX];
        uint64_t total = 0;
        int r;

        if (!l || !dest || !l->usr_image || !l->verity_image || !l->root_hash || !l->kernel ||
            !l->initrd || isempty(l->image_name) || isempty(l->image_version) ||
            l->source_date_epoch < 0 || (l->uki && !l->secure_boot_keys))
                return -EINVAL;

        r = plan(l, parts, &total);
        if (r < 0)
                return r;
        r = disk_derive_uuid(l->image_name, l->image_version, "disk", disk_uuid);
        if (r < 0)
                return r;

        work = strdup_printf("%s.work-XXXXXX", dest);
        tmp = strdup_printf("%s.tmp", dest);
        sde = strdup_printf("SOURCE_DATE_EPOCH=%" PRIi64, l->source_date_epoch);
        if (!work || !tmp || !sde)
                return -ENOMEM;
        if (!mkdtemp(work)) {
                r = -errno;
                free(TAKE_PTR(work));
                return error_wrapf(r, "mkdtemp next to %s", dest);
        }
        esp_img = path_join(work, "esp.img");
        root_img = path_join(work, "root.img");
        if (!esp_img || !root_img)
                return -ENOMEM;
        if (strv_extend(&env, sde) < 0 || strv_extend(&env, "TZ=UTC") < 0 ||
            strv_extend(&env, "MTOOLS_SKIP_CHECK=1") < 0 ||
            strv_extend(&env, "MTOOLSRC=/dev/null") < 0 || strv_extend(&env, "LC_ALL=C") < 0)
                return -ENOMEM;

        r = make_esp(l, work, esp_img, parts[P_ESP].size, env);
        if (r < 0)
                return r;
        r = make_root(l, work, root_img, parts[P_ROOT].size, env);
        if (r < 0)
                return r;
        parts[P_ESP].image = esp_img;
        parts[P_ROOT].image = root_img;

        (void) unlink(tmp);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return error_wrapf(-errno, "%s", tmp);
        if (ftruncate(fd, (off_t) total) < 0) {
                r = error_wrapf(-errno, "%s", tmp);
                goto fail;
        }
        for (size_t i = 0; i < _P_MAX; i++) {
                if (!parts[i].image)
                        continue;
                r = copy_sparse(parts[i].image, fd, parts[i].offset, parts[i].size);
                if (r < 0) {
                        error_wrapf(r, "copying %s into partition %s", parts[i].image,
                                    parts[i].label);
                        goto fail;
                }
        }
        if (fsync(fd) < 0) {
                r = error_wrapf(-errno, "%s", tmp);
                goto fail;
        }
        fd = safe_close(fd);

        GptPartition table[_P_MAX];
        for (size_t i = 0; i < _P_MAX; i++)
                table[i] = (GptPartition){
                        .label = parts[i].label,
                        .type = parts[i].type,
                        .uuid = parts[i].uuid,
                        .offset = parts[i].offset,
                        .size = parts[i].size,
                        .read_only = parts[i].read_only,
                };
        r = gpt_write(tmp, disk_uuid, table, _P_MAX);
        if (r < 0) {
                error_wrapf(r, "%s: writing the partition table", tmp);
                goto fail;
        }
        if (rename(tmp, dest) < 0) {
                r = error_wrapf(-errno, "%s", dest);
                goto fail;
        }
        return 0;

fail:
        (void) unlink(tmp);
        return r;
}
