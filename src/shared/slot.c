/* SPDX-License-Identifier: MIT */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "macro.h"

const char *slot_to_string(Slot s) {
        static const char *const names[_SLOT_MAX] = { [SLOT_A] = "a", [SLOT_B] = "b" };
        return s >= 0 && s < _SLOT_MAX ? names[s] : NULL;
}

Slot slot_from_string(const char *s) {
        if (!s || !s[0] || s[1])
                return _SLOT_INVALID;
        switch (s[0]) {
        case 'a':
        case 'A':
                return SLOT_A;
        case 'b':
        case 'B':
                return SLOT_B;
        default:
                return _SLOT_INVALID;
        }
}

Slot slot_other(Slot s) {
        switch (s) {
        case SLOT_A:
                return SLOT_B;
        case SLOT_B:
                return SLOT_A;
        default:
                return _SLOT_INVALID;
        }
}

/* A decimal counter of at most 3 digits, no sign, no leading zeros but "0". */
static int parse_counter(const char *s, size_t n, int *ret) {
        int v = 0;
        if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int boot_entry_parse(const char *filename, BootEntry *ret) {
        static const char *const suffixes[] = { ".conf", ".efi" };
        BootEntry e = { .tries_left = -1 };
        const char *p, *end = NULL;
        size_t n;

        if (!filename || !ret || strlen(filename) >= BOOT_ENTRY_NAME_MAX)
                return -EINVAL;
        if (strncmp(filename, "berth-", 6) != 0)
                return -EINVAL;
        p = filename + 6;
        char slot[2] = { p[0], 0 };
        e.slot = slot_from_string(slot);
        if (e.slot < 0 || p[0] < 'a' || p[0] > 'z')
                return -EINVAL;
        p++;
        n = strlen(p);
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t l = strlen(suffixes[i]);
                if (n >= l && streq(p + n - l, suffixes[i])) {
                        end = p + n - l;
                        strcpy(e.suffix, suffixes[i]);
                        break;
                }
        }
        if (!end)
                return -EINVAL;
        if (p == end) {
                *ret = e;
                return 0;
        }
        if (*p != '+')
                return -EINVAL;
        p++;
        const char *dash = memchr(p, '-', (size_t) (end - p));
        if (parse_counter(p, (size_t) ((dash ?: end) - p), &e.tries_left) < 0)
                return -EINVAL;
        if (dash && parse_counter(dash + 1, (size_t) (end - dash - 1), &e.tries_done) < 0)
                return -EINVAL;
        *ret = e;
        return 0;
}

int boot_entry_format(const BootEntry *e, char buf[static BOOT_ENTRY_NAME_MAX]) {
        const char *s = slot_to_string(e->slot);
        int n;

        if (!s || (!streq(e->suffix, ".conf") && !streq(e->suffix, ".efi")) ||
            e->tries_left > 999 || e->tries_done < 0 || e->tries_done > 999)
                return -EINVAL;
        if (e->tries_left < 0)
                n = snprintf(buf, BOOT_ENTRY_NAME_MAX, "berth-%s%s", s, e->suffix);
        else if (e->tries_done == 0)
                n = snprintf(buf, BOOT_ENTRY_NAME_MAX, "berth-%s+%d%s", s, e->tries_left,
                             e->suffix);
        else
                n = snprintf(buf, BOOT_ENTRY_NAME_MAX, "berth-%s+%d-%d%s", s, e->tries_left,
                             e->tries_done, e->suffix);
        return n > 0 && n < BOOT_ENTRY_NAME_MAX ? 0 : -ENAMETOOLONG;
}

int boot_entry_new_name(Slot slot, unsigned tries, const char *suffix,
                        char buf[static BOOT_ENTRY_NAME_MAX]) {
        BootEntry e = { .slot = slot, .tries_left = tries > 0 ? (int) tries : -1 };
        if (!suffix || strlen(suffix) >= sizeof e.suffix || tries > 999)
                return -EINVAL;
        strcpy(e.suffix, suffix);
        return boot_entry_format(&e, buf);
}

int boot_entry_bless(int dirfd, const char *filename) {
        char blessed[BOOT_ENTRY_NAME_MAX];
        BootEntry e;
        int r;

        r = boot_entry_parse(filename, &e);
        if (r < 0)
                return r;
        if (!boot_entry_is_counting(&e))
                return 0;
        e.tries_left = -1;
        e.tries_done = 0;
        r = boot_entry_format(&e, blessed);
        if (r < 0)
                return r;
        if (renameat2(dirfd, filename, dirfd, blessed, RENAME_NOREPLACE) < 0)
                return -errno;
        if (fsync(dirfd) < 0)
                return -errno;
        return 1;
}

char *slot_cmdline(const char *root_hash, Slot slot, const char *extra) {
        if (!root_hash || !slot_to_string(slot))
                return NULL;
        return strdup_printf("usrhash=%s berth.slot=%s%s%s", root_hash, slot_to_string(slot),
                             isempty(extra) ? "" : " ", strempty(extra));
}

int slot_cmdline_retarget(const char *cmdline, const char *root_hash, Slot slot, char **ret) {
        _cleanup_free_ char *copy = strdup(cmdline ?: ""), *extra = NULL;
        bool hash_seen = false;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        extra = calloc(1, strlen(copy) + 1);
        if (!extra)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                if (strneq(w, "usrhash=", 8)) {
                        if (!streq(w + 8, root_hash))
                                return error_setf(EBADMSG,
                                                  "the release's command line has "
                                                  "usrhash=%.16s..., its signed root hash is "
                                                  "%.16s...",
                                                  w + 8, root_hash);
                        hash_seen = true;
                        continue;
                }
                if (strneq(w, "berth.slot=", 11))
                        continue;
                if (extra[0])
                        strcat(extra, " ");
                strcat(extra, w);
        }
        if (!hash_seen)
                return error_setf(EBADMSG, "the release's command line has no usrhash=");
        *ret = slot_cmdline(root_hash, slot, extra);
        return *ret ? 0 : -ENOMEM;
}

char *boot_entry_text(const char *image_name, const char *version, Slot slot, const char *cmdline) {
        const char *sn = slot_to_string(slot);
        char kernel[32], initrd[32];

        if (!sn)
                return NULL;
        snprintf(kernel, sizeof kernel, BOOT_KERNEL_FMT, sn);
        snprintf(initrd, sizeof initrd, BOOT_INITRD_FMT, sn);
        return strdup_printf("title %s %s (slot %s)\n"
                             "sort-key berth\n"
                             "version %s\n"
                             "linux %s\n"
                             "initrd %s\n"
                             "options %s\n",
                             image_name, version, sn, version, kernel, initrd, strempty(cmdline));
}

int boot_entry_text_version(const char *text, char **ret) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (!strneq(l, "version", 7) || (l[7] != ' ' && l[7] != '\t'))
                        continue;
                const char *v = l + 7 + strspn(l + 7, " \t");
                size_t n = strcspn(v, " \t\r\n");
                if (n == 0)
                        break;
                *ret = strndup(v, n);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}
