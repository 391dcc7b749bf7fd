/* SPDX-License-Identifier: MIT */
/* Finding block devices without udev, on a real loop device with a GPT and
 * real file systems: libblkid reads partition numbers, UUIDs, types, labels
 * and file system types the way stage 1 needs them. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "blockdev.h"
#include "fileio.h"
#include "loopdev.h"
#include "macro.h"
#include "partition.h"

#define DISK_UUID "0b6c8e2a-5b1f-4c57-9b7e-3a0f4d2c1e01"
#define ROOT_UUID "6E2F4C1A-9B3D-4E8F-A1C2-D3E4F5061728" /* upper case on purpose */
#define LABEL "BERTHTEST"

static char dir[] = "/tmp/berth-test-blockdev-XXXXXX";
static LoopDisk disk;
static bool have_disk;

#define NEED_DISK()                                                                                \
        do {                                                                                       \
                if (!have_disk)                                                                    \
                        skip_test("no loop device (needs root, losetup, mkfs.ext4, mkfs.fat)");    \
        } while (0)

static void test_partition_with_ext4_is_probed(void **state) {
        BlockInfo b;
        char name[80];

        NEED_DISK();
        snprintf(name, sizeof name, "%sp2", disk.name);
        assert_int_equal(blockdev_probe(name, &b), 0);
        assert_string_equal(b.name, name);
        assert_string_equal(b.disk, disk.name);
        assert_int_equal(b.partno, 2);
        /* UUIDs come back lower case whatever the table holds. */
        assert_string_equal(b.partuuid, "6e2f4c1a-9b3d-4e8f-a1c2-d3e4f5061728");
        assert_string_equal(b.parttype, PART_TYPE_ROOT_X86_64);
        assert_string_equal(b.label, LABEL);
        assert_string_equal(b.fstype, "ext4");
}

static void test_esp_and_empty_partition_and_whole_disk(void **state) {
        BlockInfo b;
        char name[80];

        NEED_DISK();
        snprintf(name, sizeof name, "%sp1", disk.name);
        assert_int_equal(blockdev_probe(name, &b), 0);
        assert_int_equal(b.partno, 1);
        assert_string_equal(b.parttype, PART_TYPE_ESP);
        assert_string_equal(b.fstype, "vfat");
        assert_string_equal(b.label, "BERTHESP");

        /* A partition without a file system: its table entry, no type or label. */
        snprintf(name, sizeof name, "%sp3", disk.name);
        assert_int_equal(blockdev_probe(name, &b), 0);
        assert_int_equal(b.partno, 3);
        assert_string_equal(b.parttype, PART_TYPE_USR_X86_64);
        assert_string_equal(b.fstype, "");
        assert_string_equal(b.label, "");

        /* The whole disk: no partition number, no parent disk. */
        assert_int_equal(blockdev_probe(disk.name, &b), 0);
        assert_int_equal(b.partno, 0);
        assert_string_equal(b.disk, "");
        assert_string_equal(b.partuuid, "");

        assert_true(blockdev_probe("berth-no-such-device", &b) < 0);
}

static void test_matchers(void **state) {
        BlockInfo b = {};
        snprintf(b.partuuid, sizeof b.partuuid, "6e2f4c1a-9b3d-4e8f-a1c2-d3e4f5061728");
        snprintf(b.label, sizeof b.label, LABEL);
        assert_true(blockdev_match_partuuid(&b, ROOT_UUID));
        assert_true(blockdev_match_partuuid(&b, "6e2f4c1a-9b3d-4e8f-a1c2-d3e4f5061728"));
        assert_false(blockdev_match_partuuid(&b, DISK_UUID));
        assert_true(blockdev_match_label(&b, LABEL));
        assert_false(blockdev_match_label(&b, "berthtest")); /* labels are case sensitive */
}

typedef struct Seen {
        unsigned n, loops;
        char first[64];
} Seen;

static bool record(const BlockInfo *info, const void *userdata) {
        Seen *s = (Seen *) userdata;
        if (strneq(info->name, "loop", 4))
                s->loops++;
        if (s->n++ == 0)
                snprintf(s->first, sizeof s->first, "%s", info->name);
        return false;
}

static bool first(const BlockInfo *info, const void *userdata) {
        return true;
}

static void test_find_walks_every_device_but_loop_and_ram(void **state) {
        Seen s = {};
        BlockInfo b;
        unsigned others = 0;

        NEED_DISK();
        /* Our loop partitions carry the label, but loop devices are never
         * candidates: an attached image must not pass for the boot disk. */
        assert_int_equal(blockdev_find(blockdev_match_label, LABEL, &b), 0);
        assert_int_equal(blockdev_find(record, &s, &b), 0);
        assert_int_equal(s.loops, 0);

        DIR *d = opendir("/sys/class/block");
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && !strneq(de->d_name, "loop", 4) &&
                    !strneq(de->d_name, "ram", 3))
                        others++;
        closedir(d);
        /* Every other device that could be probed was offered; the first
         * match is returned. */
        assert_true(s.n <= others);
        if (s.n > 0) {
                assert_int_equal(blockdev_find(first, NULL, &b), 1);
                assert_string_equal(b.name, s.first);
        }
}

static int setup(void **state) {
        _cleanup_free_ char *file = NULL;
        char p1[96], p2[96];
        const GptPartition parts[] = {
                { .label = "esp",
                  .type = PART_TYPE_ESP,
                  .uuid = "1c3f7e2a-0d4b-4c6e-8f1a-2b3c4d5e6f70",
                  .offset = 1 << 20,
                  .size = 8 << 20 },
                { .label = "root",
                  .type = PART_TYPE_ROOT_X86_64,
                  .uuid = ROOT_UUID,
                  .offset = 9 << 20,
                  .size = 16 << 20 },
                { .label = "usr",
                  .type = PART_TYPE_USR_X86_64,
                  .uuid = "2d4e6f80-1a2b-4c3d-9e4f-5a6b7c8d9e0f",
                  .offset = 25 << 20,
                  .size = 4 << 20 },
        };

        if (!mkdtemp(dir))
                return -1;
        if (!loop_usable() || shellf("command -v mkfs.ext4 mkfs.fat >/dev/null") != 0)
                return 0;
        file = path_join(dir, "disk.img");
        if (!file || loop_create(&disk, file, 32 << 20, DISK_UUID, parts, ELEMENTSOF(parts)) < 0)
                return -1;
        loop_part(&disk, 1, p1, sizeof p1);
        loop_part(&disk, 2, p2, sizeof p2);
        if (shellf("mkfs.fat -n BERTHESP '%s' >/dev/null", p1) != 0 ||
            shellf("mkfs.ext4 -q -L " LABEL " '%s'", p2) != 0)
                return -1;
        have_disk = true;
        return 0;
}

static int teardown(void **state) {
        loop_remove(&disk);
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_matchers),
                cmocka_unit_test(test_partition_with_ext4_is_probed),
                cmocka_unit_test(test_esp_and_empty_partition_and_whole_disk),
                cmocka_unit_test(test_find_walks_every_device_but_loop_and_ram),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
