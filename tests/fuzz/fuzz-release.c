/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Release (InRelease signed text) field parser, its
 * date parser on Date:/Valid-Until:, and the SHA256 section lookup. The
 * signature is checked before any of this runs, but a repository's own key
 * still signs whatever its server generates: the text is outside input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookup(const RepoRelease *rel, const char *path) {
        char hex[SHA256_HEX_SIZE];
        uint64_t sz;

        if (repo_release_lookup(rel, path, hex, &sz) && strlen(hex) != 64)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RepoRelease rel;
        time_t t;

        log_set_max_level(LOG_LEVEL_ERR - 1);
        if (repo_release_parse_string((const char *) data, size, &rel) < 0)
                return 0;
        if (rel.date)
                (void) repo_release_parse_date(rel.date, &t);
        if (rel.valid_until)
                (void) repo_release_parse_date(rel.valid_until, &t);

        /* The names the composer asks for, and the first name listed (so
         * that lookups which succeed are reached without guessing a name). */
        lookup(&rel, "main/binary-amd64/Packages.xz");
        lookup(&rel, "main/binary-amd64/Packages.gz");
        lookup(&rel, "main/binary-amd64/Packages");
        if (rel.sha256) {
                char name[256];
                if (sscanf(rel.sha256, " %*s %*s %255s", name) == 1)
                        lookup(&rel, name);
        }
        repo_release_done(&rel);
        repo_release_done(&rel); /* a second call must be harmless */
        return 0;
}
