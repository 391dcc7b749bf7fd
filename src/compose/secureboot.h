/* SPDX-License-Identifier: MIT */
/* secureboot.h: the composer's half of the chain of trust (docs/security.md).
 * `berth keygen --secure-boot` makes an image owner's Secure Boot keys (PK,
 * KEK, db: RSA key, self-signed certificate, EFI signature list, and the
 * signed .auth update that systemd-boot's `secure-boot-enroll` writes into a
 * firmware in setup mode); the build makes a unified kernel image from
 * systemd-stub, the kernel, the initrd, os-release and the command line, and
 * signs it and systemd-boot with the db key. The tools are Debian's:
 * openssl (keys, certificates), efitools (signature lists, .auth), binutils'
 * objcopy (the UKI's sections) and sbsigntool (Authenticode signatures). */
#pragma once

/* The files of a key directory, DIR/NAME.{key,crt,esl,auth} for NAME in
 * PK, KEK, db, and DIR/guid (the signature owner). */
#define SECUREBOOT_KEY_NAMES                                                                       \
        { "PK", "KEK", "db" }

/* Makes a new key directory at dir (which must not exist). The common name
 * of each certificate is "<cn> <NAME>". */
int secureboot_keygen(const char *dir, const char *cn);

/* -ENOENT (with a message naming the file) unless dir holds db.key, db.crt
 * and the three .auth files. */
int secureboot_keys_check(const char *dir);

/* A unified kernel image at out from systemd-stub (stub), with the sections
 * .osrel, .cmdline, .linux and .initrd (no .splash, no .dtb). */
int secureboot_make_uki(const char *stub, const char *os_release, const char *cmdline,
                        const char *kernel, const char *initrd, const char *out);

/* Signs the PE binary in with dir's db key into out (sbsign), then checks the
 * signature against the db certificate (sbverify). */
int secureboot_sign(const char *dir, const char *in, const char *out);
