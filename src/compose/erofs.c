/* SPDX-License-Identifier: MIT */
#include "erofs.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "spawn-util.h"
#include "strv.h"

#define EROFS_PCLUSTER_BYTES "65536"

int erofs_make(const char *tree, const char *dest, const char *compression,
               int64_t source_date_epoch, const char *uuid) {
        _cleanup_free_ char *tmp = NULL, *ts = NULL, *zopt = NULL, *uopt = NULL;
        char *argv[14];
        size_t i = 0;
        struct stat st;
        int r;

        if (!tree || !dest || source_date_epoch < 0)
                return -EINVAL;
        if (stat(tree, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        tmp = strdup_printf("%s.tmp", dest);
        ts = strdup_printf("-T%" PRIi64, source_date_epoch);
        if (!tmp || !ts)
                return -ENOMEM;

        argv[i++] = (char *) "mkfs.erofs";
        argv[i++] = (char *) "--quiet";
        /* -T alone gives every inode the fixed time (TIMESTAMP_FIXED);
         * --ignore-mtime would switch to clamping, so it is not passed. */
        argv[i++] = ts;
        if (!isempty(compression) && !streq(compression, "none")) {
                zopt = strdup_printf("-z%s", compression);
                if (!zopt)
                        return -ENOMEM;
                argv[i++] = zopt;
                /* 64 KiB physical clusters instead of one 4 KiB block: ~12%
                 * smaller for berth's /usr, at the cost of decompressing up to
                 * 64 KiB for a cold 4 KiB read (needs Linux >= 5.13; bookworm
                 * has 6.1). See docs/size.md.
                 *
                 * noinline_data: a file's tail gets a block of its own instead
                 * of sitting beside its inode. With inline tails one added file
                 * shifts every later inode and the tails with it, and most
                 * metadata blocks differ between two versions: on the default
                 * image plus one package, 5.7 % of the blocks were new with
                 * inline tails (-Eztailpacking), 0.5 % without, for 8 % more
                 * image (docs/updates.md, "Layout"). noinline_data together
                 * with ztailpacking would cost less, but erofs-utils 1.5 then
                 * writes some small files as zeros. */
                argv[i++] = (char *) "-C" EROFS_PCLUSTER_BYTES;
                argv[i++] = (char *) "-Enoinline_data";
        }
        if (!isempty(uuid)) {
                uopt = strdup_printf("-U%s", uuid);
                if (!uopt)
                        return -ENOMEM;
                argv[i++] = uopt;
        }
        argv[i++] = tmp;
        argv[i++] = (char *) tree;
        argv[i] = NULL;

        (void) unlink(tmp);
        r = spawn_run(argv, NULL, NULL);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        {
                _cleanup_close_ int fd = open(tmp, O_RDWR | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0) {
                        r = -errno;
                        (void) unlink(tmp);
                        return r;
                }
        }
        if (rename(tmp, dest) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}
