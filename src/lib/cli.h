/* SPDX-License-Identifier: MIT */
/* cli.h: what every berth binary's main does the same way: usage errors,
 * range-checked number options, and the one place an error is printed with
 * an exit code a script can tell apart (docs/errors.md). Needs only libc. */
#pragma once

#include "macro.h"

/* The errno-like marker of a usage error (exit code 64). */
#define CLI_USAGE_ERROR 1000

/* Records a usage error message; returns -CLI_USAGE_ERROR. */
int cli_usage_error(const char *fmt, ...) _printf_(1, 2);

/* A number option: digits only, within [min, max]; otherwise a usage error
 * naming the option ("--jobs: '-1' is not a number from 1 to 64"). */
int cli_number_arg(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *ret);

/* Maps a verb's result to the process exit code: r >= 0 is passed on (capped
 * at 255), r < 0 prints the pending error message once ("PREFIX: error:
 * MESSAGE") and returns its exit code. */
int cli_finish(int r);
