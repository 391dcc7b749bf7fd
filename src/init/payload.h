/* SPDX-License-Identifier: MIT */
/* payload.h: the test payload of docs/architecture.md: the file system
 * labelled BERTHPAYLOAD, mounted read-only. Only with berth.payload=1, and
 * only in images built with [Test] Payload=yes. */
#pragma once

#define PAYLOAD_LABEL "BERTHPAYLOAD"
#define PAYLOAD_DIR "/run/berth/payload"
/* Written by the composer for specs with [Test] Payload=yes, under /usr so
 * dm-verity covers it: without it berth.payload=1 is ignored. */
#define PAYLOAD_MARKER "/usr/lib/berth/test-payload"

/* Finds the file system labelled BERTHPAYLOAD (waiting up to 5 s for it to
 * appear) and mounts it read-only at dir (ext4, then iso9660, vfat). */
int payload_mount(const char *dir);
