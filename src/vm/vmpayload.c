/* SPDX-License-Identifier: MIT */
#include "vmpayload.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "spawn-util.h"

#define MIB (UINT64_C(1) << 20)

/* nftw has no user pointer; the walk is single-threaded and short. */
static uint64_t walk_bytes;

static int add_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        /* Data blocks, rounded to the 4 KiB ext4 block, plus an inode's worth. */
        if (S_ISREG(st->st_mode))
                walk_bytes += ((uint64_t) st->st_size + 4095) & ~UINT64_C(4095);
        walk_bytes += 4096;
        return 0;
}

static int tree_size(const char *dir, uint64_t *ret) {
        walk_bytes = 0;
        if (nftw(dir, add_entry, 32, FTW_PHYS) < 0)
                return -errno;
        *ret = walk_bytes;
        return 0;
}

static int write_run_script(const char *root, const char *run) {
        _cleanup_free_ char *path = path_join(root, "run");
        _cleanup_free_ char *script =
                strdup_printf("#!" VM_PAYLOAD_MOUNT "/bin/busybox sh\n"
                              "# written by `berth vm --run`\n"
                              "export PATH=" VM_PAYLOAD_MOUNT "/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                              "%s\n",
                              run);
        if (!path || !script)
                return -ENOMEM;
        (void) unlink(path);
        return write_file_atomic(path, script, strlen(script), 0755);
}

int vmpayload_make_image(const char *dir, const char *run, const char *workdir, char **ret_image) {
        _cleanup_free_ char *root = NULL, *image = NULL, *size_arg = NULL;
        struct stat st;
        uint64_t bytes = 0;
        int r;

        if (stat(dir, &st) < 0)
                return error_wrapf(-errno, "vm: payload directory %s", dir);
        if (!S_ISDIR(st.st_mode))
                return error_setf(ENOTDIR, "vm: payload %s is not a directory", dir);

        if (run) {
                _cleanup_free_ char *busybox = path_join(dir, "bin/busybox");
                if (!busybox)
                        return -ENOMEM;
                if (access(busybox, X_OK) < 0)
                        return error_setf(ENOENT,
                                          "vm: --run needs %s: the guest has no shell, the "
                                          "run script is interpreted by the payload's own busybox "
                                          "(tests/fixtures/mkpayload.sh puts it there)",
                                          busybox);
                root = path_join(workdir, "payload-root");
                if (!root)
                        return -ENOMEM;
                _cleanup_free_ char *from = path_join(dir, ".");
                if (!from)
                        return -ENOMEM;
                char *cp[] = { "cp", "-a", "--reflink=auto", from, root, NULL };
                r = spawn_run(cp, NULL, NULL);
                if (r < 0)
                        return r;
                r = write_run_script(root, run);
                if (r < 0)
                        return error_wrapf(r, "vm: writing %s/run", root);
        } else {
                root = strdup(dir);
                if (!root)
                        return -ENOMEM;
                _cleanup_free_ char *runfile = path_join(dir, "run");
                if (!runfile)
                        return -ENOMEM;
                if (stat(runfile, &st) < 0 || !S_ISREG(st.st_mode) || access(runfile, X_OK) < 0)
                        return error_setf(
                                ENOENT,
                                "vm: payload %s has no executable 'run' (or pass --run CMD)", dir);
        }

        r = tree_size(root, &bytes);
        if (r < 0)
                return error_wrapf(r, "vm: measuring %s", root);
        /* A quarter for metadata and slack, 16 MiB floor for ext4's own tables. */
        bytes = bytes + bytes / 4 + 16 * MIB;
        bytes = (bytes + MIB - 1) / MIB * MIB;

        image = path_join(workdir, "payload.ext4");
        size_arg = strdup_printf("%" PRIu64 "k", bytes / 1024);
        if (!image || !size_arg)
                return -ENOMEM;
        char *mkfs[] = { "mkfs.ext4",      "-q", "-F",           "-L",
                         VM_PAYLOAD_LABEL, "-O", "^has_journal", "-E",
                         "root_owner=0:0", "-d", root,           image,
                         size_arg,         NULL };
        r = spawn_run(mkfs, &(SpawnOptions){ .quiet = true }, NULL);
        if (r < 0)
                return r;
        log_debug("vm: payload %s -> %s (%" PRIu64 " MiB)", dir, image, bytes / MIB);
        *ret_image = TAKE_PTR(image);
        return 0;
}
