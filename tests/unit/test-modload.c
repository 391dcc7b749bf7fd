/* SPDX-License-Identifier: MIT */
/* berth's module loader (src/shared/modload.c) on depmod's text indexes:
 * lines taken from Debian's 6.1 kernel (linux-image-6.1.0-56-amd64, after
 * berth's tailoring: modules are .ko.xz), a module tree in a temporary
 * directory whose files are ELF or xz as the initramfs and /usr hold them,
 * and a recording stand-in for the kernel's init_module/finit_module
 * (loading into the build machine's kernel is not a unit test's business;
 * vm-boot loads them into a guest's). What resolves to what, the order of
 * the inserts, which loader each file gets, the options, and one error
 * naming file and line for each kind of malformed line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdline.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "modload.h"
#include "strv.h"

static const char dep[] =
        "kernel/arch/x86/crypto/crc32c-intel.ko.xz:\n"
        "kernel/fs/mbcache.ko.xz:\n"
        "kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz kernel/fs/mbcache.ko.xz "
        "kernel/fs/jbd2/jbd2.ko.xz\n"
        "kernel/fs/jbd2/jbd2.ko.xz:\n"
        "kernel/crypto/crc32c_generic.ko.xz:\n"
        "kernel/lib/crc16.ko.xz:\n"
        "kernel/lib/libcrc32c.ko.xz:\n"
        "kernel/lib/reed_solomon/reed_solomon.ko.xz:\n"
        "kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz\n"
        "kernel/drivers/virtio/virtio_ring.ko.xz:\n"
        "kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:\n"
        "kernel/drivers/virtio/virtio_pci_legacy_dev.ko.xz:\n"
        "kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_legacy_dev.ko.xz "
        "kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz kernel/drivers/virtio/virtio.ko.xz "
        "kernel/drivers/virtio/virtio_ring.ko.xz\n"
        "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz "
        "kernel/drivers/virtio/virtio_ring.ko.xz\n"
        "kernel/drivers/scsi/scsi_mod.ko.xz: kernel/drivers/scsi/scsi_common.ko.xz\n"
        "kernel/drivers/scsi/scsi_common.ko.xz:\n"
        "kernel/drivers/scsi/sr_mod.ko.xz: kernel/drivers/scsi/scsi_mod.ko.xz "
        "kernel/drivers/scsi/scsi_common.ko.xz kernel/drivers/cdrom/cdrom.ko.xz\n"
        "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz "
        "kernel/net/core/failover.ko.xz kernel/drivers/virtio/virtio.ko.xz "
        "kernel/drivers/virtio/virtio_ring.ko.xz\n"
        "kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz\n"
        "kernel/drivers/cdrom/cdrom.ko.xz:\n"
        "kernel/drivers/md/dm-mod.ko.xz:\n"
        "kernel/drivers/md/dm-bufio.ko.xz: kernel/drivers/md/dm-mod.ko.xz\n"
        "kernel/drivers/md/dm-verity.ko.xz: kernel/drivers/md/dm-bufio.ko.xz "
        "kernel/drivers/md/dm-mod.ko.xz kernel/lib/reed_solomon/reed_solomon.ko.xz\n"
        "kernel/net/core/failover.ko.xz:\n";

static const char builtin[] = "kernel/arch/x86/events/amd/amd-uncore.ko\n"
                              "kernel/mm/zswap.ko\n"
                              "kernel/mm/zpool.ko\n";

static const char alias[] = "# Aliases extracted from modules themselves.\n"
                            "alias crypto-crc32c-intel crc32c_intel\n"
                            "alias crc32c-intel crc32c_intel\n"
                            "alias crypto-crc32c crc32c_intel\n"
                            "alias crc32c crc32c_intel\n"
                            "alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel\n"
                            "alias fs-ext4 ext4\n"
                            "alias ext3 ext4\n"
                            "alias crypto-crc32c-generic crc32c_generic\n"
                            "alias crypto-crc32c crc32c_generic\n"
                            "alias crc32c crc32c_generic\n"
                            "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n"
                            "alias virtio:d00000002v* virtio_blk\n"
                            "alias scsi:t-0x04* sr_mod\n"
                            "alias scsi:t-0x05* sr_mod\n"
                            "alias block-major-11-* sr_mod\n"
                            "alias virtio:d00000001v* virtio_net\n"
                            "alias devname:mapper/control dm_mod\n"
                            "alias char-major-10-236 dm_mod\n";

static const char softdep[] = "# Soft dependencies extracted from modules themselves.\n"
                              "softdep ext4 pre: crypto-crc32c\n"
                              "softdep jbd2 pre: crypto-crc32c\n"
                              "softdep cifs gcm\n"
                              "softdep libcrc32c pre: crc32c\n"
                              "softdep virtio_net post: no_such_module\n";

static char dir[] = "/tmp/berth-test-modload-XXXXXX";

/* ---- a recording kernel ---- */

typedef struct Kernel {
        char log[4096];   /* "name(file|xz:CONTENT)[params] ..." */
        char **loaded;    /* names the kernel has */
        const char *fail; /* this module's insert fails with err */
        int err;
} Kernel;

static int fake_insert(const char *name, int fd, const void *image, size_t size, const char *params,
                       void *userdata) {
        Kernel *k = userdata;
        char content[64] = "";
        size_t l = strlen(k->log);

        if (image)
                snprintf(content, sizeof content, "xz:%.*s", (int) MIN(size, 20u),
                         (const char *) image);
        else {
                ssize_t n = pread(fd, content, sizeof content - 1, 0);
                assert_true(n > 0);
                content[n] = 0;
                memcpy(content, "file", 4); /* "\177ELF" -> "file" */
        }
        snprintf(k->log + l, sizeof k->log - l, "%s%s(%s)%s%s%s", l ? " " : "", name, content,
                 *params ? "[" : "", params, *params ? "]" : "");
        if (k->fail && streq(k->fail, name))
                return k->err;
        assert_int_equal(strv_extend(&k->loaded, name), 0);
        return 0;
}

static int fake_loaded(const char *name, void *userdata) {
        Kernel *k = userdata;
        return strv_contains(k->loaded, name);
}

static ModuleIndex *open_tree(Kernel *k) {
        _cleanup_free_ char *moddir = path_join(dir, "tree");
        ModuleIndex *idx = NULL;
        assert_int_equal(module_index_new(moddir, &idx), 0);
        ModuleKernel fk = { .insert = fake_insert, .loaded = fake_loaded, .userdata = k };
        module_index_set_kernel(idx, &fk);
        return idx;
}

static void put(const char *rel, const char *s) {
        _cleanup_free_ char *p = path_join(dir, rel);
        assert_int_equal(mkdir_parents(p, 0755), 0);
        assert_int_equal(write_file_atomic(p, s, strlen(s), 0644), 0);
}

/* The tree: every module of modules.dep as a file whose content names it;
 * ext4 and jbd2 xz-compressed as in /usr, the rest ELF as the initramfs
 * stores them (under the same .ko.xz names). */
static void make_tree(void) {
        _cleanup_strv_free_ char **lines = NULL;
        assert_int_equal(strv_extend_words(&lines, dep, false), 0);
        put("tree/modules.dep", dep);
        put("tree/modules.builtin", builtin);
        put("tree/modules.alias", alias);
        put("tree/modules.softdep", softdep);
        STRV_FOREACH(w, lines) {
                size_t n = strlen(*w);
                if ((*w)[n - 1] == ':')
                        (*w)[n - 1] = 0;
                _cleanup_free_ char *rel = path_join("tree", *w),
                                    *name = strndup(strrchr(*w, '/') + 1,
                                                    strcspn(strrchr(*w, '/') + 1, "."));
                _cleanup_free_ char *content = strdup_printf("\177ELF %s", name);
                put(rel, content);
                if (streq(name, "ext4") || streq(name, "jbd2")) {
                        _cleanup_free_ char *p = path_join(dir, rel),
                                            *cmd = strdup_printf(
                                                    "xz -c --check=crc32 %s > %s.tmp && "
                                                    "mv %s.tmp %s",
                                                    p, p, p, p);
                        assert_int_equal(system(cmd), 0);
                }
        }
}

/* ---- lookups ---- */

static void assert_resolves(ModuleIndex *idx, const char *what, const char *want) {
        _cleanup_strv_free_ char **names = NULL;
        assert_int_equal(module_resolve(idx, what, &names), 0);
        _cleanup_free_ char *got = names ? strv_join(names, " ") : strdup("");
        assert_string_equal(got, want);
}

static void test_lookup_by_name_alias_and_builtin(void **state) {
        Kernel k = {};
        _cleanup_(module_index_freep) ModuleIndex *idx = open_tree(&k);

        /* Names: '-' and '_' alike, the file name's dashes included. */
        assert_resolves(idx, "dm-verity", "dm_verity");
        assert_resolves(idx, "dm_verity", "dm_verity");
        assert_resolves(idx, "crc32c-intel", "crc32c_intel");
        /* Devices' modaliases against the glob patterns. */
        assert_resolves(idx, "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", "virtio_pci");
        assert_resolves(idx, "virtio:d00000002v00001AF4", "virtio_blk");
        assert_resolves(idx, "virtio:d00000001v00001AF4", "virtio_net");
        assert_resolves(idx, "virtio:d00000004v00001AF4", ""); /* virtio-rng: not shipped */
        /* "scsi:t-0x05" has a dash: normalised on both sides, as depmod does. */
        assert_resolves(idx, "scsi:t-0x05", "sr_mod");
        assert_resolves(idx, "cpu:type:x86,ven0000fam0006mod0055:feature:,0094,00C0",
                        "crc32c_intel");
        /* One alias, several modules, in the alias file's order. */
        assert_resolves(idx, "crypto-crc32c", "crc32c_intel crc32c_generic");
        assert_resolves(idx, "fs-ext4", "ext4");
        /* Built in: resolves, loads nothing, drives nothing. */
        assert_resolves(idx, "zswap", "zswap");
        assert_resolves(idx, "amd-uncore", "amd_uncore");
        assert_int_equal(module_load(idx, "zswap", 0, NULL), 0);
        assert_int_equal(module_drives_devices(idx, "zswap"), -ENOENT);
        assert_resolves(idx, "no_such_module", "");
        assert_int_equal(module_load(idx, "no_such_module", 0, NULL), 0);
        assert_string_equal(k.log, "");

        assert_int_equal(module_drives_devices(idx, "virtio_blk"), 1);
        assert_int_equal(module_drives_devices(idx, "virtio-pci"), 1);
        assert_int_equal(module_drives_devices(idx, "ext4"), 0);   /* fs-ext4 */
        assert_int_equal(module_drives_devices(idx, "dm_mod"), 0); /* devname:, char-major- */
        assert_int_equal(module_drives_devices(idx, "dm-verity"), 0);
        assert_int_equal(module_drives_devices(idx, "nope"), -ENOENT);
}

static int collect(const char *name, const char *path, void *userdata) {
        char **s = userdata;
        const char *rel = path && strstr(path, "/tree/") ? strstr(path, "/tree/") + 6 : path;
        _cleanup_free_ char *old = *s;
        *s = strdup_printf("%s%s%s=%s", old ?: "", old ? " " : "", name, rel ?: "builtin");
        return 0;
}

static void test_walk_for_the_initramfs(void **state) {
        Kernel k = {};
        _cleanup_(module_index_freep) ModuleIndex *idx = open_tree(&k);
        _cleanup_strv_free_ char **seen = NULL;
        _cleanup_free_ char *visited = NULL, *text = NULL;
        size_t size;

        assert_int_equal(module_index_walk(idx, "ext4", &seen, collect, &visited), 0);
        assert_string_equal(visited,
                            "ext4=kernel/fs/ext4/ext4.ko.xz crc16=kernel/lib/crc16.ko.xz "
                            "mbcache=kernel/fs/mbcache.ko.xz jbd2=kernel/fs/jbd2/jbd2.ko.xz "
                            "crc32c_intel=kernel/arch/x86/crypto/crc32c-intel.ko.xz "
                            "crc32c_generic=kernel/crypto/crc32c_generic.ko.xz");
        /* Seen once: virtio_blk's virtio and virtio_ring come with virtio_pci. */
        assert_int_equal(module_index_walk(idx, "virtio_pci", &seen, collect, &visited), 0);
        assert_int_equal(module_index_walk(idx, "virtio_blk", &seen, collect, &visited), 0);
        assert_int_equal(module_index_walk(idx, "zswap", &seen, collect, &visited), 0);
        assert_non_null(strstr(visited, " virtio_blk=kernel/drivers/block/virtio_blk.ko.xz zswap="
                                        "builtin"));
        assert_int_equal(module_index_walk(idx, "nope", &seen, collect, &visited), -ENOENT);

        /* The initramfs's index: those modules' lines only, and it reads back. */
        assert_int_equal(module_index_format(idx, MODULE_FILE_DEP, seen, &text, &size), 0);
        assert_int_equal(size, strlen(text));
        assert_non_null(strstr(text, "kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz "
                                     "kernel/fs/mbcache.ko.xz kernel/fs/jbd2/jbd2.ko.xz\n"));
        assert_null(strstr(text, "dm-verity"));
        _cleanup_free_ char *a = NULL, *s = NULL, *b = NULL;
        assert_int_equal(module_index_format(idx, MODULE_FILE_ALIAS, seen, &a, &size), 0);
        assert_non_null(strstr(a, "alias virtio:d00000002v* virtio_blk\n"));
        assert_non_null(strstr(a, "alias fs_ext4 ext4\n")); /* normalised */
        assert_null(strstr(a, "sr_mod"));
        assert_int_equal(module_index_format(idx, MODULE_FILE_SOFTDEP, seen, &s, &size), 0);
        assert_string_equal(s, "softdep ext4 pre: crypto-crc32c\n"
                               "softdep jbd2 pre: crypto-crc32c\n");
        assert_int_equal(module_index_format(idx, MODULE_FILE_BUILTIN, seen, &b, &size), 0);
        assert_string_equal(b, "kernel/mm/zswap.ko\n");

        _cleanup_(module_index_freep) ModuleIndex *small = NULL;
        const char *texts[_MODULE_FILE_MAX] = { [MODULE_FILE_DEP] = text,
                                                [MODULE_FILE_ALIAS] = a,
                                                [MODULE_FILE_SOFTDEP] = s,
                                                [MODULE_FILE_BUILTIN] = b };
        assert_int_equal(module_index_parse("/initrd/modules", texts, &small), 0);
        assert_resolves(small, "virtio:d00000002v00001AF4", "virtio_blk");
        assert_resolves(small, "crypto-crc32c", "crc32c_intel crc32c_generic");
        assert_resolves(small, "dm-verity", "");
        assert_resolves(small, "zswap", "zswap");
}

/* ---- loading ---- */

static void test_load_order_loaders_and_options(void **state) {
        Kernel k = {};
        _cleanup_(module_index_freep) ModuleIndex *idx = open_tree(&k);

        assert_int_equal(module_index_set_cmdline(idx,
                                                  "console=ttyS0 ext4.debug_want_extra_isize=1 "
                                                  "jbd2.jbd2_debug=\"1 2\" dm_verity.x=1 "
                                                  "ext4.nodelalloc quiet"),
                         0);
        /* Dependencies first (depmod lists what is needed first last), then
         * the pre soft dependencies, then the module: modprobe's order. xz
         * files are decompressed and handed over in memory, ELF ones as the
         * open file. */
        assert_int_equal(module_load(idx, "fs-ext4", 0, NULL), 6);
        assert_string_equal(k.log, "crc32c_intel(file crc32c-intel) crc32c_generic(file "
                                   "crc32c_generic) jbd2(xz:\177ELF jbd2)[jbd2_debug=\"1 2\"] "
                                   "mbcache(file mbcache) crc16(file crc16) "
                                   "ext4(xz:\177ELF ext4)[debug_want_extra_isize=1 nodelalloc]");
        /* Loaded once: nothing more to do. */
        k.log[0] = 0;
        assert_int_equal(module_load(idx, "ext4", 0, NULL), 0);
        assert_int_equal(module_load(idx, "libcrc32c", 0, NULL), 1);
        assert_string_equal(k.log, "libcrc32c(file libcrc32c)");
        strv_free(k.loaded);
}

static void test_loaded_already_and_kernel_answers(void **state) {
        Kernel k = {};
        _cleanup_(module_index_freep) ModuleIndex *idx = open_tree(&k);
        const char *failed = NULL;

        /* virtio and virtio_ring are in the kernel (another loader got them). */
        assert_int_equal(strv_extend(&k.loaded, "virtio"), 0);
        assert_int_equal(strv_extend(&k.loaded, "virtio_ring"), 0);
        assert_int_equal(module_load(idx, "virtio:d00000002v00001AF4", 0, NULL), 1);
        assert_string_equal(k.log, "virtio_blk(file virtio_blk)");

        /* EEXIST: loaded meanwhile; ENODEV: no device for this driver. Neither
         * fails, neither counts. */
        k.log[0] = 0;
        k.fail = "virtio_pci_modern_dev";
        k.err = -EEXIST;
        assert_int_equal(module_load(idx, "virtio_pci", 0, NULL), 2);
        k.fail = "sr_mod";
        k.err = -ENODEV;
        assert_int_equal(module_load(idx, "scsi:t-0x05", 0, NULL), 3); /* cdrom, scsi_* */

        /* A dependency the kernel refuses fails the module, which is not
         * tried; the message and ret_failed name the dependency. */
        k.fail = "net_failover";
        k.err = -EPERM;
        k.log[0] = 0;
        assert_int_equal(module_load(idx, "virtio_net", 0, &failed), -EPERM);
        assert_string_equal(failed, "net_failover");
        assert_non_null(strstr(error_message(-EPERM), "module virtio_net needs net_failover: "
                                                      "the kernel refused module "));
        assert_string_equal(k.log, "failover(file failover) net_failover(file net_failover)");
        /* The same answer again, without asking the kernel twice. */
        k.log[0] = 0;
        assert_int_equal(module_load(idx, "virtio_net", 0, NULL), -EPERM);
        assert_string_equal(k.log, "");
        strv_free(k.loaded);
}

static void test_coldplug_flags_and_only(void **state) {
        Kernel k = {};
        _cleanup_(module_index_freep) ModuleIndex *idx = open_tree(&k);
        static const char *const net[] = { "/kernel/drivers/net/", NULL };

        /* Coldplug: the blacklists of the command line are honoured quietly. */
        assert_int_equal(module_index_set_cmdline(idx, "modprobe.blacklist=virtio-blk,sr_mod "
                                                       "module_blacklist=virtio_net"),
                         0);
        const ModuleLoadFlags cold = MODULE_LOAD_BLACKLIST | MODULE_LOAD_NEW_ONLY;
        assert_int_equal(module_load(idx, "virtio:d00000002v00001AF4", cold, NULL), 0);
        assert_int_equal(module_load(idx, "scsi:t-0x05", cold, NULL), 0);
        assert_int_equal(module_load(idx, "virtio:d00000001v00001AF4", cold, NULL), 0);
        assert_string_equal(k.log, "");
        /* By name (initramfs list, modules-load.d) the blacklist is berth-init's
         * (with a warning, src/init/modules.c) or the kernel's business. */
        assert_int_equal(module_load(idx, "virtio_blk", 0, NULL), 3);

        /* Only the modules under a directory (the early coldplug: NICs); what
         * they need loads all the same. */
        assert_int_equal(module_index_set_cmdline(idx, NULL), 0);
        module_index_set_only(idx, net);
        k.log[0] = 0;
        assert_int_equal(module_load(idx, "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00",
                                     cold, NULL),
                         0);
        assert_int_equal(module_load(idx, "virtio:d00000001v00001AF4", cold, NULL), 3);
        assert_string_equal(k.log, "failover(file failover) net_failover(file net_failover) "
                                   "virtio_net(file virtio_net)");
        /* NEW_ONLY: loaded already, not asked again. */
        assert_int_equal(module_load(idx, "virtio:d00000001v00001AF4", cold, NULL), 0);
        strv_free(k.loaded);
}

static void test_options_from_the_command_line(void **state) {
        char o[64];
        const char *c = "quiet nvme_core.io_timeout=4294967295 nvme-core.multipath=N "
                        "nvme.poll_queues=2 x.=1 .y=2 nvme_core.=3 usbcore.quirks=\"a b\"";
        assert_int_equal(cmdline_module_options(c, "nvme_core", o, sizeof o),
                         (int) strlen("io_timeout=4294967295 multipath=N"));
        assert_string_equal(o, "io_timeout=4294967295 multipath=N");
        assert_int_equal(cmdline_module_options(c, "nvme", o, sizeof o),
                         (int) strlen("poll_queues=2"));
        assert_string_equal(o, "poll_queues=2");
        assert_true(cmdline_module_options(c, "usbcore", o, sizeof o) > 0);
        assert_string_equal(o, "quirks=\"a b\"");
        assert_int_equal(cmdline_module_options(c, "ext4", o, sizeof o), 0);
        assert_string_equal(o, "");
        assert_int_equal(cmdline_module_options(NULL, "ext4", o, sizeof o), 0);
        assert_int_equal(cmdline_module_options(c, "nvme_core", o, 8), -ENOBUFS);
        assert_true(cmdline_module_listed("modprobe.blacklist=a,b-c", "modprobe.blacklist", "b_c"));
        assert_false(cmdline_module_listed("modprobe.blacklist=a,b-c", "modprobe.blacklist", "b"));
}

/* ---- malformed indexes ---- */

static void assert_bad(ModuleFile which, const char *text, const char *want) {
        const char *texts[_MODULE_FILE_MAX] = { [MODULE_FILE_DEP] = dep };
        _cleanup_free_ char *full = NULL;
        ModuleIndex *idx = NULL;

        if (which == MODULE_FILE_DEP)
                texts[MODULE_FILE_DEP] = full = strdup_printf("%s%s", dep, text);
        else
                texts[which] = text;
        assert_int_equal(module_index_parse("/lib/modules/6.1.0-56-amd64", texts, &idx), -EBADMSG);
        assert_null(idx);
        if (!strstr(error_message(-EBADMSG), want))
                fail_msg("message '%s' lacks '%s'", error_message(-EBADMSG), want);
}

static void test_malformed_lines_name_file_and_line(void **state) {
        /* An appended line of modules.dep is line n. */
        unsigned n = 1;
        for (const char *p = dep; *p; p++)
                n += *p == '\n';
        char want[256];

#define WANT(fmt, ...) (snprintf(want, sizeof want, fmt, __VA_ARGS__), want)
        assert_bad(MODULE_FILE_DEP, "kernel/fs/erofs/erofs.ko.xz\n",
                   WANT("/lib/modules/6.1.0-56-amd64/modules.dep:%u: expected 'PATH: DEPENDENCIES'",
                        n));
        assert_bad(
                MODULE_FILE_DEP, "/lib/modules/x/erofs.ko:\n",
                WANT("modules.dep:%u: '/lib/modules/x/erofs.ko' is not a module file in the tree",
                     n));
        assert_bad(MODULE_FILE_DEP, "kernel/../../erofs.ko:\n",
                   WANT("modules.dep:%u: 'kernel/../../erofs.ko' is not a module file", n));
        assert_bad(MODULE_FILE_DEP, "kernel/fs/erofs/erofs.so:\n", WANT("modules.dep:%u: ", n));
        assert_bad(MODULE_FILE_DEP, "kernel/fs/erofs/er$ofs.ko:\n", WANT("modules.dep:%u: ", n));
        assert_bad(MODULE_FILE_DEP, "\n# comment\n\nkernel/fs/erofs/erofs.ko.xz: ../x.ko\n",
                   WANT("modules.dep:%u: dependency '../x.ko' is not a module file in the tree",
                        n + 3));
        assert_bad(MODULE_FILE_DEP, "kernel/fs/erofs/erofs.ko.xz: kernel/lib/lz4.ko.xz\n",
                   WANT("modules.dep:%u: kernel/fs/erofs/erofs.ko.xz needs kernel/lib/lz4.ko.xz, "
                        "which has no line of its own",
                        n));
        assert_bad(MODULE_FILE_DEP, "kernel/fs/ext4/ext4.ko:\n",
                   WANT("modules.dep:%u: module ext4 is on line 3 too", n));
#undef WANT
        assert_bad(MODULE_FILE_BUILTIN, "kernel/mm/zswap.ko\nzpool\n",
                   "modules.builtin:2: 'zpool' is not a module path");
        assert_bad(MODULE_FILE_ALIAS, "alias fs-ext4 ext4\nalias fs-erofs\n",
                   "modules.alias:2: expected 'alias PATTERN MODULE'");
        assert_bad(MODULE_FILE_ALIAS, "options ext4 x=1\n",
                   "modules.alias:1: expected 'alias PATTERN MODULE'");
        assert_bad(MODULE_FILE_ALIAS, "alias fs-erofs erofs\n",
                   "modules.alias:1: alias fs-erofs names module erofs, which modules.dep does "
                   "not list");
        assert_bad(MODULE_FILE_SOFTDEP, "softdep\n",
                   "modules.softdep:1: expected 'softdep MODULE pre: ... post: ...'");
        assert_bad(MODULE_FILE_SOFTDEP, "softdep pre: crc32c\n", "modules.softdep:1: ");
        assert_bad(MODULE_FILE_SOFTDEP, "blacklist ext4\n", "modules.softdep:1: ");

        /* What is well-formed but odd is fine: CRLF, blanks, a softdep of a
         * module not shipped. */
        const char *texts[_MODULE_FILE_MAX] = {
                [MODULE_FILE_DEP] = "kernel/fs/mbcache.ko.xz:\r\n\n  \t\n",
                [MODULE_FILE_SOFTDEP] = "softdep cifs pre: gcm post: ccm\n",
        };
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        assert_int_equal(module_index_parse(NULL, texts, &idx), 0);
        assert_resolves(idx, "mbcache", "mbcache");
}

static void test_dependency_loop(void **state) {
        const char *texts[_MODULE_FILE_MAX] = { [MODULE_FILE_DEP] = "a.ko: b.ko\nb.ko: a.ko\n" };
        _cleanup_(module_index_freep) ModuleIndex *idx = NULL;
        _cleanup_strv_free_ char **seen = NULL;
        _cleanup_free_ char *visited = NULL;
        const char *failed = NULL;
        Kernel k = {};

        assert_int_equal(module_index_parse(NULL, texts, &idx), 0);
        ModuleKernel fk = { .insert = fake_insert, .loaded = fake_loaded, .userdata = &k };
        module_index_set_kernel(idx, &fk);
        assert_int_equal(module_load(idx, "a", 0, &failed), -ELOOP);
        assert_string_equal(failed, "a");
        assert_non_null(strstr(error_message(-ELOOP), "module a: its dependencies form a loop"));
        assert_string_equal(k.log, "");
        /* The composer's walk visits each once. */
        assert_int_equal(module_index_walk(idx, "a", &seen, collect, &visited), 0);
        assert_string_equal(visited, "a=a.ko b=b.ko");
}

static int setup(void **state) {
        if (!mkdtemp(dir))
                return -1;
        make_tree();
        return 0;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

int main(void) {
        if (system("command -v xz >/dev/null") != 0) {
                fprintf(stderr, "xz is not installed, skipping\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lookup_by_name_alias_and_builtin),
                cmocka_unit_test(test_walk_for_the_initramfs),
                cmocka_unit_test(test_load_order_loaders_and_options),
                cmocka_unit_test(test_loaded_already_and_kernel_answers),
                cmocka_unit_test(test_coldplug_flags_and_only),
                cmocka_unit_test(test_options_from_the_command_line),
                cmocka_unit_test(test_malformed_lines_name_file_and_line),
                cmocka_unit_test(test_dependency_loop),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
