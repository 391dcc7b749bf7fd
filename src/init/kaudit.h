/* SPDX-License-Identifier: MIT */
/* kaudit.h: the kernel audit trail without auditd (docs/services.md,
 * "Audit"). PID 1 talks NETLINK_AUDIT itself: it turns auditing on,
 * registers as the audit daemon, loads a small rule set (kaudit_rules:
 * kernel module loads and unloads, mounts, time set, and writes and
 * attribute changes under /var/lib/berth), and reads the records from its
 * event loop as "type=NAME msg=audit(...): ..." lines into the log sink,
 * which keeps them in /var/log/berth/audit.log, rotated like every service
 * log. No extra process: the audit trail costs no memory of its own. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
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

/* Opens the audit socket (non-blocking), turns auditing on with this
 * process as the audit daemon and loads kaudit_rules (a rule the kernel
 * still has is fine). Returns the socket, or a negative errno
 * (-EPROTONOSUPPORT: a kernel without audit). */
int kaudit_open(void);

/* A record line's buffer: the kernel's longest record and its type. */
#define AUDIT_LINE_MAX (8970 + 64)

/* Takes one message from fd: a record as a log line without its newline
 * into line (returns its length), 0 for a message that is no record, or
 * -EAGAIN when there is none. */
ssize_t kaudit_read(int fd, char *line, size_t size);
