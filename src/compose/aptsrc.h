/* SPDX-License-Identifier: MIT */
/* aptsrc.h: the build machine's apt configuration, read as apt reads it:
 * sources in /etc/apt/sources.list (one-line format) and
 * /etc/apt/sources.list.d/ (*.list one-line, *.sources deb822), and the
 * Acquire::Check-Valid-Until setting from /etc/apt/apt.conf and apt.conf.d.
 * Only `deb` entries (not deb-src) for the wanted architecture are returned;
 * entries with Enabled: no are skipped. Results are owned by the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

typedef struct AptConfig {
        SpecSource *sources;
        size_t n_sources;
        bool check_valid_until; /* default true, as apt */
} AptConfig;

AptConfig *apt_config_free(AptConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(AptConfig *, apt_config_free);

/* root: "/" normally; tests pass a fake tree. Errors name file:line. */
int apt_config_load(const char *root, AptConfig **ret);

/* Free the members of one source (not the struct itself). */
void spec_source_done(SpecSource *s);

/* As apt_config_load(), but sources whose Architectures/arch= list does not
 * name arch are left out (arch NULL: no filtering). */
int apt_config_load_for_arch(const char *root, const char *arch, AptConfig **ret);

/* For the fuzzer and tests: parse one sources file from memory, as
 * apt_config_load_for_arch() parses a file (the text ends at size or at the
 * first NUL byte, whichever comes first). deb822: the .sources format, else the
 * one-line .list format. path is only used in messages. Accepted sources are
 * appended to into->sources; on error, those appended before it stay there and
 * remain owned by into. into: an AptConfig from calloc() (freed with
 * apt_config_free()). */
int apt_sources_parse_string(const char *path, const char *data, size_t size, bool deb822,
                             const char *arch, AptConfig *into);

/* For the fuzzer and tests: one apt.conf file from memory (same text rules as
 * above). Sets into->check_valid_until where the text sets
 * Acquire::Check-Valid-Until; leaves it alone otherwise. Errors (bad boolean,
 * unbalanced braces) name path:line. */
int apt_conf_parse_string(const char *path, const char *data, size_t size, AptConfig *into);
