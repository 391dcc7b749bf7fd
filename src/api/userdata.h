/* SPDX-License-Identifier: MIT */
/* userdata.h: first-boot user data (docs/api.md, "User data"). A JSON object
 * of the settings schema plus "files", files to write under /etc or /var:
 *
 *   {"network": {"hostname": "node-1"},
 *    "files": [{"path": "/var/lib/app/token", "mode": "0600", "content": "..."}]}
 *
 * It is read once per machine, from the first source that has it: QEMU
 * fw_cfg (opt/berth/user-data), a volume labelled CIDATA (vfat or iso9660,
 * NoCloud layout: the file user-data at its top), the ESP (berth/user-data).
 * It goes through the settings table's validation; invalid data applies
 * nothing. A UserData is owned by its caller (userdata_free). */
#pragma once

#include <sys/types.h>

#include "json-util.h"
#include "macro.h"

#define USERDATA_FILES_MAX 64
#define USERDATA_SIZE_MAX (1024u * 1024)

typedef struct UserFile {
        char *path; /* absolute, under /etc/ or /var/, clean */
        mode_t mode;
        char *content;
} UserFile;

typedef struct UserData {
        json_t *settings; /* the settings part, validated */
        UserFile *files;
        size_t n_files;
} UserData;

UserData *userdata_free(UserData *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(UserData *, userdata_free);

/* Parses and validates user data (outside input). On failure -EINVAL with
 * the error object naming the field: "files[0].path: not under /etc or /var". */
int userdata_parse(const char *data, size_t size, UserData **ret);

/* Where to look; each may be NULL (not looked at). */
typedef struct UserDataSources {
        const char *fw_cfg; /* /sys/firmware/qemu_fw_cfg/by_name/opt/berth/user-data/raw */
        bool config_drive;  /* a volume labelled CIDATA, mounted at cidata_mount */
        const char *cidata_mount;
        const char *esp_file; /* /efi/berth/user-data */
} UserDataSources;

/* The user data of the first source that has it: returns 1 and its text and a
 * description of the source ("fw_cfg opt/berth/user-data"), or 0 if none has
 * any. */
int userdata_read(const UserDataSources *src, char **ret_data, size_t *ret_size, char **ret_source);

/* Writes the files: those under /var to root/var/..., those under /etc to
 * keep_etc/... (the tree copied into the /etc tmpfs at every boot), and
 * commits the settings as a new generation in settings_dir. */
int userdata_apply(const UserData *u, const char *root, const char *keep_etc,
                   const char *settings_dir);
