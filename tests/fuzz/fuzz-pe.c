/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the PE section reader that gives the updater a unified
 * kernel image's version (pe_read_section, uki_read_version). The UKI comes
 * from an ESP, which whoever can write the disk controls: every header field
 * is outside input. The input goes through a memfd, as the reader takes a
 * path. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("pe", MFD_CLOEXEC);
        _cleanup_free_ char *section = NULL, *version = NULL;
        char path[64];
        int r;

        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        r = pe_read_section(path, ".osrel", 4096, &section);
        if (r < 0 && r != -ENOENT && r != -EBADMSG && r != -EFBIG && r != -ENOMEM)
                __builtin_trap();
        if (r >= 0 && strlen(section) > 4096)
                __builtin_trap();
        r = uki_read_version(path, &version);
        if (r < 0 && r != -ENOENT && r != -EBADMSG && r != -EFBIG && r != -ENOMEM)
                __builtin_trap();
        if (r >= 0 && (isempty(version) || strchr(version, '\n')))
                __builtin_trap();
        return 0;
}
