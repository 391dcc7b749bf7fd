/* SPDX-License-Identifier: MIT */
/* The config drive of berth vm --cidata (cidata.h). */
#include "cidata.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "spawn-util.h"
#include "strv.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)

static const char *const cidata_fs_table[_CIDATA_FS_MAX] = {
        [CIDATA_VFAT] = "vfat",
        [CIDATA_ISO9660] = "iso9660",
};

const char *cidata_fs_to_string(CidataFs fs) {
        return fs >= 0 && fs < _CIDATA_FS_MAX ? cidata_fs_table[fs] : NULL;
}

CidataFs cidata_fs_from_string(const char *s) {
        for (CidataFs i = 0; i < _CIDATA_FS_MAX; i++)
                if (streq(cidata_fs_table[i], s))
                        return i;
        return _CIDATA_FS_INVALID;
}

/* Copies the files of the volume into stage and names them in *names (what
 * mcopy gets); returns their size in bytes, rounded up to 4 KiB each. */
static int stage_files(const char *src, const char *stage, char ***names, uint64_t *ret_bytes) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        struct stat st;
        uint64_t bytes = 0;
        int r;

        if (stat(src, &st) < 0)
                return error_wrapf(-errno, "vm: --cidata %s", src);
        r = mkdir_p(stage, 0700);
        if (r < 0)
                return error_wrapf(r, "vm: creating %s", stage);
        if (S_ISREG(st.st_mode)) {
                /* A user-data file; NoCloud readers also expect meta-data. */
                _cleanup_free_ char *ud = path_join(stage, "user-data"),
                                    *md = path_join(stage, "meta-data");
                if (!ud || !md)
                        return -ENOMEM;
                r = copy_file(src, ud, 0644);
                if (r < 0)
                        return error_wrapf(r, "vm: copying --cidata %s", src);
                r = write_file_atomic(md, "", 0, 0644);
                if (r < 0)
                        return error_wrapf(r, "vm: writing %s", md);
                *ret_bytes = ((uint64_t) st.st_size + 4095) & ~UINT64_C(4095);
                return strv_extend(names, ud) < 0 || strv_extend(names, md) < 0 ? -ENOMEM : 0;
        }
        if (!S_ISDIR(st.st_mode))
                return error_setf(EINVAL, "vm: --cidata %s is neither a file nor a directory", src);
        d = opendir(src);
        if (!d)
                return error_wrapf(-errno, "vm: --cidata %s", src);
        while ((de = readdir(d))) {
                _cleanup_free_ char *from = NULL, *to = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                from = path_join(src, de->d_name);
                to = path_join(stage, de->d_name);
                if (!from || !to)
                        return -ENOMEM;
                if (stat(from, &st) < 0)
                        return error_wrapf(-errno, "vm: --cidata %s", from);
                if (!S_ISREG(st.st_mode))
                        return error_setf(EINVAL,
                                          "vm: --cidata %s: not a regular file (the NoCloud "
                                          "layout has files at the top only)",
                                          from);
                r = copy_file(from, to, 0644);
                if (r < 0)
                        return error_wrapf(r, "vm: copying %s", from);
                if (strv_extend(names, to) < 0)
                        return -ENOMEM;
                bytes += ((uint64_t) st.st_size + 4095) & ~UINT64_C(4095);
        }
        *ret_bytes = bytes;
        return 0;
}

static int make_vfat(const char *image, char **names, uint64_t bytes) {
        _cleanup_strv_free_ char **mcopy = NULL;
        _cleanup_free_ char *size_arg = NULL;
        int r;

        /* FAT's own tables and slack: a 1 MiB floor plus a quarter. */
        bytes = bytes + bytes / 4 + MIB;
        size_arg = strdup_printf("%" PRIu64, (bytes + MIB - 1) / MIB * MIB / KIB);
        if (!size_arg)
                return -ENOMEM;
        (void) unlink(image);
        char *mkfs[] = { "mkfs.vfat", "-C", "-n", CIDATA_LABEL, (char *) image, size_arg, NULL };
        r = spawn_run(mkfs, &(SpawnOptions){ .quiet = true }, NULL);
        if (r < 0)
                return error_wrapf(r, "vm: mkfs.vfat for the config drive (dosfstools, "
                                      "scripts/deps)");
        if (strv_extend(&mcopy, "mcopy") < 0 || strv_extend(&mcopy, "-i") < 0 ||
            strv_extend(&mcopy, image) < 0)
                return -ENOMEM;
        STRV_FOREACH(n, names)
                if (strv_extend(&mcopy, *n) < 0)
                        return -ENOMEM;
        if (strv_extend(&mcopy, "::/") < 0)
                return -ENOMEM;
        r = spawn_run(mcopy, &(SpawnOptions){ .quiet = true }, NULL);
        return r < 0 ? error_wrapf(r, "vm: mcopy into the config drive (mtools, scripts/deps)") : 0;
}

static int make_iso(const char *image, const char *stage) {
        _cleanup_free_ char *xorriso = NULL;
        int r;

        r = spawn_find_program("xorriso", &xorriso);
        if (r < 0)
                return error_setf(ENOENT, "vm: --cidata-fs iso9660 needs xorriso (install xorriso, "
                                          "scripts/deps)");
        /* Rock Ridge and Joliet: the file names stay "user-data", not
         * ISO 9660's "USER_DAT.;1". */
        char *argv[] = { xorriso, "-as", "mkisofs", "-quiet",       "-V",           CIDATA_LABEL,
                         "-J",    "-r",  "-o",      (char *) image, (char *) stage, NULL };
        r = spawn_run(argv, &(SpawnOptions){ .quiet = true }, NULL);
        return r < 0 ? error_wrapf(r, "vm: xorriso for the config drive") : 0;
}

int cidata_make_image(const char *src, CidataFs fs, const char *workdir, char **ret_image) {
        _cleanup_free_ char *stage = path_join(workdir, "cidata-root"), *image = NULL;
        _cleanup_strv_free_ char **names = NULL;
        uint64_t bytes = 0;
        int r;

        if (!stage)
                return -ENOMEM;
        r = stage_files(src, stage, &names, &bytes);
        if (r < 0)
                return r;
        image = path_join(workdir, fs == CIDATA_ISO9660 ? "cidata.iso" : "cidata.vfat");
        if (!image)
                return -ENOMEM;
        r = fs == CIDATA_ISO9660 ? make_iso(image, stage) : make_vfat(image, names, bytes);
        if (r < 0)
                return r;
        log_debug("vm: config drive %s -> %s (%s)", src, image, cidata_fs_to_string(fs));
        *ret_image = TAKE_PTR(image);
        return 0;
}
