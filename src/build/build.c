/* SPDX-License-Identifier: MIT */
#include "build.h"
#include "log.h"

int build_image(const BuildOptions *o) {
        return log_error_code(ENOSYS, "build: not yet wired");
}
