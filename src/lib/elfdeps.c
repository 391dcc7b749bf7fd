/* SPDX-License-Identifier: MIT */
#include "elfdeps.h"

#include <elf.h>
#include <string.h>

#include "macro.h"
#include "strv.h"

static int elf_off(const Elf64_Phdr *ph, size_t n, uint64_t vaddr, uint64_t *ret) {
        for (size_t i = 0; i < n; i++)
                if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
                    vaddr - ph[i].p_vaddr < ph[i].p_filesz) {
                        *ret = ph[i].p_offset + (vaddr - ph[i].p_vaddr);
                        return 0;
                }
        return -EBADMSG;
}

static bool str_in(const char *data, size_t size, uint64_t off, uint64_t limit) {
        if (off >= size || off >= limit)
                return false;
        return memchr(data + off, 0, MIN(size, limit) - off) != NULL;
}

int elf_read_deps(const char *data, size_t size, char ***needed, char **ret_interp) {
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *) data;
        const Elf64_Phdr *ph;
        const Elf64_Dyn *dyn = NULL;
        size_t n_dyn = 0;
        uint64_t strtab = 0, strsz = 0, stroff;
        bool have_strtab = false;
        int r;

        if (size < sizeof(Elf64_Ehdr) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
                return -ENOEXEC;
        if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
            eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
            (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
                return -EBADMSG;
        /* memcpy'd copies would be stricter on alignment; ELF keeps these aligned. */
        if (eh->e_phoff % _Alignof(Elf64_Phdr) != 0)
                return -EBADMSG;
        ph = (const Elf64_Phdr *) (data + eh->e_phoff);

        for (size_t i = 0; i < eh->e_phnum; i++) {
                if (ph[i].p_type == PT_INTERP && ret_interp) {
                        if (ph[i].p_offset >= size || ph[i].p_filesz > size - ph[i].p_offset ||
                            !str_in(data, size, ph[i].p_offset, ph[i].p_offset + ph[i].p_filesz))
                                return -EBADMSG;
                        free(*ret_interp);
                        *ret_interp = strdup(data + ph[i].p_offset);
                        if (!*ret_interp)
                                return -ENOMEM;
                } else if (ph[i].p_type == PT_DYNAMIC) {
                        if (ph[i].p_offset >= size || ph[i].p_filesz > size - ph[i].p_offset ||
                            ph[i].p_offset % _Alignof(Elf64_Dyn) != 0)
                                return -EBADMSG;
                        dyn = (const Elf64_Dyn *) (data + ph[i].p_offset);
                        n_dyn = ph[i].p_filesz / sizeof(Elf64_Dyn);
                }
        }
        for (size_t i = 0; i < n_dyn && dyn[i].d_tag != DT_NULL; i++) {
                if (dyn[i].d_tag == DT_STRTAB) {
                        strtab = dyn[i].d_un.d_ptr;
                        have_strtab = true;
                } else if (dyn[i].d_tag == DT_STRSZ)
                        strsz = dyn[i].d_un.d_val;
        }
        if (!have_strtab)
                return 0; /* static */
        r = elf_off(ph, eh->e_phnum, strtab, &stroff);
        if (r < 0)
                return r;
        /* Offsets are outside input: no sum of them may wrap (a wrapped
         * offset can land back inside the file, and the pointer arithmetic
         * on the way is undefined). */
        if (stroff >= size || strsz > UINT64_MAX - stroff)
                return -EBADMSG;
        for (size_t i = 0; i < n_dyn && dyn[i].d_tag != DT_NULL; i++) {
                if (dyn[i].d_tag != DT_NEEDED)
                        continue;
                uint64_t v = dyn[i].d_un.d_val;
                if (v >= strsz || !str_in(data, size, stroff + v, stroff + strsz))
                        return -EBADMSG;
                const char *name = data + (stroff + v);
                if (isempty(name) || streq(name, ".") || streq(name, ".."))
                        return -EBADMSG;
                if (!strv_contains(*needed, name)) {
                        r = strv_extend(needed, name);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int elf_read_modinfo(const char *data, size_t size, const char *key, char **ret_value) {
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *) data;
        const Elf64_Shdr *sh, *names;
        size_t klen = strlen(key);

        *ret_value = NULL;
        if (size < sizeof(Elf64_Ehdr) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
                return -ENOEXEC;
        if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
            eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
            (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
            eh->e_shstrndx >= eh->e_shnum)
                return -EBADMSG;
        sh = (const Elf64_Shdr *) (data + eh->e_shoff);
        names = &sh[eh->e_shstrndx];
        if (names->sh_offset > size || size - names->sh_offset < names->sh_size)
                return -EBADMSG;
        for (size_t i = 0; i < eh->e_shnum; i++) {
                if (!str_in(data + names->sh_offset, names->sh_size, sh[i].sh_name, names->sh_size))
                        return -EBADMSG;
                if (!streq(data + names->sh_offset + sh[i].sh_name, ".modinfo"))
                        continue;
                if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_offset > size ||
                    size - sh[i].sh_offset < sh[i].sh_size)
                        return -EBADMSG;
                /* NUL-separated key=value strings. */
                const char *p = data + sh[i].sh_offset, *end = p + sh[i].sh_size;
                while (p < end) {
                        const char *z = memchr(p, 0, (size_t) (end - p));
                        size_t n = z ? (size_t) (z - p) : (size_t) (end - p);
                        if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
                                *ret_value = strndup(p + klen + 1, n - klen - 1);
                                return *ret_value ? 0 : -ENOMEM;
                        }
                        p += n + 1;
                }
                return 0;
        }
        return 0;
}
