/* SPDX-License-Identifier: MIT */
/* error.h: the one error path of berth's libraries (as crun's
 * libcrun_error_t). A library function returns a negative errno and fills the
 * calling thread's error object with one human message that says what failed
 * on which file, line or field; it logs at debug level at most. The binary
 * (the CLI's main, the API daemon answering a request) takes the message once
 * with error_message() and shows it.
 *
 *   return error_setf(EINVAL, "%s:%u: unknown key '%s'", path, line, key);
 *       an error the code detected itself: the message has no strerror suffix
 *   return error_wrapf(r, "cannot unpack %s", deb);
 *       context around an error from below: "cannot unpack X: <below>", where
 *       <below> is the pending message if it is about the same errno, else
 *       strerror(-r) (a system error nobody described yet)
 *
 * The object is per thread, so the download threads and the API daemon's
 * request threads do not mix messages. */
#pragma once

#include <stdarg.h>

#include "macro.h"

#define ERROR_MESSAGE_MAX 1024

/* Sets the error: code is a positive errno (EINVAL, EBADMSG, ...). Returns -code. */
int error_setf(int code, const char *fmt, ...) _printf_(2, 3);

/* Adds context to r (a negative errno; a positive one is negated) as
 * described above. Returns the negative errno. */
int error_wrapf(int r, const char *fmt, ...) _printf_(2, 3);

/* The message for r: the pending message if it is about -r, else strerror(-r).
 * Valid until the next error call of this thread. */
const char *error_message(int r);

/* The pending error's errno (positive), 0 if none. */
int error_code(void);

/* Forgets the pending error (a caller that recovered from one). */
void error_clear(void);

/* Exit codes a script can tell apart (docs/errors.md), from a negative errno.
 * sysexits.h values. */
enum {
        EXIT_CODE_USAGE = 64,        /* bad command line */
        EXIT_CODE_DATAERR = 65,      /* bad input: spec, manifest, package, signature */
        EXIT_CODE_UNAVAILABLE = 69,  /* a server, a program or a package is not there */
        EXIT_CODE_SOFTWARE = 70,     /* an internal error (out of memory, a bug) */
        EXIT_CODE_IOERR = 74,        /* reading or writing failed (disk full, EIO) */
        EXIT_CODE_TEMPFAIL = 75,     /* timed out; try again */
        EXIT_CODE_INTERRUPTED = 130, /* stopped by SIGINT, SIGTERM or SIGHUP */
};
int error_exit_code(int r);
