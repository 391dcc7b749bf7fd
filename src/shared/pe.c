/* SPDX-License-Identifier: MIT */
#include "pe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "unaligned.h"

#define PE_SECTIONS_MAX 96 /* the COFF limit is 96 sections for images */

static int read_at(int fd, void *buf, size_t n, uint64_t off) {
        ssize_t k = pread(fd, buf, n, (off_t) off);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EBADMSG;
}

int pe_read_section(const char *path, const char *name, size_t max, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t dos[64], coff[24], sec[40];
        struct stat st;
        int r;

        if (!name || strlen(name) > 8)
                return -EINVAL;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        uint64_t size = (uint64_t) st.st_size;
        if ((r = read_at(fd, dos, sizeof dos, 0)) < 0)
                return r;
        if (dos[0] != 'M' || dos[1] != 'Z')
                return -EBADMSG;
        uint64_t pe = unaligned_read_le32(dos + 0x3c);
        if (pe + sizeof coff > size || (r = read_at(fd, coff, sizeof coff, pe)) < 0)
                return -EBADMSG;
        if (memcmp(coff, "PE\0\0", 4) != 0)
                return -EBADMSG;
        unsigned n = unaligned_read_le16(coff + 6), opt = unaligned_read_le16(coff + 20);
        if (n > PE_SECTIONS_MAX)
                return -EBADMSG;
        uint64_t table = pe + sizeof coff + opt;
        for (unsigned i = 0; i < n; i++) {
                if (table + (i + 1) * sizeof sec > size ||
                    read_at(fd, sec, sizeof sec, table + i * sizeof sec) < 0)
                        return -EBADMSG;
                if (strncmp((const char *) sec, name, 8) != 0)
                        continue;
                /* The bytes in the file; VirtualSize says how many count
                 * (SizeOfRawData is rounded up to the file alignment). */
                uint64_t vsize = unaligned_read_le32(sec + 8), raw = unaligned_read_le32(sec + 16),
                         off = unaligned_read_le32(sec + 20);
                uint64_t len = MIN(vsize, raw);
                if (off > size || len > size - off)
                        return -EBADMSG;
                if (len > max)
                        return -EFBIG;
                _cleanup_free_ char *buf = malloc(len + 1);
                if (!buf)
                        return -ENOMEM;
                if ((r = read_at(fd, buf, len, off)) < 0)
                        return r;
                buf[len] = 0;
                *ret = TAKE_PTR(buf);
                return 0;
        }
        return -ENOENT;
}

static int field(const char *text, const char *key, char **ret) {
        size_t k = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, k) != 0 || l[k] != '=')
                        continue;
                const char *v = l + k + 1;
                size_t n = strcspn(v, "\n");
                if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                        v++;
                        n -= 2;
                }
                if (n == 0)
                        return -ENOENT;
                *ret = strndup(v, n);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

int os_release_version(const char *text, char **ret) {
        int r = field(text, "IMAGE_VERSION", ret);
        return r == -ENOENT ? field(text, "VERSION_ID", ret) : r;
}

int uki_read_version(const char *path, char **ret) {
        _cleanup_free_ char *osrel = NULL;
        int r = pe_read_section(path, ".osrel", 64 << 10, &osrel);
        if (r < 0)
                return r;
        return os_release_version(osrel, ret);
}
