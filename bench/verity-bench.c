/* SPDX-License-Identifier: MIT */
/* verity-bench DATA HASH SALT_HEX UUID: runs verity_format() once, prints the
 * root hash. Built and run by bench/verity-speed.sh. */
#include <stdio.h>

#include "verity.h"

int main(int argc, char **argv) {
        char root[65];
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: %s DATA HASH SALT_HEX UUID\n", argv[0]);
                return 2;
        }
        r = verity_format(argv[1], argv[2], argv[3], argv[4], root);
        if (r < 0) {
                fprintf(stderr, "verity_format: error %d\n", r);
                return 1;
        }
        printf("%s\n", root);
        return 0;
}
