/* SPDX-License-Identifier: MIT */
/* kaudit.h: the kernel audit trail without auditd (docs/services.md, "Audit").
 * `berth-init --kernel-audit`, run as the service `audit`, talks
 * NETLINK_AUDIT: it turns auditing on, registers itself as the audit daemon,
 * loads a small rule set (kaudit_rules: kernel module loads and unloads,
 * mounts, time set, and writes and attribute changes under /var/lib/berth),
 * says READY=1 on $NOTIFY_SOCKET, and writes every record to stdout as
 * "type=NAME msg=audit(...): ..." lines, which berth-init keeps in
 * /var/log/berth/audit.log, rotated like every service log. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum KauditRuleKind {
        KAUDIT_SYSCALLS, /* the syscalls listed, on this architecture */
        KAUDIT_DIR,      /* writes and attribute changes below a directory */
} KauditRuleKind;

typedef struct KauditRule {
        const char *key; /* key="..." in the records */
        KauditRuleKind kind;
        const char *dir;  /* KAUDIT_DIR */
        const int *calls; /* KAUDIT_SYSCALLS, ending with -1 */
} KauditRule;

extern const KauditRule kaudit_rules[];
extern const size_t kaudit_rules_n;

/* The AUDIT_ADD_RULE payload (struct audit_rule_data and its strings) for
 * rule into buf; returns its size, or -ENOBUFS. */
int kaudit_rule_encode(const KauditRule *rule, void *buf, size_t size);

/* A record as a log line: "type=SYSCALL msg=TEXT\n" (TEXT as the kernel sent
 * it, without a trailing NUL or newline) into buf; returns its length. */
size_t kaudit_format(uint16_t type, const char *text, size_t len, char *buf, size_t size);

/* Runs the reader until SIGTERM; returns a negative errno if auditing
 * cannot be set up (not root, no audit in the kernel). */
int kaudit_run(void);
