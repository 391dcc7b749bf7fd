/* SPDX-License-Identifier: MIT */
/* payload.h: the test payload of docs/architecture.md: the file system
 * labelled BERTHPAYLOAD, mounted read-only. Only with berth.payload=1. */
#pragma once

#define PAYLOAD_LABEL "BERTHPAYLOAD"
#define PAYLOAD_DIR "/run/berth/payload"

/* Finds the file system labelled BERTHPAYLOAD (waiting up to 5 s for it to
 * appear) and mounts it read-only at dir (ext4, then iso9660, vfat). */
int payload_mount(const char *dir);
