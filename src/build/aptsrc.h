/* SPDX-License-Identifier: MIT */
/* aptsrc.h: the build machine's apt configuration, read as apt reads it:
 * sources in /etc/apt/sources.list (one-line format) and
 * /etc/apt/sources.list.d/ (*.list one-line, *.sources deb822), and the
 * Acquire::Check-Valid-Until setting from /etc/apt/apt.conf and apt.conf.d.
 * Only `deb` entries (not deb-src) for the wanted architecture are returned;
 * entries with Enabled: no are skipped. Results are owned by the caller. */
#pragma once

#include <stdbool.h>

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
