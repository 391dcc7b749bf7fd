/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the build host's apt configuration parsers (one-line
 * sources.list, deb822 .sources, the apt.conf scanner) on arbitrary input.
 * Each input goes through all three, so one corpus serves them all. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aptsrc.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a caller of apt_config_load() relies on for every source returned. */
static void check_sources(const AptConfig *c) {
        for (size_t i = 0; i < c->n_sources; i++) {
                const SpecSource *s = &c->sources[i];
                if (!s->uri || !s->suites || !s->suites[0] || !s->components || !s->components[0])
                        __builtin_trap();
                size_t n = strlen(s->uri);
                if (n > 1 && s->uri[n - 1] == '/')
                        __builtin_trap();
        }
}

static void one_sources(const char *path, const char *text, size_t size, bool deb822,
                        const char *arch) {
        AptConfig *c = calloc(1, sizeof *c);
        if (!c)
                return;
        c->check_valid_until = true;
        (void) apt_sources_parse_string(path, text, size, deb822, arch, c);
        /* Sources taken before an error are kept; they must be whole too. */
        check_sources(c);
        apt_config_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        /* The architecture filter is a branch of its own: let the input pick. */
        const char *arch = size % 2 ? "amd64" : NULL;

        /* Rejections are the common case; logging each one only slows the run. */
        log_set_max_level(LOG_LEVEL_ERR - 1);

        one_sources("fuzz.list", text, size, false, arch);
        one_sources("fuzz.sources", text, size, true, arch);

        AptConfig *c = calloc(1, sizeof *c);
        if (!c)
                return 0;
        c->check_valid_until = true;
        (void) apt_conf_parse_string("fuzz.conf", text, size, c);
        if (c->n_sources != 0)
                __builtin_trap();
        apt_config_free(c);
        return 0;
}
