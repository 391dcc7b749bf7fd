/* SPDX-License-Identifier: MIT */
#include "gpt.h"

#include <errno.h>
#include <ctype.h>
#include <libfdisk.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_context *, fdisk_unref_context);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_partition *, fdisk_unref_partition);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_parttype *, fdisk_unref_parttype);

int gpt_write(const char *path, const char *disk_uuid, const GptPartition *parts, size_t n) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
        struct fdisk_label *lb;
        int r;

        cxt = fdisk_new_context();
        if (!cxt)
                return -ENOMEM;
        r = fdisk_assign_device(cxt, path, 0);
        if (r < 0)
                return r;
        (void) fdisk_disable_dialogs(cxt, 1);
        r = fdisk_create_disklabel(cxt, "gpt");
        if (r < 0)
                return r;
        r = fdisk_set_disklabel_id_from_string(cxt, disk_uuid);
        if (r < 0)
                return r;
        lb = fdisk_get_label(cxt, NULL);
        if (!lb)
                return -EINVAL;

        for (size_t i = 0; i < n; i++) {
                _cleanup_(fdisk_unref_partitionp) struct fdisk_partition *pa = NULL;
                _cleanup_(fdisk_unref_parttypep) struct fdisk_parttype *t = NULL;

                if (parts[i].offset % GPT_SECTOR || parts[i].size % GPT_SECTOR)
                        return -EINVAL;
                pa = fdisk_new_partition();
                t = fdisk_label_get_parttype_from_string(lb, parts[i].type);
                if (!pa || !t)
                        return -ENOMEM;
                if ((r = fdisk_partition_set_partno(pa, i)) < 0 ||
                    (r = fdisk_partition_set_start(pa, parts[i].offset / GPT_SECTOR)) < 0 ||
                    (r = fdisk_partition_set_size(pa, parts[i].size / GPT_SECTOR)) < 0 ||
                    (r = fdisk_partition_set_type(pa, t)) < 0 ||
                    (r = fdisk_partition_set_name(pa, parts[i].label)) < 0 ||
                    (r = fdisk_partition_set_uuid(pa, parts[i].uuid)) < 0)
                        return r;
                /* Bit 60: read-only, honoured by systemd-gpt-auto and
                 * meaningful for the verity-protected usr pairs. */
                if (parts[i].read_only && (r = fdisk_partition_set_attrs(pa, "GUID:60")) < 0)
                        return r;
                r = fdisk_add_partition(cxt, pa, NULL);
                if (r < 0)
                        return r;
        }
        r = fdisk_write_disklabel(cxt);
        if (r < 0)
                return r;
        return fdisk_deassign_device(cxt, 0);
}

static int open_gpt(const char *disk, struct fdisk_context **ret) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context();
        int r;

        if (!cxt)
                return -ENOMEM;
        /* Opening the label fixes the backup GPT header location in memory:
         * libfdisk relocates it to the end of a grown disk unless told not to. */
        r = fdisk_assign_device(cxt, disk, /* readonly= */ 0);
        if (r < 0)
                return r;
        (void) fdisk_disable_dialogs(cxt, 1);
        if (!fdisk_is_label(cxt, GPT))
                return -EMEDIUMTYPE;
        *ret = TAKE_PTR(cxt);
        return 0;
}

int gpt_grow_partition(const char *disk, unsigned partno, uint64_t *ret_start, uint64_t *ret_size) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
        _cleanup_(fdisk_unref_partitionp) struct fdisk_partition *want = NULL, *before = NULL,
                                                                 *after = NULL;
        int r;

        if (partno == 0)
                return -EINVAL;
        r = open_gpt(disk, &cxt);
        if (r < 0)
                return r;
        r = fdisk_get_partition(cxt, partno - 1, &before);
        if (r < 0)
                return r;
        if (!fdisk_partition_has_start(before))
                return -EINVAL;
        /* An explicit size up to the last usable sector: libfdisk resizes an
         * existing partition only when it is given a start or a size, not for
         * end_follow_default alone. On a grown disk the last usable sector is
         * already the new one: opening the label relocated the backup header. */
        fdisk_sector_t first = fdisk_partition_get_start(before), last = fdisk_get_last_lba(cxt);
        if (last < first)
                return -EINVAL;
        want = fdisk_new_partition();
        if (!want)
                return -ENOMEM;
        r = fdisk_partition_set_size(want, last - first + 1);
        if (r < 0)
                return r;
        r = fdisk_set_partition(cxt, partno - 1, want);
        if (r < 0)
                return r;
        r = fdisk_get_partition(cxt, partno - 1, &after);
        if (r < 0)
                return r;

        uint64_t ss = fdisk_get_sector_size(cxt);
        uint64_t start = fdisk_partition_get_start(after) * ss;
        uint64_t old_size = fdisk_partition_get_size(before) * ss;
        uint64_t new_size = fdisk_partition_get_size(after) * ss;

        if (ret_start)
                *ret_start = start;
        if (new_size <= old_size) {
                if (ret_size)
                        *ret_size = old_size;
                return 0;
        }
        r = fdisk_write_disklabel(cxt);
        if (r < 0)
                return r;
        r = fdisk_deassign_device(cxt, /* nosync= */ 0);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = new_size;
        return 1;
}

int gpt_set_partition(const char *disk, unsigned partno, const char *label, const char *uuid) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
        _cleanup_(fdisk_unref_partitionp) struct fdisk_partition *pa = NULL;
        int r;

        if (partno == 0)
                return -EINVAL;
        r = open_gpt(disk, &cxt);
        if (r < 0)
                return r;
        pa = fdisk_new_partition();
        if (!pa)
                return -ENOMEM;
        if (label && (r = fdisk_partition_set_name(pa, label)) < 0)
                return r;
        if (uuid && (r = fdisk_partition_set_uuid(pa, uuid)) < 0)
                return r;
        r = fdisk_set_partition(cxt, partno - 1, pa);
        if (r < 0)
                return r;
        r = fdisk_write_disklabel(cxt);
        if (r < 0)
                return r;
        return fdisk_deassign_device(cxt, /* nosync= */ 0);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct fdisk_table *, fdisk_unref_table);

static void copy_lower(char *dst, size_t size, const char *src) {
        snprintf(dst, size, "%s", src ?: "");
        for (char *p = dst; *p; p++)
                *p = (char) tolower((unsigned char) *p);
}

int gpt_read(const char *disk, GptEntry ret[static GPT_ENTRIES_MAX], size_t *ret_n) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = NULL;
        _cleanup_(fdisk_unref_tablep) struct fdisk_table *tb = NULL;
        struct fdisk_partition *pa;
        struct fdisk_iter *itr;
        size_t n = 0;
        int r;

        cxt = fdisk_new_context();
        if (!cxt)
                return -ENOMEM;
        r = fdisk_assign_device(cxt, disk, /* readonly= */ 1);
        if (r == -EINVAL) /* libfdisk: too small to hold any partition table */
                return error_setf(ENOMEDIUM, "%s: no GPT partition table", disk);
        if (r < 0)
                return error_wrapf(r, "cannot open %s", disk);
        if (!fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
                return error_setf(ENOMEDIUM, "%s: no GPT partition table", disk);
        r = fdisk_get_partitions(cxt, &tb);
        if (r < 0)
                return error_wrapf(r, "%s: cannot read the partition table", disk);
        itr = fdisk_new_iter(FDISK_ITER_FORWARD);
        if (!itr)
                return -ENOMEM;
        uint64_t ss = fdisk_get_sector_size(cxt);
        while (fdisk_table_next_partition(tb, itr, &pa) == 0) {
                struct fdisk_parttype *t;
                if (!fdisk_partition_is_used(pa) || !fdisk_partition_has_partno(pa))
                        continue;
                if (n >= GPT_ENTRIES_MAX)
                        break;
                GptEntry *e = &ret[n++];
                *e = (GptEntry){
                        .partno = (unsigned) fdisk_partition_get_partno(pa) + 1,
                        .offset = fdisk_partition_get_start(pa) * ss,
                        .size = fdisk_partition_get_size(pa) * ss,
                };
                snprintf(e->label, sizeof e->label, "%s", fdisk_partition_get_name(pa) ?: "");
                t = fdisk_partition_get_type(pa);
                copy_lower(e->type, sizeof e->type, t ? fdisk_parttype_get_string(t) : NULL);
                copy_lower(e->uuid, sizeof e->uuid, fdisk_partition_get_uuid(pa));
        }
        fdisk_free_iter(itr);
        *ret_n = n;
        return 0;
}
