/* SPDX-License-Identifier: MIT */
#include "blockdev.h"

#include <blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

static void copy_lower(char *dst, size_t size, const char *src) {
        size_t i = 0;
        for (; src && src[i] && i < size - 1; i++)
                dst[i] = (char) tolower((unsigned char) src[i]);
        dst[i] = 0;
}

static void lookup(blkid_probe pr, const char *tag, char *dst, size_t size, bool lower) {
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, tag, &v, NULL) < 0 || !v)
                return;
        if (lower)
                copy_lower(dst, size, v);
        else
                snprintf(dst, size, "%s", v);
}

/* The disk of a partition is the parent directory of its sysfs node. */
static void find_disk(const char *name, char *ret, size_t size) {
        char p[PATH_MAX], real[PATH_MAX];
        snprintf(p, sizeof p, "/sys/class/block/%s/partition", name);
        if (access(p, F_OK) < 0)
                return;
        snprintf(p, sizeof p, "/sys/class/block/%s", name);
        if (!realpath(p, real))
                return;
        char *slash = strrchr(real, '/');
        if (!slash)
                return;
        *slash = 0;
        slash = strrchr(real, '/');
        const char *disk = slash ? slash + 1 : real;
        if (strlen(disk) < size)
                memcpy(ret, disk, strlen(disk) + 1);
}

int blockdev_probe(const char *name, BlockInfo *ret) {
        BlockInfo info = {};
        char dev[PATH_MAX];

        snprintf(info.name, sizeof info.name, "%s", name);
        find_disk(name, info.disk, sizeof info.disk);
        snprintf(dev, sizeof dev, "/dev/%s", name);

        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe_from_filename(dev);
        if (!pr)
                return errno > 0 ? -errno : -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_TYPE);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
        if (blkid_do_safeprobe(pr) < 0)
                return -EIO;

        const char *partno = NULL;
        if (blkid_probe_lookup_value(pr, "PART_ENTRY_NUMBER", &partno, NULL) == 0 && partno)
                info.partno = (unsigned) strtoul(partno, NULL, 10);
        lookup(pr, "PART_ENTRY_UUID", info.partuuid, sizeof info.partuuid, true);
        lookup(pr, "PART_ENTRY_TYPE", info.parttype, sizeof info.parttype, true);
        lookup(pr, "LABEL", info.label, sizeof info.label, false);
        lookup(pr, "TYPE", info.fstype, sizeof info.fstype, false);

        *ret = info;
        return 0;
}

int blockdev_find(blockdev_match_t match, const void *userdata, BlockInfo *ret) {
        DIR *d = opendir("/sys/class/block");
        if (!d)
                return -errno;

        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                BlockInfo info;
                if (de->d_name[0] == '.')
                        continue;
                /* Loop and ram devices never hold what berth looks for. */
                if (strneq(de->d_name, "loop", 4) || strneq(de->d_name, "ram", 3))
                        continue;
                if (blockdev_probe(de->d_name, &info) < 0)
                        continue;
                if (match(&info, userdata)) {
                        *ret = info;
                        r = 1;
                        break;
                }
        }
        closedir(d);
        return r;
}

bool blockdev_match_partuuid(const BlockInfo *info, const void *uuid) {
        return strcasecmp(info->partuuid, uuid) == 0;
}

bool blockdev_match_label(const BlockInfo *info, const void *label) {
        return streq(info->label, (const char *) label);
}
