/* SPDX-License-Identifier: MIT */
/* logs.h: GET /v1/logs/NAME (docs/api.md): the last lines of a service's
 * log files (src/shared/logfile.h) as text/plain, and with follow=1 the
 * lines written after them, as they come, across rotations. Query:
 * lines=N (0 to LOGS_LINES_MAX, default LOGS_LINES_DEFAULT), follow=0|1.
 * NAME must be a valid service name (initctl.h): no '/', no leading '.',
 * so nothing outside the log directory is ever opened. */
#pragma once

#include <stdbool.h>

#include "http.h"

#define LOGS_LINES_DEFAULT 100u
#define LOGS_LINES_MAX 10000u

/* An HttpStreamHandler; userdata is the Api (api.h: its log_dir). Takes
 * only URLs under /v1/logs. */
bool logs_handle(void *userdata, const char *method, const char *url, const char *query,
                 HttpStream *ret_stream, unsigned *ret_status, char **ret_body);
