/* SPDX-License-Identifier: MIT */
#include "ini.h"

#include <ctype.h>
#include <string.h>

#include "error.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

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
                                return error_setf(EBADMSG, "%s:%u: bad section header '%s'",
                                                      path, line, l);
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
                        return error_setf(EBADMSG, "%s:%u: expected Key=Value, got '%s'",
                                              path, line, l);
                if (!section)
                        return error_setf(EBADMSG, "%s:%u: key outside of any [Section]",
                                              path, line);
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
