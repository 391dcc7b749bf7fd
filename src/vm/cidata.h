/* SPDX-License-Identifier: MIT */
/* cidata.h: the config drive of `berth vm --cidata`: a volume labelled CIDATA
 * in cloud-init's NoCloud layout (files at its top: user-data, meta-data),
 * which a berth node reads its first-boot user data from (docs/api.md, "User
 * data"). vfat is made with mkfs.vfat and mcopy, iso9660 (Rock Ridge and
 * Joliet names) with xorriso. */
#pragma once

typedef enum CidataFs {
        CIDATA_VFAT,
        CIDATA_ISO9660,
        _CIDATA_FS_MAX,
        _CIDATA_FS_INVALID = -22, /* -EINVAL */
} CidataFs;

#define CIDATA_LABEL "CIDATA"

/* "vfat", "iso9660" and back. */
const char *cidata_fs_to_string(CidataFs fs);
CidataFs cidata_fs_from_string(const char *s);

/* Builds workdir/cidata.{vfat,iso} from src: a directory (its regular files,
 * no subdirectories, go to the top of the volume) or a file (the volume's
 * user-data, next to an empty meta-data). The image path (owned by the
 * caller) goes to ret_image. src is never modified. */
int cidata_make_image(const char *src, CidataFs fs, const char *workdir, char **ret_image);
