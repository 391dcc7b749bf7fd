/* SPDX-License-Identifier: MIT */
/* efivars.h: Secure Boot keys written straight into an OVMF variable store
 * file (the pflash image QEMU gives the firmware), so a new machine starts in
 * user mode with the image's PK, KEK and db instead of depending on an
 * enrollment inside the firmware. The store is edk2's authenticated variable
 * format: a firmware volume header, a variable store header, then the
 * variables one after the other, the free space 0xff. Only an empty or
 * key-less store is changed; the file is replaced atomically. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One key variable from an `.auth` file (EFI_VARIABLE_AUTHENTICATION_2: a
 * timestamp, a PKCS#7 signature, then the EFI_SIGNATURE_LIST data): points
 * into the buffer it was parsed from. */
typedef struct EfiAuthData {
        const uint8_t *timestamp; /* EFI_TIME, 16 bytes */
        const uint8_t *data;      /* the signature lists */
        size_t size;
} EfiAuthData;

/* Parses BUF (LEN bytes) as an `.auth` file. -EBADMSG when it is not one
 * (the descriptor, the certificate type or a signature list does not add
 * up); NAME is only for the message. */
int efi_auth_parse(const char *name, const uint8_t *buf, size_t len, EfiAuthData *ret);

/* Enrolls PK, KEK and db (in this order in keys[]) into the variable store
 * file STORE, and turns Secure Boot on (SecureBootEnable 1, CustomMode 0).
 * -EEXIST when STORE already holds a PK (left as it is); -EBADMSG (with a
 * message naming STORE) when it is no edk2 authenticated variable store;
 * -ENOSPC when the keys do not fit. */
int efivars_enroll(const char *store, const EfiAuthData keys[static 3]);
