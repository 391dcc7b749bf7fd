/* SPDX-License-Identifier: MIT */
/* ini.h: the INI dialect of berth's image specs and service files.
 *
 *   # comment            ; comment
 *   [Section]
 *   Key=value            (whitespace around key and value is trimmed)
 *   Key=long \           (a trailing backslash continues the value on the next line)
 *       value
 *
 * A key before any section, a line without '=', an empty key or an unclosed
 * section header is an error naming path:line. The handler sees every
 * key/value in file order, with the line it started on; it returns < 0 to stop
 * (and fills the error object, error.h, naming path:line). Needs only libc. */
#pragma once

#include <stddef.h>

typedef int (*ini_handler_t)(const char *path, unsigned line, const char *section, const char *key,
                             const char *value, void *userdata);

/* Called for each section header too, with key == NULL and value == NULL, so
 * the handler can reject unknown sections at their own line. */
int ini_parse_string(const char *path, const char *data, size_t size, ini_handler_t handler,
                     void *userdata);
int ini_parse_file(const char *path, ini_handler_t handler, void *userdata);

/* ---- the table layer: keys as data ----
 *
 * A format (image specs, service files, settings, audit checks) is a table of
 * IniKey: section, key, a parser and where the value goes. ini_parse_table()
 * reads the text, rejects unknown sections and keys with "PATH:LINE: ...",
 * and calls each key's parser with the field's base pointer. Parsers report
 * bad values with ini_bad_value(), which makes "PATH:LINE: Section.Key: why". */

#include <stdbool.h>
#include <stdint.h>

typedef struct IniContext {
        const char *path;
        unsigned line;
        const char *section;
        const char *key;
        void *userdata; /* the format's own parse state */
} IniContext;

typedef struct IniKey IniKey;
typedef int (*ini_key_parser_t)(IniContext *c, const IniKey *k, const char *value, void *base);

struct IniKey {
        const char *section;
        const char *key;
        ini_key_parser_t parse;
        size_t offset;                   /* of the field in base, for the generic parsers */
        bool (*valid)(const char *word); /* ini_key_string, ini_key_words: each word checked */
        const char *what;                /* what a valid word is, for the message */
        uint64_t min, max;               /* ini_key_unsigned */
};

typedef struct IniTable {
        const IniKey *keys;
        size_t n_keys;
        const char *const *sections; /* known sections, NULL-terminated */
        /* At each section header, before it is checked against sections (so a
         * format can finish the previous one); may be NULL. */
        int (*section_start)(IniContext *c);
        /* A key of a section whose keys are free-form (e.g. [Sysctl]); NULL: none. */
        const char *free_section;
        int (*free_key)(IniContext *c, const char *value);
        /* The base pointer for a key's field; NULL means c->userdata. */
        void *(*base)(IniContext *c, const IniKey *k);
} IniTable;

int ini_parse_table(const char *path, const char *data, size_t size, const IniTable *t,
                    void *userdata);

/* "PATH:LINE: Section.Key: why"; returns -EBADMSG (the error object has it). */
int ini_bad_value(const IniContext *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Generic parsers; the field is at base + k->offset. A repeated key replaces
 * the value, except ini_key_words, where an empty value resets the list and
 * others append. */
int ini_key_string(IniContext *c, const IniKey *k, const char *value, void *base);   /* char * */
int ini_key_words(IniContext *c, const IniKey *k, const char *value, void *base);    /* char ** */
int ini_key_unsigned(IniContext *c, const IniKey *k, const char *value, void *base); /* unsigned */
int ini_key_size(IniContext *c, const IniKey *k, const char *value, void *base);     /* uint64_t */
int ini_key_bool(IniContext *c, const IniKey *k, const char *value, void *base);     /* bool */

/* Printable: no control characters. */
bool ini_printable(const char *s);
