/* SPDX-License-Identifier: MIT */
/* audit.h: `berth audit`, the CIS Level 1 checks that apply to an image-based
 * container host, as data (docs/security.md): each check has an id (the CIS
 * Distribution Independent Linux Benchmark v2.0.0 number, or berth-NAME for
 * berth's own: Secure Boot, lockdown, verity, AppArmor), a kind and its
 * arguments. audit_run() reads the running system under a root directory
 * (/proc, /sys, /run; "/" on a node, a fake tree in tests) and never changes
 * it. libc only: it runs in `berth` on the node, which has no shell, and in
 * berthd for GET /v1/audit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum AuditKind {
        AUDIT_SYSCTL,        /* arg: sysctl name (dots); want: value, or ">=N" for N or more */
        AUDIT_MOUNT_POINT,   /* arg: path that must be a mount point of its own */
        AUDIT_MOUNT_OPTIONS, /* arg: path; want: options (comma-separated) of the mount holding it
                              */
        AUDIT_MODULE_OFF,    /* arg: module name: not loaded, and refused or not shipped */
        AUDIT_CMDLINE,       /* want: words (space-separated) that must all be on the cmdline */
        AUDIT_FILE_FIRST,    /* arg: path; want: the file's first word */
        AUDIT_LOCKDOWN,      /* want: the least lockdown mode (integrity or confidentiality) */
        AUDIT_SECURE_BOOT,   /* the firmware's SecureBoot variable is 1 */
        AUDIT_VERITY,        /* arg: mount point on a dm-verity device */
        AUDIT_SERVICE_READY, /* arg: a berth-init service that must be ready */
        _AUDIT_KIND_MAX,
} AuditKind;

typedef enum AuditResult {
        AUDIT_PASS,
        AUDIT_FAIL,
        AUDIT_SKIP,
        _AUDIT_RESULT_MAX,
} AuditResult;

typedef struct AuditCheck {
        const char *id;    /* "1.1.3", "berth-secure-boot" */
        unsigned level;    /* CIS profile level; 0 for berth's own */
        const char *title; /* what is checked, one line */
        AuditKind kind;
        const char *arg, *want;
        /* Set where a container host needs the opposite: the check is
         * reported SKIP with this reason and never fails. */
        const char *exception;
} AuditCheck;

typedef struct AuditOutcome {
        const AuditCheck *check;
        AuditResult result;
        char reason[256];
} AuditOutcome;

/* The checks, in report order; *ret_n set to their number. */
const AuditCheck *audit_checks(size_t *ret_n);
const char *audit_result_to_string(AuditResult r);

/* Runs every check against the system under root ("/" or a test tree).
 * ret gets an array of audit_checks()'s length, owned by the caller (free). */
int audit_run(const char *root, AuditOutcome **ret, size_t *ret_n);

/* The number of FAIL outcomes. */
size_t audit_failed(const AuditOutcome *o, size_t n);

/* One line per check and a summary line. */
void audit_format_text(const AuditOutcome *o, size_t n, FILE *f);
/* {"checks":[{"id","level","title","result","reason","exception"}...],
 *  "summary":{"pass","fail","skip","exceptions"}}: a new string, or NULL
 * on out of memory. */
char *audit_format_json(const AuditOutcome *o, size_t n);
