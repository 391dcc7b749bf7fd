/* SPDX-License-Identifier: MIT */
/* vmspawn.h: finding and running the outside programs `berth vm` drives (qemu-img,
 * mkfs.ext4, cp). Needs only libc. Returned strings are owned by the caller. */
#pragma once

#include <stdbool.h>

/* Looks name up in $PATH, then in /usr/sbin and /sbin (mkfs.ext4 lives there
 * and is not in an ordinary user's PATH). An absolute or relative path with a
 * slash is taken as is. Returns -ENOENT if there is no executable of that name. */
int vmspawn_find_program(const char *name, char **ret_path);

/* Runs argv[0] (looked up with vmspawn_find_program) with stdin from /dev/null and,
 * if quiet, stdout to /dev/null; stderr is inherited. Returns 0 if it exited
 * with status 0; logs and returns -EIO if it failed, -ENOENT if it is missing. */
int vmspawn_wait(char *const *argv, bool quiet);
