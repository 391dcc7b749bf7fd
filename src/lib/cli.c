/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"
#include "log.h"
#include "parse-util.h"

int cli_usage_error(const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return error_setf(CLI_USAGE_ERROR, "%s", buf);
}

int cli_number_arg(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *ret) {
        if (parse_unsigned_range(arg, min, max, ret) < 0)
                return cli_usage_error("--%s: '%s' is not a number from %u to %u", opt, arg, min,
                                       max);
        return 0;
}

int cli_finish(int r) {
        if (r >= 0)
                return MIN(r, 255);
        log_error("%s", error_message(r));
        if (r == -CLI_USAGE_ERROR)
                return EXIT_CODE_USAGE;
        return error_exit_code(r);
}
