/* SPDX-License-Identifier: MIT */
/* placeholder: implemented by its owner */
