/* SPDX-License-Identifier: MIT */
/* efivars.c: see efivars.h. The layouts are those of edk2's
 * MdeModulePkg/Include/Guid/VariableFormat.h and the UEFI specification
 * (EFI_VARIABLE_AUTHENTICATION_2, EFI_SIGNATURE_LIST), all little-endian and
 * packed; every field is read and written by offset. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "efivars.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "unaligned.h"

/* The firmware volume that holds the variables: gEfiSystemNvDataFvGuid. */
static const uint8_t NV_DATA_FV_GUID[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
                                             0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
/* A store of authenticated variables: gEfiAuthenticatedVariableGuid. */
static const uint8_t AUTH_STORE_GUID[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
                                             0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
static const uint8_t GLOBAL_GUID[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                         0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
static const uint8_t IMAGE_DB_GUID[16] = { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
                                           0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f };
/* edk2's switches: gEfiSecureBootEnableDisableGuid and gEfiCustomModeEnableGuid. */
static const uint8_t SB_ENABLE_GUID[16] = { 0xc7, 0x0b, 0xa3, 0xf0, 0x08, 0xaf, 0x56, 0x45,
                                            0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44 };
static const uint8_t CUSTOM_MODE_GUID[16] = { 0x0c, 0xec, 0x76, 0xc0, 0x28, 0x70, 0x99, 0x43,
                                              0xa0, 0x72, 0x71, 0xee, 0x5c, 0x44, 0x8b, 0x9f };
/* WIN_CERTIFICATE_UEFI_GUID's type for a PKCS#7 signature: EFI_CERT_TYPE_PKCS7_GUID. */
static const uint8_t PKCS7_GUID[16] = { 0x9d, 0xd2, 0xaf, 0x4a, 0xdf, 0x68, 0xee, 0x49,
                                        0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7 };

#define FV_SIGNATURE_OFFSET 0x28 /* "_FVH" */
#define FV_HEADER_LENGTH_OFFSET 0x30
#define STORE_HEADER_SIZE 28u /* GUID, Size, Format, State, 2 + 4 reserved */
#define STORE_FORMATTED 0x5a
#define STORE_HEALTHY 0xfe
#define VAR_HEADER_SIZE 60u /* AUTHENTICATED_VARIABLE_HEADER */
#define VAR_START_ID 0x55aa
#define VAR_ADDED 0x3f
#define VAR_IN_DELETED_TRANSITION 0xfe
#define VAR_DELETED 0xfd
#define WIN_CERT_TYPE_EFI_GUID 0x0ef1
#define EFI_TIME_SIZE 16u
#define SIG_LIST_HEADER_SIZE 28u
#define ALIGN4(n) (((n) + 3) & ~(size_t) 3)

/* NV | BS | RT, and for the key variables time-based authenticated writes. */
#define ATTR_NV_BS_RT 0x07u
#define ATTR_NV_BS 0x03u
#define ATTR_TIME_AUTH 0x20u

int efi_auth_parse(const char *name, const uint8_t *buf, size_t len, EfiAuthData *ret) {
        /* EFI_TIME, then WIN_CERTIFICATE_UEFI_GUID: dwLength (the whole
         * certificate), wRevision, wCertificateType, CertType, CertData. */
        if (len < EFI_TIME_SIZE + 24)
                return error_setf(EBADMSG, "%s: %zu bytes, too short for an authenticated variable",
                                  name, len);
        uint32_t cert_len = unaligned_read_le32(buf + EFI_TIME_SIZE);
        if (unaligned_read_le16(buf + EFI_TIME_SIZE + 6) != WIN_CERT_TYPE_EFI_GUID ||
            memcmp(buf + EFI_TIME_SIZE + 8, PKCS7_GUID, 16) != 0)
                return error_setf(EBADMSG,
                                  "%s: not an EFI_VARIABLE_AUTHENTICATION_2 with a PKCS#7 "
                                  "signature (made by sign-efi-sig-list?)",
                                  name);
        if (cert_len < 24 || cert_len > len - EFI_TIME_SIZE)
                return error_setf(EBADMSG, "%s: certificate length %" PRIu32 " overruns the file",
                                  name, cert_len);
        const uint8_t *data = buf + EFI_TIME_SIZE + cert_len;
        size_t size = len - EFI_TIME_SIZE - cert_len;
        if (size == 0)
                return error_setf(EBADMSG, "%s: no signature list after the signature", name);
        /* The data must be whole EFI_SIGNATURE_LISTs: SignatureType (16),
         * SignatureListSize, SignatureHeaderSize, SignatureSize. */
        for (size_t off = 0; off < size;) {
                if (size - off < SIG_LIST_HEADER_SIZE)
                        return error_setf(EBADMSG, "%s: a truncated signature list at byte %zu",
                                          name, off);
                uint32_t list = unaligned_read_le32(data + off + 16),
                         hdr = unaligned_read_le32(data + off + 20),
                         sig = unaligned_read_le32(data + off + 24);
                if (list < SIG_LIST_HEADER_SIZE || list > size - off || sig < 16 ||
                    hdr > list - SIG_LIST_HEADER_SIZE ||
                    (list - SIG_LIST_HEADER_SIZE - hdr) % sig != 0)
                        return error_setf(EBADMSG,
                                          "%s: signature list at byte %zu: sizes do not add "
                                          "up (list %" PRIu32 ", header %" PRIu32
                                          ", signature %" PRIu32 ")",
                                          name, off, list, hdr, sig);
                off += list;
        }
        *ret = (EfiAuthData){ .timestamp = buf, .data = data, .size = size };
        return 0;
}

typedef struct Store {
        uint8_t *buf;
        size_t start, end; /* the variables: after the store header .. the store's end */
        size_t free;       /* the first byte after the last variable */
        bool has_pk;
} Store;

static int store_open(const char *path, uint8_t *buf, size_t len, Store *ret) {
        if (len < 0x48 || memcmp(buf + FV_SIGNATURE_OFFSET, "_FVH", 4) != 0 ||
            memcmp(buf + 0x10, NV_DATA_FV_GUID, 16) != 0)
                return error_setf(EBADMSG,
                                  "%s: not an OVMF variable store (no NV data firmware "
                                  "volume header)",
                                  path);
        size_t hdr = unaligned_read_le16(buf + FV_HEADER_LENGTH_OFFSET);
        if (hdr < 0x48 || hdr > len - STORE_HEADER_SIZE)
                return error_setf(EBADMSG, "%s: firmware volume header length %zu", path, hdr);
        const uint8_t *s = buf + hdr;
        size_t size = unaligned_read_le32(s + 16);
        if (memcmp(s, AUTH_STORE_GUID, 16) != 0)
                return error_setf(EBADMSG,
                                  "%s: the variable store does not hold authenticated "
                                  "variables (an OVMF built without Secure Boot?)",
                                  path);
        if (s[20] != STORE_FORMATTED || s[21] != STORE_HEALTHY)
                return error_setf(EBADMSG,
                                  "%s: the variable store is not formatted and healthy "
                                  "(format 0x%02x, state 0x%02x)",
                                  path, s[20], s[21]);
        if (size < STORE_HEADER_SIZE || size > len - hdr)
                return error_setf(EBADMSG, "%s: variable store size %zu overruns the file", path,
                                  size);
        Store st = { .buf = buf, .start = hdr + STORE_HEADER_SIZE, .end = hdr + size };
        size_t off = st.start;
        while (st.end - off >= VAR_HEADER_SIZE && unaligned_read_le16(buf + off) == VAR_START_ID) {
                uint8_t state = buf[off + 2];
                uint32_t name_size = unaligned_read_le32(buf + off + 36),
                         data_size = unaligned_read_le32(buf + off + 40);
                if (name_size > st.end - off - VAR_HEADER_SIZE ||
                    data_size > st.end - off - VAR_HEADER_SIZE - name_size)
                        return error_setf(EBADMSG,
                                          "%s: the variable at byte %zu overruns the store", path,
                                          off);
                const uint8_t *name = buf + off + VAR_HEADER_SIZE;
                bool live = state == VAR_ADDED || state == (VAR_ADDED & VAR_IN_DELETED_TRANSITION);
                if (live && name_size == 6 && memcmp(name, "P\0K\0\0\0", 6) == 0 &&
                    memcmp(buf + off + 44, GLOBAL_GUID, 16) == 0)
                        st.has_pk = true;
                off = ALIGN4(off + VAR_HEADER_SIZE + name_size + data_size);
        }
        st.free = MIN(off, st.end);
        for (size_t i = st.free; i < st.end; i++)
                if (buf[i] != 0xff)
                        return error_setf(EBADMSG,
                                          "%s: byte %zu after the last variable is not free "
                                          "space",
                                          path, i);
        *ret = st;
        return 0;
}

static int store_add(Store *st, const char *name, const uint8_t guid[static 16], uint32_t attrs,
                     const uint8_t *timestamp, const void *data, size_t size) {
        size_t name_size = 2 * (strlen(name) + 1);
        size_t need = VAR_HEADER_SIZE + name_size + size;
        if (need > st->end - st->free)
                return -ENOSPC;
        uint8_t *v = st->buf + st->free;
        memset(v, 0, VAR_HEADER_SIZE + name_size);
        unaligned_write_le16(v, VAR_START_ID);
        v[2] = VAR_ADDED;
        unaligned_write_le32(v + 4, attrs);
        /* MonotonicCount (8) stays 0; TimeStamp at 16; PubKeyIndex 0. */
        if (timestamp)
                memcpy(v + 16, timestamp, EFI_TIME_SIZE);
        unaligned_write_le32(v + 36, (uint32_t) name_size);
        unaligned_write_le32(v + 40, (uint32_t) size);
        memcpy(v + 44, guid, 16);
        for (size_t i = 0; name[i]; i++)
                v[VAR_HEADER_SIZE + 2 * i] = (uint8_t) name[i];
        memcpy(v + VAR_HEADER_SIZE + name_size, data, size);
        st->free = MIN(ALIGN4(st->free + need), st->end);
        return 0;
}

int efivars_enroll(const char *store, const EfiAuthData keys[static 3]) {
        static const uint8_t one = 1, zero = 0;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        Store st;
        int r;

        r = read_full_file(store, &buf, &len, 64 * 1024 * 1024);
        if (r < 0)
                return error_wrapf(r, "reading %s", store);
        r = store_open(store, (uint8_t *) buf, len, &st);
        if (r < 0)
                return r;
        if (st.has_pk)
                return error_setf(EEXIST, "%s already holds a platform key", store);

        const uint32_t key_attrs = ATTR_NV_BS_RT | ATTR_TIME_AUTH;
        /* KEK and db first and PK last, as an enrollment in setup mode
         * writes them: the PK ends setup mode. */
        r = store_add(&st, "KEK", GLOBAL_GUID, key_attrs, keys[1].timestamp, keys[1].data,
                      keys[1].size);
        if (r >= 0)
                r = store_add(&st, "db", IMAGE_DB_GUID, key_attrs, keys[2].timestamp, keys[2].data,
                              keys[2].size);
        if (r >= 0)
                r = store_add(&st, "PK", GLOBAL_GUID, key_attrs, keys[0].timestamp, keys[0].data,
                              keys[0].size);
        if (r >= 0)
                r = store_add(&st, "SecureBootEnable", SB_ENABLE_GUID, ATTR_NV_BS, NULL, &one, 1);
        if (r >= 0)
                r = store_add(&st, "CustomMode", CUSTOM_MODE_GUID, ATTR_NV_BS, NULL, &zero, 1);
        if (r == -ENOSPC)
                return error_setf(ENOSPC,
                                  "%s: the keys (%zu, %zu and %zu bytes) do not fit in the "
                                  "variable store",
                                  store, keys[0].size, keys[1].size, keys[2].size);
        if (r < 0)
                return r;
        r = write_file_atomic(store, buf, len, 0644);
        return r < 0 ? error_wrapf(r, "writing %s", store) : 0;
}
