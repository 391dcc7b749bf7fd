/* SPDX-License-Identifier: MIT */
#include "dm-verity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "log.h"
#include "macro.h"
#include "unaligned.h"

#define DM_CONTROL "/dev/mapper/control"
#define HASH_SIZE 32 /* sha256 */

void verity_tree_layout(uint64_t data_blocks, uint64_t hash_offset, VerityTreeLayout *ret) {
        const unsigned per_block_bits = 7; /* 4096 / 32 hashes per block */
        uint64_t pos;

        /* Levels as libcryptsetup lays them out: the tree starts in the block
         * after the superblock, the level nearest the root first. */
        *ret = (VerityTreeLayout){};
        while (per_block_bits * (unsigned) ret->levels < 64 &&
               ((data_blocks - 1) >> (per_block_bits * ret->levels)))
                ret->levels++;
        pos = hash_offset / VERITY_BLOCK_SIZE + 1;
        for (int i = ret->levels - 1; i >= 0; i--) {
                unsigned shift = (unsigned) (i + 1) * per_block_bits;
                ret->level_block[i] = pos;
                ret->level_size[i] = shift >= 64 ? 1 : (data_blocks + (1ull << shift) - 1) >> shift;
                pos += ret->level_size[i];
        }
        ret->end_block = pos;
}

/* The superblock (little endian), as the byte offsets of its fields:
 * signature "verity\0\0", version, hash type, UUID, algorithm (NUL padded),
 * data and hash block size, data blocks, salt size, padding, salt. */
enum {
        SB_SIGNATURE = 0,
        SB_VERSION = 8,
        SB_HASH_TYPE = 12,
        SB_UUID = 16,
        SB_ALGORITHM = 32,
        SB_DATA_BLOCK_SIZE = 64,
        SB_HASH_BLOCK_SIZE = 68,
        SB_DATA_BLOCKS = 72,
        SB_SALT_SIZE = 80,
        SB_SALT = 88,
        SB_SALT_MAX = 256,
};

int verity_superblock_parse(const uint8_t *buf, const char *path, uint64_t offset,
                            uint64_t data_max, VeritySuperblock *ret) {
        uint32_t v;

        if (memcmp(buf + SB_SIGNATURE, "verity\0\0", 8) != 0)
                return error_setf(EBADMSG, "%s: no verity superblock at offset %" PRIu64, path,
                                  offset);
        if ((v = unaligned_read_le32(buf + SB_VERSION)) != 1)
                return error_setf(EBADMSG, "%s: verity superblock version %" PRIu32 ", not 1", path,
                                  v);
        if ((v = unaligned_read_le32(buf + SB_HASH_TYPE)) != 1)
                return error_setf(EBADMSG, "%s: verity hash type %" PRIu32 ", not 1", path, v);
        if (memcmp(buf + SB_ALGORITHM, "sha256", 7) != 0) {
                char alg[33];
                snprintf(alg, sizeof alg, "%.32s", (const char *) buf + SB_ALGORITHM);
                for (char *p = alg; *p; p++)
                        if (*p < 0x20 || *p > 0x7e)
                                *p = '?';
                return error_setf(EBADMSG, "%s: verity hash algorithm '%s', not sha256", path, alg);
        }
        if ((v = unaligned_read_le32(buf + SB_DATA_BLOCK_SIZE)) != VERITY_BLOCK_SIZE ||
            (v = unaligned_read_le32(buf + SB_HASH_BLOCK_SIZE)) != VERITY_BLOCK_SIZE)
                return error_setf(EBADMSG, "%s: verity block size %" PRIu32 ", not %u", path, v,
                                  VERITY_BLOCK_SIZE);
        uint16_t salt_size = unaligned_read_le16(buf + SB_SALT_SIZE);
        if (salt_size > SB_SALT_MAX)
                return error_setf(EBADMSG, "%s: verity salt of %u bytes, at most %u", path,
                                  salt_size, SB_SALT_MAX);
        uint64_t blocks = unaligned_read_le64(buf + SB_DATA_BLOCKS);
        if (blocks == 0 || blocks > data_max / VERITY_BLOCK_SIZE)
                return error_setf(EBADMSG,
                                  "%s: verity superblock claims %" PRIu64
                                  " data blocks, the data area holds %" PRIu64,
                                  path, blocks, data_max / VERITY_BLOCK_SIZE);

        *ret = (VeritySuperblock){ .data_blocks = blocks, .salt_size = salt_size };
        memcpy(ret->uuid, buf + SB_UUID, sizeof ret->uuid);
        memcpy(ret->salt, buf + SB_SALT, salt_size);
        return 0;
}

int verity_superblock_read(int fd, const char *path, uint64_t offset, uint64_t data_max,
                           VeritySuperblock *ret) {
        uint8_t buf[VERITY_SUPERBLOCK_SIZE];
        size_t done = 0;

        while (done < sizeof buf) {
                ssize_t k = pread(fd, buf + done, sizeof buf - done, (off_t) (offset + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return error_wrapf(-errno, "%s: reading the verity superblock", path);
                if (k == 0)
                        return error_setf(EBADMSG,
                                          "%s: no verity superblock at offset %" PRIu64
                                          " (the file ends)",
                                          path, offset);
                done += (size_t) k;
        }
        return verity_superblock_parse(buf, path, offset, data_max, ret);
}

int dm_verity_table(const VeritySuperblock *sb, dev_t data, dev_t hash,
                    const uint8_t root_hash[static HASH_SIZE], char **ret) {
        char root[2 * HASH_SIZE + 1], salt[2 * SB_SALT_MAX + 1] = "-";
        char *s;

        hex_encode(root_hash, HASH_SIZE, root);
        if (sb->salt_size > 0)
                hex_encode(sb->salt, sb->salt_size, salt);
        /* Hash start block 1: the tree follows the superblock. */
        s = strdup_printf("1 %u:%u %u:%u %u %u %" PRIu64 " 1 sha256 %s %s", major(data),
                          minor(data), major(hash), minor(hash), VERITY_BLOCK_SIZE,
                          VERITY_BLOCK_SIZE, sb->data_blocks, root, salt);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A block device's number and size in bytes. */
static int block_device(const char *path, int *ret_fd, dev_t *ret_dev, uint64_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        uint64_t size;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_wrapf(-errno, "%s", path);
        if (fstat(fd, &st) < 0)
                return error_wrapf(-errno, "%s", path);
        if (!S_ISBLK(st.st_mode))
                return error_setf(ENOTBLK, "%s is not a block device", path);
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return error_wrapf(-errno, "%s: reading its size", path);
        *ret_dev = st.st_rdev;
        *ret_size = size;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

/* One DM ioctl: the header and what follows it (a target spec and its
 * parameters, or the kernel's answer). */
typedef union DmBuffer {
        struct dm_ioctl io;
        uint8_t bytes[16384];
} DmBuffer;

static void dm_init(DmBuffer *b, const char *name) {
        memset(b, 0, sizeof *b);
        /* Major 4, minor 0: every request here is as old as the interface. */
        b->io.version[0] = DM_VERSION_MAJOR;
        b->io.data_size = sizeof *b;
        b->io.data_start = sizeof b->io;
        snprintf(b->io.name, sizeof b->io.name, "%s", name);
}

static void dm_remove(int control, const char *name) {
        DmBuffer b;
        dm_init(&b, name);
        if (ioctl(control, DM_DEV_REMOVE, &b) < 0)
                log_debug("device-mapper: cannot remove %s again: %m", name);
}

/* Creates, loads and resumes NAME with one verity target over sectors
 * sectors; returns its device number. */
static int dm_create_verity(int control, const char *name, const char *uuid, uint64_t sectors,
                            const char *params, dev_t *ret_dev) {
        DmBuffer b;
        struct dm_target_spec *spec;
        dev_t dev;

        dm_init(&b, name);
        snprintf(b.io.uuid, sizeof b.io.uuid, "%s", uuid);
        if (ioctl(control, DM_DEV_CREATE, &b) < 0)
                return error_wrapf(-errno, "device-mapper: cannot create %s", name);
        dev = (dev_t) b.io.dev;

        dm_init(&b, name);
        b.io.flags = DM_READONLY_FLAG;
        b.io.target_count = 1;
        spec = (struct dm_target_spec *) (b.bytes + b.io.data_start);
        *spec = (struct dm_target_spec){ .sector_start = 0, .length = sectors };
        snprintf(spec->target_type, sizeof spec->target_type, "verity");
        if (strlen(params) + 1 > sizeof b - b.io.data_start - sizeof *spec) {
                dm_remove(control, name);
                return error_setf(E2BIG, "device-mapper: the verity table of %s is too long", name);
        }
        strcpy((char *) (spec + 1), params);
        if (ioctl(control, DM_TABLE_LOAD, &b) < 0) {
                int r = -errno;
                dm_remove(control, name);
                return error_wrapf(r,
                                   "device-mapper refused the verity table of %s (the kernel "
                                   "logs why: \"device-mapper: table: ... verity: ...\")",
                                   name);
        }

        /* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the table goes live. */
        dm_init(&b, name);
        if (ioctl(control, DM_DEV_SUSPEND, &b) < 0) {
                int r = -errno;
                dm_remove(control, name);
                return error_wrapf(r, "device-mapper: cannot resume %s", name);
        }
        *ret_dev = dev;
        return 0;
}

/* The verity target's status: 'V' (verified so far) or 'C' (a corrupt block
 * was read). */
static int dm_verity_status(int control, const char *name, char *ret) {
        DmBuffer b;
        const struct dm_target_spec *spec;

        dm_init(&b, name);
        if (ioctl(control, DM_TABLE_STATUS, &b) < 0)
                return -errno;
        if (b.io.flags & DM_BUFFER_FULL_FLAG || b.io.target_count != 1 ||
            b.io.data_start + sizeof *spec >= sizeof b)
                return -EIO;
        spec = (const struct dm_target_spec *) (b.bytes + b.io.data_start);
        *ret = *(const char *) (spec + 1);
        return 0;
}

/* /dev/mapper/NAME for dev (no udev here to make it). */
static int make_node(const char *name, dev_t dev) {
        _cleanup_free_ char *node = strdup_printf("/dev/mapper/%s", name);
        struct stat st;

        if (!node)
                return -ENOMEM;
        if (mkdir("/dev/mapper", 0755) < 0 && errno != EEXIST)
                return error_wrapf(-errno, "cannot make /dev/mapper");
        if (lstat(node, &st) == 0) {
                if (S_ISBLK(st.st_mode) && st.st_rdev == dev)
                        return 0;
                if (unlink(node) < 0)
                        return error_wrapf(-errno, "cannot replace %s", node);
        }
        if (mknod(node, S_IFBLK | 0600, dev) < 0)
                return error_wrapf(-errno, "cannot make %s (%u:%u)", node, major(dev), minor(dev));
        return 0;
}

int dm_verity_open(const char *name, const char *data_dev, const char *hash_dev,
                   const uint8_t *root_hash, size_t root_hash_size) {
        _cleanup_close_ int hfd = -EBADF, control = -EBADF;
        _cleanup_free_ char *params = NULL;
        VeritySuperblock sb;
        VerityTreeLayout lay;
        char uuid[sizeof "CRYPT-VERITY-" + 32 + 1 + DM_NAME_LEN], sbuuid[33], status;
        dev_t data, hash, dev;
        uint64_t data_size, hash_size;
        int r;

        if (!name || !data_dev || !hash_dev || !root_hash)
                return -EINVAL;
        if (isempty(name) || strlen(name) >= DM_NAME_LEN || strchr(name, '/'))
                return error_setf(EINVAL, "'%s' is not a device-mapper name", name);
        if (root_hash_size != HASH_SIZE)
                return error_setf(EINVAL, "a sha256 root hash has 32 bytes, not %zu",
                                  root_hash_size);

        r = block_device(data_dev, NULL, &data, &data_size);
        if (r < 0)
                return r;
        r = block_device(hash_dev, &hfd, &hash, &hash_size);
        if (r < 0)
                return r;
        r = verity_superblock_read(hfd, hash_dev, 0, data_size, &sb);
        if (r < 0)
                return r;
        verity_tree_layout(sb.data_blocks, 0, &lay);
        if (lay.end_block > hash_size / VERITY_BLOCK_SIZE)
                return error_setf(EBADMSG,
                                  "%s: the hash tree of %" PRIu64 " data blocks needs %" PRIu64
                                  " bytes, the device has %" PRIu64,
                                  hash_dev, sb.data_blocks, lay.end_block * VERITY_BLOCK_SIZE,
                                  hash_size);

        r = dm_verity_table(&sb, data, hash, root_hash, &params);
        if (r < 0)
                return r;
        hex_encode(sb.uuid, sizeof sb.uuid, sbuuid);
        snprintf(uuid, sizeof uuid, "CRYPT-VERITY-%s-%s", sbuuid, name);

        control = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
        if (control < 0)
                return error_wrapf(-errno, "%s (is dm_mod loaded?)", DM_CONTROL);
        r = dm_create_verity(control, name, uuid, sb.data_blocks * (VERITY_BLOCK_SIZE / 512),
                             params, &dev);
        if (r < 0)
                return r;
        r = make_node(name, dev);
        if (r < 0) {
                dm_remove(control, name);
                return r;
        }
        /* As libcryptsetup: a block the kernel read already failed its hash;
         * the mapping stays (reading that block fails), the caller says so. */
        if (dm_verity_status(control, name, &status) == 0 && status == 'C')
                return 1;
        return 0;
}
