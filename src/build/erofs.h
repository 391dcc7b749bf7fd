/* SPDX-License-Identifier: MIT */
/* erofs.h: the /usr image, made with mkfs.erofs reproducibly: fixed
 * timestamp (-T source_date_epoch), UUID derived from the inputs (-U), all
 * files owned as in the tree, compressor from the spec. */
#pragma once

#include <stdint.h>

int erofs_make(const char *tree, const char *dest, const char *compression,
               int64_t source_date_epoch, const char *uuid);
