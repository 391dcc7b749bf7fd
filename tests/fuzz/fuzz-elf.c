/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the ELF reader that finds what a binary put into the
 * initramfs needs (elf_read_deps: program headers, PT_INTERP, the dynamic
 * section, DT_NEEDED strings). The binaries come from packages: every offset
 * in them is outside input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfdeps.h"
#include "macro.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **needed = NULL;
        _cleanup_free_ char *interp = NULL, *copy = NULL;
        int r;

        /* An exact-size heap copy: reads past the end hit ASan's redzone,
         * and the reader gets malloc()'s alignment, as from read_full_file(). */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);

        r = elf_read_deps(copy, size, &needed, &interp);
        if (r < 0) {
                if (r != -ENOEXEC && r != -EBADMSG && r != -ENOMEM)
                        __builtin_trap();
                return 0;
        }
        /* What it hands back are names the initramfs builder joins to
         * library directories: never empty, ".", "..", never duplicated. */
        STRV_FOREACH(n, needed) {
                if (isempty(*n) || streq(*n, ".") || streq(*n, ".."))
                        __builtin_trap();
                for (char **m = n + 1; *m; m++)
                        if (streq(*n, *m))
                                __builtin_trap();
        }
        if (interp)
                (void) strlen(interp);
        return 0;
}
