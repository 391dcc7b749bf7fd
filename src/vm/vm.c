/* SPDX-License-Identifier: MIT */
#include "vm.h"
#include "log.h"

int vm_run(const VmOptions *o) {
        return log_error_code(ENOSYS, "vm: not yet wired");
}
