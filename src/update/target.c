/* SPDX-License-Identifier: MIT */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "partition.h"
#include "pe.h"
#include "strv.h"

void update_target_done(UpdateTarget *t) {
        esp_done(&t->esp);
        for (Slot s = 0; s < _SLOT_MAX; s++) {
                free(t->slots[s].entry);
                free(t->slots[s].version);
        }
        free(t->disk);
        *t = (UpdateTarget){};
}

/* The running slot and the disk from the kernel command line. A unified
 * kernel image's command line has no berth.slot= (the same signed image
 * serves either slot): the slot is then _SLOT_INVALID here, and the pair
 * whose data partition has the running PARTUUID (ret_uuid) is the slot. */
static int find_live(char **ret_disk, Slot *ret_slot, char ret_uuid[static UUID_STRING_SIZE]) {
        _cleanup_free_ char *cmdline = NULL;
        char data_uuid[UUID_STRING_SIZE] = "";
        const char *hash = NULL, *slot = NULL;
        size_t size;
        BlockInfo bi;
        int r;

        r = read_full_file("/proc/cmdline", &cmdline, &size, 0);
        if (r < 0)
                return error_wrapf(r, "cannot read /proc/cmdline");
        for (char *save = NULL, *w = strtok_r(cmdline, " \n", &save); w;
             w = strtok_r(NULL, " \n", &save)) {
                if (strneq(w, "usrhash=", 8))
                        hash = w + 8;
                else if (strneq(w, "berth.slot=", 11))
                        slot = w + 11;
        }
        if (!hash || (slot && slot_from_string(slot) < 0))
                return error_setf(ENOENT, "this machine was not booted from a berth slot "
                                          "(no usrhash= on the kernel command line): "
                                          "give --disk");
        r = usr_partuuids_from_hex(hash, data_uuid, NULL);
        if (r < 0)
                return error_setf(EINVAL, "usrhash= on the kernel command line is not a root hash");
        r = blockdev_find(blockdev_match_partuuid, data_uuid, &bi);
        if (r < 0)
                return error_wrapf(r, "cannot list block devices");
        if (r == 0 || !bi.disk[0])
                return error_setf(ENODEV, "no partition with the running usr PARTUUID %s",
                                  data_uuid);
        *ret_disk = strdup_printf("/dev/%s", bi.disk);
        *ret_slot = slot ? slot_from_string(slot) : _SLOT_INVALID;
        memcpy(ret_uuid, data_uuid, UUID_STRING_SIZE);
        return *ret_disk ? 0 : -ENOMEM;
}

/* The version in a UKI's .osrel, as systemd-boot reads it. */
static int uki_version(Esp *esp, const char *path, char **ret) {
        char tmp[] = "/tmp/berth-uki-XXXXXX";
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        int r;

        if (fd < 0)
                return error_wrapf(-errno, "cannot create a temporary file");
        r = esp_get_file(esp, path, tmp);
        if (r >= 0) {
                r = uki_read_version(tmp, ret);
                if (r < 0 && r != -ENOMEM)
                        r = error_wrapf(r, "%s on the ESP: no version in its .osrel", path);
        }
        (void) unlink(tmp);
        return r;
}

int update_target_refresh_entries(UpdateTarget *t) {
        _cleanup_strv_free_ char **names = NULL, **ukis = NULL;
        int r;

        for (Slot s = 0; s < _SLOT_MAX; s++) {
                free(t->slots[s].entry);
                free(t->slots[s].version);
                t->slots[s].entry = t->slots[s].version = NULL;
        }
        /* Type #1 entries and unified kernel images (Secure Boot images). */
        r = esp_list(&t->esp, "loader/entries", &names);
        if (r < 0)
                return r;
        r = esp_list(&t->esp, "EFI/Linux", &ukis);
        if (r < 0)
                return r;
        for (char **u = ukis; *u; u++)
                if (strv_extend(&names, *u) < 0)
                        return -ENOMEM;
        for (char **n = names; *n; n++) {
                BootEntry e;
                _cleanup_free_ char *path = NULL, *text = NULL;
                if (boot_entry_parse(*n, &e) < 0)
                        continue;
                SlotPair *p = &t->slots[e.slot];
                if (p->entry)
                        return error_setf(EEXIST,
                                          "two loader entries for slot %s on the ESP "
                                          "(%s and %s)",
                                          slot_to_string(e.slot), p->entry, *n);
                path = strdup_printf("%s/%s", boot_entry_dir(&e), *n);
                if (!path)
                        return -ENOMEM;
                p->entry = strdup(*n);
                if (!p->entry)
                        return -ENOMEM;
                p->boot = e;
                if (streq(e.suffix, ".efi")) {
                        r = uki_version(&t->esp, path, &p->version);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = esp_read(&t->esp, path, &text);
                if (r < 0)
                        return error_wrapf(r, "cannot read %s on the ESP", path);
                (void) boot_entry_text_version(text, &p->version);
        }
        return 0;
}

int update_target_open(const char *disk, const char *esp_dir, UpdateTarget *ret) {
        _cleanup_(update_target_done) UpdateTarget t = { .current = _SLOT_INVALID };
        GptEntry parts[GPT_ENTRIES_MAX];
        size_t n = 0, n_data = 0, n_verity = 0;
        GptEntry *data[_SLOT_MAX] = {}, *verity[_SLOT_MAX] = {};
        bool have_esp = false;
        char live_uuid[UUID_STRING_SIZE] = "";
        int r;

        if (disk) {
                t.disk = strdup(disk);
                if (!t.disk)
                        return -ENOMEM;
        } else {
                r = find_live(&t.disk, &t.current, live_uuid);
                if (r < 0)
                        return r;
                t.live = true;
        }
        r = gpt_read(t.disk, parts, &n);
        if (r < 0)
                return r;
        /* The layout of docs/disk-layout.md: the first usr pair is slot a,
         * the second slot b, whatever their labels say now. */
        for (size_t i = 0; i < n; i++) {
                if (streq(parts[i].type, PART_TYPE_ESP) && !have_esp) {
                        t.esp_part = parts[i];
                        have_esp = true;
                } else if (streq(parts[i].type, PART_TYPE_USR_X86_64) && n_data < _SLOT_MAX)
                        data[n_data++] = &parts[i];
                else if (streq(parts[i].type, PART_TYPE_USR_VERITY_X86_64) && n_verity < _SLOT_MAX)
                        verity[n_verity++] = &parts[i];
        }
        if (!have_esp || n_data != _SLOT_MAX || n_verity != _SLOT_MAX)
                return error_setf(ENODEV,
                                  "%s: not a berth A/B disk (want an ESP and two x86-64 "
                                  "usr + usr-verity pairs, found %s ESP, %zu usr, %zu usr-verity)",
                                  t.disk, have_esp ? "an" : "no", n_data, n_verity);
        t.architecture = "amd64";
        for (Slot s = 0; s < _SLOT_MAX; s++) {
                t.slots[s].data = *data[s];
                t.slots[s].verity = *verity[s];
                t.slots[s].labelled = streq(data[s]->label, usr_partition_label(s, false)) &&
                                      streq(verity[s]->label, usr_partition_label(s, true));
                if (t.live && t.current < 0 && streq(data[s]->uuid, live_uuid))
                        t.current = s;
        }
        if (t.live && t.current < 0)
                return error_setf(ENODEV, "%s: no usr pair holds the running PARTUUID %s", t.disk,
                                  live_uuid);
        r = t.live ? esp_open_dir(esp_dir ?: "/efi", &t.esp)
                   : esp_open_image(t.disk, t.esp_part.offset, &t.esp);
        if (r < 0)
                return r;
        r = update_target_refresh_entries(&t);
        if (r < 0)
                return r;
        if (!t.live) {
                /* A disk image boots the labelled slot with the newest entry
                 * that has tries left (systemd-boot boots "+0" entries only
                 * when nothing else is left). */
                for (int pass = 0; pass < 2 && t.current < 0; pass++)
                        for (Slot s = 0; s < _SLOT_MAX; s++) {
                                SlotPair *p = &t.slots[s];
                                if (!p->labelled || !p->version ||
                                    (pass == 0 && boot_entry_is_bad(&p->boot)))
                                        continue;
                                if (t.current < 0 ||
                                    strverscmp(p->version, t.slots[t.current].version) > 0)
                                        t.current = s;
                        }
                if (t.current < 0)
                        return error_setf(ENODEV,
                                          "%s: no slot with a usr pair and a loader "
                                          "entry",
                                          t.disk);
        }
        if (!t.slots[t.current].version)
                return error_setf(ENOENT,
                                  "%s: no loader entry with a version for the running "
                                  "slot %s",
                                  t.disk, slot_to_string(t.current));
        *ret = t;
        t = (UpdateTarget){};
        return 0;
}
