/* SPDX-License-Identifier: MIT */
#include "ini.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "strv.h"

static char *strip(char *s, char *end) {
        while (s < end && isspace((unsigned char) *s))
                s++;
        while (end > s && isspace((unsigned char) end[-1]))
                end--;
        *end = 0;
        return s;
}

int ini_parse_string(const char *path, const char *data, size_t size, ini_handler_t handler,
                     void *userdata) {
        _cleanup_free_ char *section = NULL, *buf = NULL, *cont = NULL;
        unsigned line = 0, cont_line = 0;
        const char *p = data, *end = data + size;

        if (memchr(data, 0, size))
                return error_setf(EBADMSG, "%s: contains a NUL byte", path);

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                char *l, *e;
                int r;

                line++;
                free(buf);
                buf = strndup(p, len);
                if (!buf)
                        return -ENOMEM;
                p += len + (nl ? 1 : 0);

                e = buf + strlen(buf);
                l = strip(buf, e);
                e = l + strlen(l);

                if (cont) {
                        /* Continuation of the previous value. */
                        bool more = e > l && e[-1] == '\\';
                        if (more)
                                *--e = 0;
                        char *joined = strdup_printf("%s %s", cont, strip(l, e));
                        if (!joined)
                                return -ENOMEM;
                        free(cont);
                        cont = joined;
                        if (more && p < end)
                                continue;
                        goto emit;
                }

                if (*l == 0 || *l == '#' || *l == ';')
                        continue;

                if (*l == '[') {
                        if (e[-1] != ']' || e - l < 3)
                                return error_setf(EBADMSG, "%s:%u: bad section header '%s'", path,
                                                  line, l);
                        free(section);
                        section = strndup(l + 1, (size_t) (e - l - 2));
                        if (!section)
                                return -ENOMEM;
                        r = handler(path, line, section, NULL, NULL, userdata);
                        if (r < 0)
                                return r;
                        continue;
                }

                char *eq = strchr(l, '=');
                if (!eq)
                        return error_setf(EBADMSG, "%s:%u: expected Key=Value, got '%s'", path,
                                          line, l);
                if (!section)
                        return error_setf(EBADMSG, "%s:%u: key outside of any [Section]", path,
                                          line);
                *eq = 0;
                char *key = strip(l, eq);
                if (*key == 0)
                        return error_setf(EBADMSG, "%s:%u: empty key", path, line);
                char *val = strip(eq + 1, e);
                size_t vl = strlen(val);
                cont_line = line;
                free(cont);
                cont = NULL;
                if (vl > 0 && val[vl - 1] == '\\' && p < end) {
                        val[vl - 1] = 0;
                        cont = strdup(strip(val, val + vl - 1));
                        /* Remember the key in front of the value. */
                        char *kv = strdup_printf("%s=%s", key, cont ? cont : "");
                        free(cont);
                        cont = kv;
                        if (!cont)
                                return -ENOMEM;
                        continue;
                }
                r = handler(path, line, section, key, val, userdata);
                if (r < 0)
                        return r;
                continue;

        emit : {
                char *k = cont, *v = strchr(cont, '=');
                *v++ = 0;
                r = handler(path, cont_line, section, k, strip(v, v + strlen(v)), userdata);
                free(cont);
                cont = NULL;
                if (r < 0)
                        return r;
        }
        }
        if (cont) {
                char *k = cont, *v = strchr(cont, '=');
                *v++ = 0;
                return handler(path, cont_line, section, k, strip(v, v + strlen(v)), userdata);
        }
        return 0;
}

int ini_parse_file(const char *path, ini_handler_t handler, void *userdata) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(path, &data, &size, 4 * 1024 * 1024);
        if (r < 0)
                return error_wrapf(r, "%s: cannot read", path);
        return ini_parse_string(path, data, size, handler, userdata);
}

/* ---- the table layer ---- */

typedef struct TableState {
        const IniTable *t;
        IniContext c;
} TableState;

static int table_handler(const char *path, unsigned line, const char *section, const char *key,
                         const char *value, void *userdata) {
        TableState *st = userdata;
        const IniTable *t = st->t;
        IniContext *c = &st->c;
        bool known = false;

        c->line = line;
        c->section = section;
        c->key = key;
        if (!key) {
                /* First: the format may have to close the previous section. */
                int r = t->section_start ? t->section_start(c) : 0;
                if (r < 0)
                        return r;
                for (const char *const *s = t->sections; s && *s; s++)
                        if (streq(*s, section))
                                known = true;
                if (!known)
                        return error_setf(EBADMSG, "%s:%u: unknown section [%s]", path, line,
                                          section);
                return 0;
        }
        if (t->free_section && t->free_key && streq(section, t->free_section))
                return t->free_key(c, value);
        for (size_t i = 0; i < t->n_keys; i++) {
                const IniKey *k = &t->keys[i];
                if (!streq(k->section, section) || !streq(k->key, key))
                        continue;
                void *base = t->base ? t->base(c, k) : c->userdata;
                if (!base)
                        return -EINVAL;
                return k->parse(c, k, value, base);
        }
        return error_setf(EBADMSG, "%s:%u: unknown key '%s' in [%s]", path, line, key, section);
}

int ini_parse_table(const char *path, const char *data, size_t size, const IniTable *t,
                    void *userdata) {
        TableState st = { .t = t, .c = { .path = path, .userdata = userdata } };
        return ini_parse_string(path, data, size, table_handler, &st);
}

int ini_bad_value(const IniContext *c, const char *fmt, ...) {
        char why[ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        return error_setf(EBADMSG, "%s:%u: %s.%s: %s", c->path, c->line, strna(c->section),
                          strna(c->key), why);
}

bool ini_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

#define FIELD(type, base, k) ((type *) ((uint8_t *) (base) + (k)->offset))

int ini_key_string(IniContext *c, const IniKey *k, const char *value, void *base) {
        char **field = FIELD(char *, base, k);
        /* With a check, an empty value is checked too (and so usually refused). */
        if (k->valid ? !k->valid(value) : !ini_printable(value))
                return ini_bad_value(c, "invalid %s '%s'", k->what ?: "value", value);
        /* An empty value resets the field. */
        char *copy = NULL;
        if (*value && !(copy = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

int ini_key_words(IniContext *c, const IniKey *k, const char *value, void *base) {
        char ***field = FIELD(char **, base, k);
        _cleanup_free_ char *bad = NULL;
        int r = strv_update_words(field, value, k->valid, &bad);
        if (r == -EINVAL && bad)
                return ini_bad_value(c, "invalid %s '%s'", k->what ?: "word", bad);
        return r;
}

int ini_key_unsigned(IniContext *c, const IniKey *k, const char *value, void *base) {
        uint64_t v;
        if (parse_u64(value, &v) < 0 || v < k->min || v > k->max || v > UINT_MAX)
                return ini_bad_value(c, "'%s' is not a number from %" PRIu64 " to %" PRIu64, value,
                                     k->min, k->max);
        *FIELD(unsigned, base, k) = (unsigned) v;
        return 0;
}

int ini_key_size(IniContext *c, const IniKey *k, const char *value, void *base) {
        int r = parse_bytes(value, FIELD(uint64_t, base, k));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return ini_bad_value(c, "'%s' is not a size (bytes, or a number with K, M or G)",
                                     value);
        return 0;
}

int ini_key_bool(IniContext *c, const IniKey *k, const char *value, void *base) {
        if (parse_bool(value, FIELD(bool, base, k)) < 0)
                return ini_bad_value(c, "'%s' is not yes or no", value);
        return 0;
}
