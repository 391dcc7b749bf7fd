/* SPDX-License-Identifier: MIT */
#include "stage1.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "blockdev.h"
#include "copy.h"
#include "dm-verity.h"
#include "error.h"
#include "fileio.h"
#include "firstboot.h"
#include "growfs.h"
#include "initutil.h"
#include "log.h"
#include "modules.h"
#include "partition.h"

#define DEVICE_WAIT_USEC (10 * USEC_PER_SEC)

_noreturn_ _printf_(1, 2) static void fail(const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        bool noreboot = proc_cmdline_get_bool("berth.debug.noreboot");

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* "boot failed: " is what `berth vm` watches for (docs/vm.md). */
        log_error("boot failed: %s — %s", msg, noreboot ? "halting" : "rebooting");

        sync();
        sleep(5);
        for (;;) {
                (void) reboot(noreboot ? RB_HALT_SYSTEM : RB_AUTOBOOT);
                sleep(60);
        }
}

static int mount_one(const char *what, const char *where, const char *type, unsigned long flags,
                     const char *data) {
        (void) mkdir_p(where, 0755);
        if (mount(what, where, type, flags, data) < 0)
                return -errno;
        return 0;
}

static void mount_api(void) {
        static const struct {
                const char *what, *where, *type, *data;
                unsigned long flags;
        } table[] = {
                { "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
                { "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
                { "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID },
                { "tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = mount_one(table[i].what, table[i].where, table[i].type, table[i].flags,
                                  table[i].data);
                /* The kernel may have mounted devtmpfs already (CONFIG_DEVTMPFS_MOUNT). */
                if (r < 0 && r != -EBUSY)
                        fail("cannot mount %s: %s", table[i].where, strerror(-r));
        }
}

static void open_console(void) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return;
        /* Keep 0/1/2 pointing at the console for libraries that print. */
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        (void) dup2(fd, i);
        log_set_fd(fd);
}

/* A partition of one GPT type on one disk. */
typedef struct PartMatch {
        const char *disk;
        const char *type;
} PartMatch;

static bool match_part(const BlockInfo *info, const void *userdata) {
        const PartMatch *m = userdata;
        return streq(info->disk, m->disk) && streq(info->parttype, m->type);
}

/* A usr partition on the same disk before USR: then USR is the second pair,
 * slot b (docs/disk-layout.md), whatever a berth.slot= word says or a
 * unified kernel image leaves out. */
static bool match_earlier_usr(const BlockInfo *info, const void *userdata) {
        const BlockInfo *usr = userdata;
        return streq(info->disk, usr->disk) && streq(info->parttype, PART_TYPE_USR_X86_64) &&
               info->partno < usr->partno;
}

static bool match_dev(const BlockInfo *info, const void *userdata) {
        const char *dev = userdata;
        if (strneq(dev, "/dev/", 5))
                dev += 5;
        return streq(info->name, dev);
}

/* Waits for the devices to appear (devtmpfs creates the nodes once the
 * driver found the disk); no udev, so poll. */
static int wait_for(blockdev_match_t match, const void *userdata, BlockInfo *ret) {
        usec_t end = now_usec() + DEVICE_WAIT_USEC;
        for (;;) {
                int r = blockdev_find(match, userdata, ret);
                if (r != 0)
                        return r;
                if (now_usec() > end)
                        return 0;
                (void) usleep(50 * 1000);
        }
}

typedef struct UsrParts {
        const char *data, *verity;
} UsrParts;

/* Both usr partitions of the slot are there (their disk's driver is loaded). */
static bool usr_found(void *userdata) {
        const UsrParts *p = userdata;
        BlockInfo info;
        return blockdev_find(blockdev_match_partuuid, p->data, &info) > 0 &&
               blockdev_find(blockdev_match_partuuid, p->verity, &info) > 0;
}

static void find_root(const BlockInfo *usr, BlockInfo *root) {
        char override[256];
        int r;

        if (proc_cmdline_get("root", override, sizeof override) > 0 && !isempty(override)) {
                if (strneq(override, "PARTUUID=", 9))
                        r = wait_for(blockdev_match_partuuid, override + 9, root);
                else
                        r = wait_for(match_dev, override, root);
                if (r <= 0)
                        fail("cannot find root partition root=%s", override);
                return;
        }

        PartMatch m = { .disk = usr->disk, .type = PART_TYPE_ROOT_X86_64 };
        r = wait_for(match_part, &m, root);
        if (r <= 0)
                fail("cannot find the root partition (type %s) on /dev/%s", PART_TYPE_ROOT_X86_64,
                     usr->disk);
}

/* The ESP of the disk that holds usr, read-only, never executable, root
 * only, at /efi (docs/init.md). The updater remounts it writable for its own
 * writes. A disk without one boots all the same. */
static void mount_esp(const BlockInfo *usr) {
        PartMatch m = { .disk = usr->disk, .type = PART_TYPE_ESP };
        BlockInfo esp;
        char dev[PATH_MAX];

        /* No waiting: the partitions of the disk appeared together with usr. */
        if (isempty(usr->disk) || blockdev_find(match_part, &m, &esp) <= 0) {
                log_info("no ESP on /dev/%s, nothing mounted on " ESP_MOUNTPOINT,
                         isempty(usr->disk) ? "?" : usr->disk);
                return;
        }
        snprintf(dev, sizeof dev, "/dev/%s", esp.name);
        int r = mount_one(dev, STAGE1_SYSROOT ESP_MOUNTPOINT, "vfat",
                          MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=0077");
        if (r < 0)
                log_warning_errno(r, "cannot mount the ESP %s on " ESP_MOUNTPOINT, dev);
}

static void grow_root(const BlockInfo *root) {
        char disk[PATH_MAX], part[PATH_MAX];
        uint64_t size = 0;
        int r;

        snprintf(disk, sizeof disk, "/dev/%s", root->disk);
        snprintf(part, sizeof part, "/dev/%s", root->name);

        r = growfs_partition(disk, root->partno, &size);
        if (r < 0) {
                log_warning_errno(r, "cannot grow %s on %s, continuing", part, disk);
                return;
        }
        if (r > 0)
                log_info("grew %s to %" PRIu64 " MiB", part, size >> 20);
        r = growfs_ext4(STAGE1_SYSROOT, size);
        if (r < 0) {
                log_warning_errno(r, "cannot resize the file system on %s, continuing", part);
                return;
        }
        r = firstboot_done(STAGE1_SYSROOT, FIRSTBOOT_TASK_GROWFS);
        if (r < 0)
                log_warning_errno(r, "cannot record first-boot task %s", FIRSTBOOT_TASK_GROWFS);
}

/* A random machine ID made once per node (the first-boot task machine-id)
 * and kept on /var: partition and file system UUIDs come from the image and
 * are the same on every node. The boot that makes it is the machine's first. */
static void write_machine_id(void) {
        const char *keep = STAGE1_SYSROOT "/var/lib/berth/machine-id";
        bool first = firstboot_pending(STAGE1_SYSROOT, FIRSTBOOT_TASK_MACHINE_ID);
        _cleanup_free_ char *old = NULL;
        bool made = false;
        char id[34];
        int r;

        if (read_full_file(keep, &old, NULL, 64) >= 0 && strlen(old) >= 32 &&
            strspn(old, "0123456789abcdef") >= 32) {
                memcpy(id, old, 32);
        } else {
                if (!first)
                        log_warning("%s is gone or damaged, making a new machine ID", keep);
                made = true;
                uint8_t b[16];
                /* An identifier, not a key: it must be unique, not secret, so it
                 * does not wait (about a second under TCG) for the entropy pool,
                 * as systemd does for machine IDs. */
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif
                if (getrandom(b, sizeof b, GRND_INSECURE) != sizeof b &&
                    getrandom(b, sizeof b, 0) != sizeof b) {
                        log_warning_errno(negative_errno(), "cannot make a machine ID");
                        return;
                }
                b[6] = (b[6] & 0x0f) | 0x40;
                b[8] = (b[8] & 0x3f) | 0x80;
                for (size_t i = 0; i < 16; i++)
                        snprintf(id + 2 * i, 3, "%02x", b[i]);
        }
        id[32] = '\n';
        id[33] = 0;
        if (made) {
                (void) mkdir_parents(keep, 0755);
                r = write_file_atomic(keep, id, 33, 0444);
                if (r < 0)
                        log_warning_errno(r, "cannot write %s", keep);
        }
        if (first) {
                log_info("first boot of this machine");
                r = firstboot_done(STAGE1_SYSROOT, FIRSTBOOT_TASK_MACHINE_ID);
                if (r < 0)
                        log_warning_errno(r, "cannot record first-boot task %s",
                                          FIRSTBOOT_TASK_MACHINE_ID);
                (void) mkdir_parents(FIRSTBOOT_FLAG, 0755);
                r = write_file_atomic(FIRSTBOOT_FLAG, "1\n", 2, 0644);
                if (r < 0)
                        log_warning_errno(r, "cannot write %s", FIRSTBOOT_FLAG);
        }
        r = write_file_atomic(STAGE1_SYSROOT "/etc/machine-id", id, 33, 0444);
        if (r < 0)
                log_warning_errno(r, "cannot write /etc/machine-id");
}

static void setup_etc(void) {
        int r = mount_one("tmpfs", STAGE1_SYSROOT "/etc", "tmpfs", MS_NOSUID | MS_NODEV,
                          "mode=0755");
        if (r < 0)
                fail("cannot mount tmpfs on /etc: %s", strerror(-r));
        r = copy_tree(STAGE1_SYSROOT "/usr/share/factory/etc", STAGE1_SYSROOT "/etc", 0,
                      COPY_OWNER);
        if (r < 0)
                log_warning_errno(r, "/etc is incomplete: copying the factory tree failed");
        write_machine_id();
}

static void setup_var(void) {
        static const struct {
                const char *path;
                mode_t mode;
        } dirs[] = {
                { "var/lib", 0755 },        { "var/log", 0755 },
                { "var/log/berth", 0755 },  { "var/tmp", 01777 },
                { "var/lib/berth", 0755 },  { "var/lib/containerd", 0711 },
                { "var/lib/dhcpcd", 0755 },
        };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char p[PATH_MAX];
                snprintf(p, sizeof p, STAGE1_SYSROOT "/%s", dirs[i].path);
                if (mkdir_p(p, dirs[i].mode) < 0 || chmod(p, dirs[i].mode) < 0)
                        log_warning_errno(negative_errno(), "cannot create %s", p);
        }
}

/* Frees the initramfs (rootfs) before leaving it: everything but /sysroot,
 * never crossing into other file systems. */
static void clean_initramfs(void) {
        struct statfs sfs;
        if (statfs("/", &sfs) < 0 || (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC)) {
                log_warning("/ is not an initramfs, not deleting its contents");
                return;
        }
        DIR *d = opendir("/");
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                char p[PATH_MAX];
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    streq(de->d_name, "sysroot"))
                        continue;
                snprintf(p, sizeof p, "/%s", de->d_name);
                (void) rm_rf(p);
        }
        closedir(d);
}

_noreturn_ static void switch_root(void) {
        static const char *const moves[] = { "/dev", "/proc", "/sys", "/run" };

        timeline("switch-root");
        for (size_t i = 0; i < ELEMENTSOF(moves); i++) {
                char target[PATH_MAX];
                snprintf(target, sizeof target, STAGE1_SYSROOT "%s", moves[i]);
                (void) mkdir_p(target, 0755);
                if (mount(moves[i], target, NULL, MS_MOVE, NULL) < 0)
                        fail("cannot move %s to %s: %m", moves[i], target);
        }
        /* The console fd stays valid across the move. */
        clean_initramfs();

        if (chdir(STAGE1_SYSROOT) < 0)
                fail("cannot enter %s: %m", STAGE1_SYSROOT);
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                fail("cannot move %s to /: %m", STAGE1_SYSROOT);
        if (chroot(".") < 0 || chdir("/") < 0)
                fail("cannot chroot into the new root: %m");

        char *argv[] = { (char *) STAGE2_PATH, NULL };
        execv(STAGE2_PATH, argv);
        fail("cannot execute %s: %m", STAGE2_PATH);
}

_noreturn_ void stage1_main(void) {
        char hex[128], slot[16] = "", data_uuid[UUID_STRING_SIZE], verity_uuid[UUID_STRING_SIZE];
        char data_dev[PATH_MAX], hash_dev[PATH_MAX], root_dev[PATH_MAX];
        uint8_t hash[USR_HASH_SIZE];
        BlockInfo data, verity, root;
        int r;

        umask(0022);
        mount_api();
        open_console();
        log_set_prefix("berth");
        timeline("init-start");

        if (proc_cmdline_get("usrhash", hex, sizeof hex) <= 0)
                fail("no usrhash= on the kernel command line, cannot verify /usr");
        if (usrhash_parse(hex, hash) < 0)
                fail("usrhash= is not 64 hex digits: %s", hex);
        (void) proc_cmdline_get("berth.slot", slot, sizeof slot);
        usr_partuuids(hash, data_uuid, verity_uuid);
        log_info("slot %s: usr partition %s, verity partition %s", isempty(slot) ? "?" : slot,
                 data_uuid, verity_uuid);

        UsrParts parts = { .data = data_uuid, .verity = verity_uuid };
        r = modules_load_list_file(STAGE1_MODULES_LIST, usr_found, &parts);
        if (r > 0)
                log_warning("%d module(s) failed to load", r);

        if (wait_for(blockdev_match_partuuid, data_uuid, &data) <= 0)
                fail("cannot find the usr partition PARTUUID=%s (slot %s)", data_uuid,
                     isempty(slot) ? "?" : slot);
        if (wait_for(blockdev_match_partuuid, verity_uuid, &verity) <= 0)
                fail("cannot find the usr-verity partition PARTUUID=%s (slot %s)", verity_uuid,
                     isempty(slot) ? "?" : slot);
        snprintf(data_dev, sizeof data_dev, "/dev/%s", data.name);
        snprintf(hash_dev, sizeof hash_dev, "/dev/%s", verity.name);
        if (!isempty(data.disk)) {
                BlockInfo first;
                const char *found = blockdev_find(match_earlier_usr, &data, &first) > 0 ? "b" : "a";
                if (!isempty(slot) && !streq(slot, found))
                        log_warning("berth.slot=%s, but /usr is slot %s's partition %s", slot,
                                    found, data.name);
                (void) mkdir_parents(SLOT_RUN_FILE, 0755);
                r = write_file_atomic(SLOT_RUN_FILE, found, 1, 0644);
                if (r < 0)
                        log_warning_errno(r, "cannot write " SLOT_RUN_FILE);
        }

        find_root(&data, &root);
        snprintf(root_dev, sizeof root_dev, "/dev/%s", root.name);
        /* The root file system holds /var (containers' state, settings): no
         * set-user-ID programs and no device nodes on it (CIS 1.1.x); /usr,
         * /etc and /dev are mounts of their own. */
        r = mount_one(root_dev, STAGE1_SYSROOT, "ext4", MS_NOATIME | MS_NOSUID | MS_NODEV, NULL);
        if (r < 0)
                fail("cannot mount root %s on %s: %s", root_dev, STAGE1_SYSROOT, strerror(-r));
        if (firstboot_pending(STAGE1_SYSROOT, FIRSTBOOT_TASK_GROWFS) && !isempty(root.disk))
                grow_root(&root);

        r = dm_verity_open("usr", data_dev, hash_dev, hash, sizeof hash);
        if (r < 0)
                fail("cannot open dm-verity for usr (data %s, hash %s): %s", data_dev, hash_dev,
                     error_message(r));
        if (r > 0)
                log_warning("dm-verity usr: the kernel found a corrupt block right after "
                            "activation (data %s, hash %s)",
                            data_dev, hash_dev);
        r = mount_one("/dev/mapper/usr", STAGE1_SYSROOT "/usr", "erofs", MS_RDONLY | MS_NODEV,
                      NULL);
        if (r < 0)
                fail("cannot mount /dev/mapper/usr (erofs) on /usr: %s", strerror(-r));
        mount_esp(&data);

        setup_etc();
        setup_var();
        switch_root();
}
