/* SPDX-License-Identifier: MIT */
#include "secureboot.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "hexuuid.h"
#include "macro.h"
#include "spawn-util.h"

static const char *const key_names[] = SECUREBOOT_KEY_NAMES;

/* The section addresses of a UKI: systemd-stub 252 occupies the first
 * 0x20000 bytes; the kernel and initrd sit far enough apart that neither
 * overlaps the next (checked against their sizes). */
#define UKI_OSREL_VMA 0x20000ull
#define UKI_CMDLINE_VMA 0x30000ull
#define UKI_LINUX_VMA 0x2000000ull
#define UKI_INITRD_VMA 0x3000000ull

static char *key_file(const char *dir, const char *name, const char *ext) {
        return strdup_printf("%s/%s.%s", dir, name, ext);
}

/* Who signs each list: PK signs itself and KEK, KEK signs db. */
static const char *signer_of(size_t i) {
        return i == 2 ? "KEK" : "PK";
}

int secureboot_keygen(const char *dir, const char *cn) {
        uint8_t rnd[16];
        char guid[UUID_STRING_SIZE];
        int r;

        if (access(dir, F_OK) == 0)
                return error_setf(EEXIST, "%s exists already; keygen makes a new directory", dir);
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
                return error_wrapf(-errno, "getrandom");
        uuid_from_bytes(rnd, guid);
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return error_wrapf(r, "cannot create %s", dir);
        _cleanup_free_ char *guid_path = path_join(dir, "guid"),
                            *guid_text = strdup_printf("%s\n", guid);
        if (!guid_path || !guid_text)
                return -ENOMEM;
        r = write_file_atomic(guid_path, guid_text, strlen(guid_text), 0644);
        if (r < 0)
                return error_wrapf(r, "cannot write %s", guid_path);

        for (size_t i = 0; i < ELEMENTSOF(key_names); i++) {
                const char *n = key_names[i];
                _cleanup_free_ char *key = key_file(dir, n, "key"), *crt = key_file(dir, n, "crt"),
                                    *esl = key_file(dir, n, "esl"),
                                    *subj = strdup_printf("/CN=%s %s/", cn, n);
                if (!key || !crt || !esl || !subj)
                        return -ENOMEM;
                r = spawn_run((char *[]){ (char *) "openssl", (char *) "req", (char *) "-new",
                                          (char *) "-x509", (char *) "-newkey", (char *) "rsa:2048",
                                          (char *) "-nodes", (char *) "-sha256", (char *) "-days",
                                          (char *) "3650", (char *) "-subj", subj,
                                          (char *) "-keyout", key, (char *) "-out", crt, NULL },
                              NULL, NULL);
                if (r < 0)
                        return error_wrapf(r, "openssl: cannot make the %s key in %s", n, dir);
                if (chmod(key, 0600) < 0)
                        return error_wrapf(-errno, "%s", key);
                r = spawn_run((char *[]){ (char *) "cert-to-efi-sig-list", (char *) "-g", guid, crt,
                                          esl, NULL },
                              NULL, NULL);
                if (r < 0)
                        return error_wrapf(r, "cert-to-efi-sig-list: %s", crt);
        }
        for (size_t i = 0; i < ELEMENTSOF(key_names); i++) {
                const char *n = key_names[i];
                _cleanup_free_ char *skey = key_file(dir, signer_of(i), "key"),
                                    *scrt = key_file(dir, signer_of(i), "crt"),
                                    *esl = key_file(dir, n, "esl"),
                                    *auth = key_file(dir, n, "auth");
                if (!skey || !scrt || !esl || !auth)
                        return -ENOMEM;
                r = spawn_run((char *[]){ (char *) "sign-efi-sig-list", (char *) "-g", guid,
                                          (char *) "-k", skey, (char *) "-c", scrt, (char *) n, esl,
                                          auth, NULL },
                              NULL, NULL);
                if (r < 0)
                        return error_wrapf(r, "sign-efi-sig-list: %s", auth);
        }
        printf("Secure Boot keys in %s: PK, KEK, db (.key .crt .esl .auth), owner %s\n", dir, guid);
        return 0;
}

int secureboot_keys_check(const char *dir) {
        static const char *const need[] = { "db.key", "db.crt", "PK.auth", "KEK.auth", "db.auth" };
        for (size_t i = 0; i < ELEMENTSOF(need); i++) {
                _cleanup_free_ char *p = path_join(dir, need[i]);
                if (!p)
                        return -ENOMEM;
                if (access(p, R_OK) < 0)
                        return error_setf(ENOENT,
                                          "Secure Boot keys: %s: %s (make the directory with "
                                          "`berth keygen --secure-boot --output DIR`)",
                                          p, strerror(errno));
        }
        return 0;
}

static int size_of(const char *path, unsigned long long *ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return error_wrapf(-errno, "%s", path);
        *ret = (unsigned long long) st.st_size;
        return 0;
}

int secureboot_make_uki(const char *stub, const char *os_release, const char *cmdline,
                        const char *kernel, const char *initrd, const char *out) {
        unsigned long long ks = 0;
        int r;

        if ((r = size_of(kernel, &ks)) < 0)
                return r;
        if (UKI_LINUX_VMA + ks > UKI_INITRD_VMA)
                return error_setf(EFBIG, "%s: %llu bytes do not fit below the initrd section",
                                  kernel, ks);
        _cleanup_free_ char *osrel = strdup_printf(".osrel=%s", os_release),
                            *cmd = strdup_printf(".cmdline=%s", cmdline),
                            *lin = strdup_printf(".linux=%s", kernel),
                            *ini = strdup_printf(".initrd=%s", initrd),
                            *v_osrel = strdup_printf(".osrel=0x%llx", UKI_OSREL_VMA),
                            *v_cmd = strdup_printf(".cmdline=0x%llx", UKI_CMDLINE_VMA),
                            *v_lin = strdup_printf(".linux=0x%llx", UKI_LINUX_VMA),
                            *v_ini = strdup_printf(".initrd=0x%llx", UKI_INITRD_VMA);
        if (!osrel || !cmd || !lin || !ini || !v_osrel || !v_cmd || !v_lin || !v_ini)
                return -ENOMEM;
        r = spawn_run((char *[]){ (char *) "objcopy",
                                  (char *) "--add-section",
                                  osrel,
                                  (char *) "--change-section-vma",
                                  v_osrel,
                                  (char *) "--add-section",
                                  cmd,
                                  (char *) "--change-section-vma",
                                  v_cmd,
                                  (char *) "--add-section",
                                  lin,
                                  (char *) "--change-section-vma",
                                  v_lin,
                                  (char *) "--add-section",
                                  ini,
                                  (char *) "--change-section-vma",
                                  v_ini,
                                  (char *) stub,
                                  (char *) out,
                                  NULL },
                      NULL, NULL);
        return r < 0 ? error_wrapf(r, "objcopy: cannot make the unified kernel image %s", out) : 0;
}

int secureboot_sign(const char *dir, const char *in, const char *out) {
        _cleanup_free_ char *key = key_file(dir, "db", "key"), *crt = key_file(dir, "db", "crt");
        int r;

        if (!key || !crt)
                return -ENOMEM;
        r = spawn_run((char *[]){ (char *) "sbsign", (char *) "--key", key, (char *) "--cert", crt,
                                  (char *) "--output", (char *) out, (char *) in, NULL },
                      NULL, NULL);
        if (r < 0)
                return error_wrapf(r, "sbsign: cannot sign %s", in);
        r = spawn_run((char *[]){ (char *) "sbverify", (char *) "--cert", crt, (char *) out, NULL },
                      NULL, NULL);
        return r < 0 ? error_wrapf(r, "sbverify: the signature of %s does not check", out) : 0;
}
