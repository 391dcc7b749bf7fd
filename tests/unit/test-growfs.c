/* SPDX-License-Identifier: MIT */
/* First-boot growth, on a real loop device: the root partition grows to the
 * end of the disk (GPT backup header moved, the kernel told with BLKPG while
 * the file system is mounted), then the mounted ext4 grows online; a disk
 * that got bigger later grows again. (The first version of this test found
 * that the partition never grew: libfdisk ignored end_follow_default alone.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cmocka.h>

#include "fileio.h"
#include "growfs.h"
#include "loopdev.h"
#include "macro.h"
#include "partition.h"

#define MiB (UINT64_C(1) << 20)
#define ROOT_START (2 * MiB)
#define ROOT_SIZE (16 * MiB)

static char dir[] = "/tmp/berth-test-growfs-XXXXXX";
static LoopDisk disk;

/* The size in bytes of /sys/class/block/NAME: what the kernel believes. */
static uint64_t kernel_size(const char *name) {
        _cleanup_free_ char *p = strdup_printf("/sys/class/block/%s/size", name), *d = NULL;
        assert_int_equal(read_full_file(p, &d, NULL, 0), 0);
        return strtoull(d, NULL, 10) * 512;
}

/* Block count × block size of the ext4 on dev, from its superblock. */
static uint64_t ext4_size(const char *dev) {
        _cleanup_free_ char *cmd =
                strdup_printf("dumpe2fs -h '%s' 2>/dev/null | awk -F: '/^Block count/ {c=$2} "
                              "/^Block size/ {s=$2} END {printf \"%%d\\n\", c * s}'",
                              dev);
        char line[64] = "";
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(pclose(f), 0);
        return strtoull(line, NULL, 10);
}

static bool have_cap_sys_resource(void) {
        _cleanup_free_ char *d = NULL;
        const char *eff;
        if (read_full_file("/proc/self/status", &d, NULL, 0) < 0 || !(eff = strstr(d, "CapEff:")))
                return false;
        return (strtoull(eff + 7, NULL, 16) >> 24) & 1; /* CAP_SYS_RESOURCE */
}

/* The last usable sector of a GPT disk of that many bytes: 33 sectors
 * (backup entries and header) stay free at the end. */
static uint64_t last_usable_end(uint64_t disk_bytes) {
        return disk_bytes - 33 * 512;
}

static void test_root_grows_to_the_end_of_the_disk_and_ext4_follows_online(void **state) {
        _cleanup_free_ char *file = path_join(dir, "disk.img"), *mnt = path_join(dir, "mnt"),
                            *data = NULL, *probe = NULL, *back = NULL;
        const GptPartition parts[] = {
                { .label = "esp",
                  .type = PART_TYPE_ESP,
                  .uuid = "1c3f7e2a-0d4b-4c6e-8f1a-2b3c4d5e6f70",
                  .offset = 1 * MiB,
                  .size = 1 * MiB },
                { .label = PART_LABEL_ROOT,
                  .type = PART_TYPE_ROOT_X86_64,
                  .uuid = "6e2f4c1a-9b3d-4e8f-a1c2-d3e4f5061728",
                  .offset = ROOT_START,
                  .size = ROOT_SIZE },
        };
        char root[96], name[96];
        uint64_t size = 0;
        struct statvfs before, after;

        if (!loop_usable() || shellf("command -v mkfs.ext4 dumpe2fs >/dev/null") != 0)
                skip_test("no loop device (needs root, losetup, partx, e2fsprogs)");
        assert_int_equal(loop_create(&disk, file, 64 * MiB, "0b6c8e2a-5b1f-4c57-9b7e-3a0f4d2c1e01",
                                     parts, ELEMENTSOF(parts)),
                         0);
        loop_part(&disk, 2, root, sizeof root);
        snprintf(name, sizeof name, "%sp2", disk.name);
        assert_int_equal(shellf("mkfs.ext4 -q -L root '%s'", root), 0);
        assert_int_equal(mkdir(mnt, 0755), 0);
        assert_int_equal(mount(root, mnt, "ext4", 0, NULL), 0);
        probe = path_join(mnt, "data");
        assert_int_equal(write_file_atomic(probe, "kept across the resize\n", 23, 0644), 0);
        assert_int_equal(statvfs(mnt, &before), 0);
        assert_int_equal(kernel_size(name), ROOT_SIZE);

        /* The partition grows to the last usable sector, the kernel knows
         * at once although the partition is mounted. */
        assert_int_equal(growfs_partition(disk.dev, 2, &size), 1);
        assert_int_equal(size, last_usable_end(64 * MiB) - ROOT_START);
        assert_int_equal(kernel_size(name), size);
        /* The table on disk says so too (read back by sfdisk). */
        _cleanup_free_ char *cmd = strdup_printf(
                "sfdisk --dump '%s' | grep -q 'start= *%llu, size= *%llu,'", disk.file,
                (unsigned long long) (ROOT_START / 512), (unsigned long long) (size / 512));
        assert_int_equal(system(cmd), 0);

        /* The file system follows, online. The kernel wants CAP_SYS_RESOURCE
         * for that, which PID 1 has and a sandboxed test machine may not:
         * there the ioctl must be refused for that reason and nothing else
         * (vm-boot checks the online growth in a guest). */
        if (!have_cap_sys_resource()) {
                print_message("no CAP_SYS_RESOURCE: the ext4 resize must be refused with EPERM\n");
                assert_int_equal(growfs_ext4(mnt, size), -EPERM);
                assert_int_equal(ext4_size(root), ROOT_SIZE);
        } else {
                assert_int_equal(growfs_ext4(mnt, size), 0);
                assert_int_equal(statvfs(mnt, &after), 0);
                assert_true(after.f_blocks * after.f_frsize >
                            3 * before.f_blocks * before.f_frsize);
                assert_int_equal(ext4_size(root), size / 4096 * 4096);
        }
        assert_int_equal(read_full_file(probe, &data, NULL, 0), 0);
        assert_string_equal(data, "kept across the resize\n");

        /* Nothing left to grow. */
        assert_int_equal(growfs_partition(disk.dev, 2, &size), 0);
        assert_int_equal(size, last_usable_end(64 * MiB) - ROOT_START);

        /* The disk gets bigger (a cloud volume resized): the backup header
         * moves to the new end and the partition grows again. */
        assert_int_equal(truncate(disk.file, (off_t) (96 * MiB)), 0);
        assert_int_equal(shellf("losetup --set-capacity '%s'", disk.dev), 0);
        assert_int_equal(growfs_partition(disk.dev, 2, &size), 1);
        assert_int_equal(size, last_usable_end(96 * MiB) - ROOT_START);
        assert_int_equal(kernel_size(name), size);
        if (have_cap_sys_resource()) {
                assert_int_equal(growfs_ext4(mnt, size), 0);
                assert_int_equal(ext4_size(root), size / 4096 * 4096);
        }
        back = strdup_printf("sfdisk --verify '%s' >/dev/null 2>&1", disk.file);
        assert_int_equal(system(back), 0);

        assert_int_equal(umount(mnt), 0);
        assert_int_equal(shellf("e2fsck -fn '%s' >/dev/null 2>&1", root), 0);
        loop_remove(&disk);
}

static void test_errors(void **state) {
        _cleanup_free_ char *plain = path_join(dir, "plain.img");
        uint64_t size;

        /* Not a GPT disk; a partition number the table does not have. */
        assert_int_equal(write_file_atomic(plain, "", 0, 0644), 0);
        assert_int_equal(truncate(plain, (off_t) (4 * MiB)), 0);
        assert_true(growfs_partition(plain, 1, &size) < 0);
        assert_true(growfs_partition("/nonexistent/disk", 1, &size) < 0);
        /* Not ext4: the resize ioctl is refused. */
        assert_true(growfs_ext4(dir, 64 * MiB) < 0);
        assert_int_equal(growfs_ext4("/nonexistent", 64 * MiB), -ENOENT);
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        _cleanup_free_ char *mnt = path_join(dir, "mnt");
        (void) umount(mnt);
        loop_remove(&disk);
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_grows_to_the_end_of_the_disk_and_ext4_follows_online),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
