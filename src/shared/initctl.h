/* SPDX-License-Identifier: MIT */
/* initctl.h: what berth-init (PID 1) shows other processes about its
 * services, and how they ask it to start, stop or restart one
 * (docs/services.md, "Service state and control"). Both sides live here: PID 1
 * formats status files and parses control lines without allocating; clients
 * (the `berth service` verb, later berthd) read the files and talk to the
 * socket. Needs only libc.
 *
 *   /run/berth/services/NAME   one status file per service, key=value lines,
 *                              replaced atomically (temp file + rename)
 *   /run/berth/init.sock       SOCK_SEQPACKET, root only: one request
 *                              "VERB NAME" (start, stop, restart), one reply
 *                              "ok ..." or "error ..." */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define SERVICE_NAME_MAX 64
#define INITCTL_RUN_DIR "/run/berth"
#define INITCTL_STATUS_DIR INITCTL_RUN_DIR "/services"
#define INITCTL_SOCKET INITCTL_RUN_DIR "/init.sock"
/* Longest request PID 1 reads; longer ones are refused whole. */
#define INITCTL_LINE_MAX 128
/* Longest reply. */
#define INITCTL_REPLY_MAX 256
/* A status file is never longer than this. */
#define SERVICE_STATUS_TEXT_MAX 512

/* [A-Za-z0-9_][A-Za-z0-9_.@-]*, shorter than SERVICE_NAME_MAX: service file
 * names, status file names and control requests all follow this rule. */
bool service_name_is_valid(const char *s);

typedef enum InitCtlVerb {
        INITCTL_START,
        INITCTL_STOP,
        INITCTL_RESTART,
        _INITCTL_VERB_MAX,
        _INITCTL_VERB_INVALID = -EINVAL,
} InitCtlVerb;

const char *initctl_verb_to_string(InitCtlVerb v);
InitCtlVerb initctl_verb_from_string(const char *s);

/* One service's state as the status file holds it. */
typedef struct ServiceStatus {
        char name[SERVICE_NAME_MAX];
        char state[16];      /* waiting starting ready stopping restarting failed exited ... */
        int pid;             /* main process, 0 when none runs */
        unsigned restarts;   /* starts after the first (crash restarts and requested ones) */
        uint64_t ready_usec; /* CLOCK_BOOTTIME (uptime) of the last readiness, 0: never ready */
        int exit_status;     /* last exit status, -1: none yet or killed by a signal */
        int exit_signal;     /* signal that killed it last, 0: none */
} ServiceStatus;

/* Writes the status file text into buf; returns its length, or -ENOBUFS.
 * No allocation: PID 1 calls it in its loop. */
int service_status_format(const ServiceStatus *s, char *buf, size_t size);

/* Parses a status file's text. Keys it does not know are skipped (newer
 * berth-init, older client); a known key with a bad value, a line without
 * '=', or no name/state is -EBADMSG. */
int service_status_parse(const char *text, size_t size, ServiceStatus *ret);

/* Replaces DIR_FD/NAME atomically (.NAME.tmp, then rename) with the status
 * text of s, mode 0644. No allocation. */
int service_status_write(int dir_fd, const ServiceStatus *s);

/* Reads and parses DIR/NAME. -ENOENT when there is no such service. */
int service_status_read(const char *dir, const char *name, ServiceStatus *ret);

/* Parses one request, "VERB NAME" with an optional trailing newline, exactly
 * one space between. -EBADMSG on anything else (also a NUL byte, or more than
 * INITCTL_LINE_MAX bytes). Fills ret_name (SERVICE_NAME_MAX bytes). */
int initctl_parse_request(const char *buf, size_t size, InitCtlVerb *ret_verb, char *ret_name);

/* Client: sends "VERB NAME" to the socket at path and waits up to
 * timeout_ms for the reply (copied to reply, NUL-terminated). Returns 0 when
 * PID 1 answered "ok ...", -EBADR when it answered "error ...", or a negative
 * errno when the socket could not be used (-ECONNREFUSED, -ENOENT: no PID 1
 * listening; -ETIMEDOUT). */
int initctl_request(const char *path, InitCtlVerb verb, const char *name, unsigned timeout_ms,
                    char *reply, size_t size);
