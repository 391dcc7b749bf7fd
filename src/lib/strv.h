/* SPDX-License-Identifier: MIT */
/* strv.h: NULL-terminated string vectors (char **), owned by the caller and
 * freed with strv_free(). Needs only libc. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
static inline bool strv_isempty(char *const *l) {
        return !l || !*l;
}
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* Appends s itself (takes ownership, also on failure). */
int strv_push(char ***l, char *s);
/* Appends every word of s, split on whitespace (and commas if commas=true). */
int strv_extend_words(char ***l, const char *s, bool commas);
/* For list settings: an empty s resets *l; otherwise every whitespace-separated
 * word of s is appended, but only if valid (NULL: any) accepts all of them.
 * On a rejected word returns -EINVAL, leaves *l as it was and, if
 * ret_invalid, gives a copy of that word. */
int strv_update_words(char ***l, const char *s, bool (*valid)(const char *), char **ret_invalid);
char **strv_copy(char *const *l);
void strv_sort(char **l);
/* Joins with sep; returns NULL on OOM. */
char *strv_join(char *const *l, const char *sep);

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
