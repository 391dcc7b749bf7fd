/* SPDX-License-Identifier: MIT */
/* erofs.h: the /usr image, made with mkfs.erofs reproducibly: fixed
 * timestamp (-T source_date_epoch), UUID derived from the inputs (-U), all
 * files owned as in the tree, compressor from the spec. */
#pragma once

#include <stdint.h>

/* Makes dest from the directory tree. compression: "lz4", "lz4hc" (optionally
 * ",LEVEL") or NULL/"none" for an uncompressed image. Every inode gets the
 * timestamp source_date_epoch; owners and modes come from the tree. Written to
 * dest.tmp and renamed; the image size is a multiple of 4096. */
int erofs_make(const char *tree, const char *dest, const char *compression,
               int64_t source_date_epoch, const char *uuid);

/* Runs an outside tool (argv[0] looked up in PATH) with extra environment
 * entries ("KEY=VALUE", NULL-terminated, may be NULL), stdin from /dev/null.
 * stdout and stderr are captured together; on success *ret_output (if not
 * NULL) gets them (caller frees). A tool that exits non-zero has its output
 * logged at error level and gives -EPROTO; -ENOENT if it cannot be run.
 * Composer-internal, used by erofs.c and disk.c. */
int compose_run_tool(char *const argv[], char *const env_extra[], char **ret_output);
