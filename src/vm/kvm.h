/* SPDX-License-Identifier: MIT */
/* kvm.h: decides whether QEMU may use KVM on this machine. /dev/kvm can be
 * present yet unable to run a real guest (a nested or emulated hypervisor), so
 * the probe runs a one-instruction guest in-process and checks the CPU model
 * KVM offers before it says yes. Needs only libc and the kernel's KVM ABI. */
#pragma once

#include <stddef.h>

/* Returns 1 if KVM looks usable, 0 if not (with the reason in `why`, a
 * static string), never blocks for more than about two seconds. */
int kvm_probe(const char **why);
