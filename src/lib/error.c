/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct {
        int code;
        char message[ERROR_MESSAGE_MAX];
} pending;

static _Thread_local char fallback[256];

int error_setf(int code, const char *fmt, ...) {
        va_list ap;

        if (code < 0)
                code = -code;
        if (code == 0)
                code = EIO;
        va_start(ap, fmt);
        (void) vsnprintf(pending.message, sizeof pending.message, fmt, ap);
        va_end(ap);
        pending.code = code;
        return -code;
}

int error_wrapf(int r, const char *fmt, ...) {
        char head[ERROR_MESSAGE_MAX], tail[ERROR_MESSAGE_MAX];
        va_list ap;

        if (r > 0)
                r = -r; /* a positive errno, as log_error_errno() took it */
        if (r == 0)
                r = -EIO;
        va_start(ap, fmt);
        (void) vsnprintf(head, sizeof head, fmt, ap);
        va_end(ap);
        if (pending.code == -r && pending.message[0])
                memcpy(tail, pending.message, sizeof tail);
        else
                (void) snprintf(tail, sizeof tail, "%s", strerror(-r));
        if (head[0]) {
                size_t h = strlen(head);
                memcpy(pending.message, head, h);
                (void) snprintf(pending.message + h, sizeof pending.message - h, ": %s", tail);
        } else
                memcpy(pending.message, tail, sizeof pending.message);
        pending.code = -r;
        return r;
}

const char *error_message(int r) {
        if (r < 0 && pending.code == -r && pending.message[0])
                return pending.message;
        (void) snprintf(fallback, sizeof fallback, "%s", strerror(r < 0 ? -r : r));
        return fallback;
}

int error_code(void) {
        return pending.code;
}

void error_clear(void) {
        pending.code = 0;
        pending.message[0] = 0;
}

int error_exit_code(int r) {
        switch (r < 0 ? -r : r) {
        case 0:
                return 0;
        case EINVAL:
        case EBADMSG:
        case EPERM:
        case EKEYREJECTED:
        case EKEYEXPIRED:
        case ELOOP:
        case ENAMETOOLONG:
        case E2BIG:
        case ERANGE:
        case EDOM:
        case ENOEXEC:
        case EMEDIUMTYPE:
        case EEXIST:
        case ENOTDIR:
        case EISDIR:
        case ESTALE:    /* update metadata older than what was seen: a replay */
        case ENOMEDIUM: /* a disk without a partition table */
                return EXIT_CODE_DATAERR;
        case ENOENT:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ECONNREFUSED:
        case ECONNRESET:
        case EHOSTDOWN:
        case ENOPKG:
        case EPROTO:
        case EADDRNOTAVAIL:
        case ENODEV:
        case ENXIO:
        case EOPNOTSUPP:
        case ESRCH:
                return EXIT_CODE_UNAVAILABLE;
        case ETIMEDOUT:
        case EAGAIN:
        case EBUSY:
                return EXIT_CODE_TEMPFAIL;
        case EIO:
        case ENOSPC:
        case EDQUOT:
        case EROFS:
        case EFBIG:
        case EACCES:
                return EXIT_CODE_IOERR;
        case EINTR:
        case ECANCELED:
                return EXIT_CODE_INTERRUPTED;
        default:
                return EXIT_CODE_SOFTWARE;
        }
}
