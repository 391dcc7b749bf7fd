/* SPDX-License-Identifier: MIT */
/* vmpayload.h: turns a host directory into the read-only test payload disk the
 * guest mounts at /run/berth/payload (ext4, label BERTHPAYLOAD, a `run`
 * executable at its top). See docs/vm.md for the contract. */
#pragma once

#define VM_PAYLOAD_LABEL "BERTHPAYLOAD"
/* Where berth-init mounts the payload; the interpreter path of a --run script. */
#define VM_PAYLOAD_MOUNT "/run/berth/payload"
/* Words that make berth-init run the payload and power off afterwards. */
#define VM_PAYLOAD_CMDLINE "berth.payload=1 berth.payload.poweroff=1"

/* Builds workdir/payload.ext4 from dir. If run is not NULL, dir is copied to
 * workdir and a `run` script is written into the copy:
 *   #!/run/berth/payload/bin/busybox sh
 *   <run>
 * which needs dir/bin/busybox (the guest has no shell of its own). Without run,
 * dir/run must be an executable. The image path (owned by the caller) goes to
 * ret_image. The input directory is never modified. */
int vmpayload_make_image(const char *dir, const char *run, const char *workdir, char **ret_image);
