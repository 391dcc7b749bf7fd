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
