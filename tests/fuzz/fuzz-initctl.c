/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what berth-init reads from other processes (control
 * requests on /run/berth/init.sock) and what clients read from it (status
 * files), both parsers of initctl.c on arbitrary input. A status that parses
 * must format and parse back to the same. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "initctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char name[SERVICE_NAME_MAX], text[SERVICE_STATUS_TEXT_MAX];
        ServiceStatus st, back;
        InitCtlVerb verb;

        if (initctl_parse_request((const char *) data, size, &verb, name) == 0 &&
            (!initctl_verb_to_string(verb) || !service_name_is_valid(name)))
                __builtin_trap();

        if (service_status_parse((const char *) data, size, &st) == 0) {
                int n = service_status_format(&st, text, sizeof text);
                if (n < 0 || service_status_parse(text, (size_t) n, &back) < 0 ||
                    !streq(st.name, back.name) || !streq(st.state, back.state) ||
                    st.pid != back.pid || st.restarts != back.restarts ||
                    st.exit_status != back.exit_status || st.exit_signal != back.exit_signal ||
                    st.ready_usec != back.ready_usec)
                        __builtin_trap();
        }
        return 0;
}
