/* SPDX-License-Identifier: MIT */
/* json-util.h: the one door to jansson. berth's JSON (manifests, TUF
 * metadata, the node API) includes this header, never <jansson.h> itself, so
 * the JSON library and the limits on outside JSON live in one place. */
#pragma once

#include <jansson.h>

#include "macro.h"

/* Outside JSON (a manifest from a repository, an API request) nests at most
 * this deep and is at most this large; deeper or larger input is refused. */
#define JSON_DEPTH_MAX 16
#define JSON_SIZE_MAX (16u << 20)

/* Parses outside JSON: one document, no duplicate keys, size and depth
 * bounded. On failure returns -EBADMSG and, if ret_msg is not NULL, a message
 * "line L column C: what" (caller frees). */
int json_parse_bounded(const char *data, size_t size, json_t **ret, char **ret_msg);

/* Sets obj[key] = v, stealing v; -ENOMEM if v is NULL or the set fails. */
int json_set(json_t *obj, const char *key, json_t *v);
/* Appends v to arr, stealing v. */
int json_append(json_t *arr, json_t *v);
/* json_string(s), or JSON null for a NULL s. */
json_t *json_string_or_null(const char *s);
