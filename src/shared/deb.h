/* SPDX-License-Identifier: MIT */
/* deb.h: Debian archive formats with libarchive, the only place in berth that
 * calls it: .deb packages and compressed repository indexes. The ar member data.tar.{xz,zst,gz,bz2}
 * is extracted into a staging tree:
 *  - merged /usr: /bin, /sbin, /lib, /lib64 (and /lib32, /libx32) members land
 *    under /usr; the root gets the compat symlinks from tailoring;
 *  - paths are confined to the tree (no "..", no absolute symlink escapes on
 *    the way: members are created with openat relative to the root);
 *  - owners are taken from the archive (uid/gid numbers), mtimes clamped to
 *    source_date_epoch, setuid bits kept;
 *  - conflicting regular files between packages: the later one wins, logged.
 * Maintainer scripts are not run. The control.tar's conffiles are returned so
 * tailoring can move /etc into the factory tree. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct DebUnpackOptions {
        int64_t source_date_epoch; /* clamp mtimes to this */
        /* Optional: members (root-relative paths after the /usr merge) this
         * returns true for are not written. Directories and hard links are
         * always written; a hard link to a skipped file fails the unpack. */
        bool (*skip)(const char *path, void *userdata);
        void *skip_userdata;
} DebUnpackOptions;

/* Unpack one .deb into root. ret_files (optional) gets the list of paths it
 * installed, relative to root, after the /usr merge. */
int deb_unpack(const char *deb_path, const char *root, const DebUnpackOptions *o,
               char ***ret_files);

/* Extract a single member path (e.g. "usr/lib/systemd/boot/efi/systemd-bootx64.efi")
 * of a .deb's data archive to dest. */
int deb_extract_file(const char *deb_path, const char *member, const char *dest);

/* Decompresses src (xz, gzip, bzip2, zstd or none, told by content) into dest
 * crash-safely (dest.tmp, then rename). -EBADMSG for a corrupt stream. */
int deb_decompress_file(const char *src, const char *dest);
