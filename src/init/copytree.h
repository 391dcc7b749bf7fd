/* SPDX-License-Identifier: MIT */
/* copytree.h: recursive copy that keeps modes, owners and symlinks, used to
 * render /etc from /usr/share/factory/etc at every boot. Needs only libc. */
#pragma once

/* Copies the contents of directory FROM into directory TO (which must exist):
 * regular files, directories and symlinks, with mode and owner; other file
 * types are skipped. Existing files in TO are replaced. */
int copy_tree(const char *from, const char *to);
