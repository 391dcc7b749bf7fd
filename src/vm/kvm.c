/* SPDX-License-Identifier: MIT */
#include "kvm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "macro.h"

#define KVM_PROBE_TIMEOUT_S 2
#define KVM_PROBE_CPUID_ENTRIES 128

static void probe_alarm(int sig) {
        /* Only here to make KVM_RUN return EINTR. */
}

typedef struct Mapping {
        void *addr;
        size_t size;
} Mapping;

static void mappingp(Mapping *m) {
        if (m->addr && m->addr != MAP_FAILED)
                (void) munmap(m->addr, m->size);
}

/* A host whose KVM offers no SSE3 is not a real x86-64 virtualization host:
 * QEMU's default CPU models need it, and guests hang there. */
static int check_cpuid(int kvm, const char **why) {
        _cleanup_free_ struct kvm_cpuid2 *c =
                calloc(1, sizeof(*c) + KVM_PROBE_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
        if (!c)
                return -ENOMEM;
        c->nent = KVM_PROBE_CPUID_ENTRIES;
        if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0) {
                *why = "KVM_GET_SUPPORTED_CPUID failed";
                return 0;
        }
        for (uint32_t i = 0; i < c->nent; i++) {
                const struct kvm_cpuid_entry2 *e = &c->entries[i];
                if (e->function != 1)
                        continue;
                /* ECX bit 0: SSE3; EDX bit 25, 26: SSE, SSE2. */
                if (!(e->ecx & 1u) || !(e->edx & (1u << 25)) || !(e->edx & (1u << 26))) {
                        *why = "KVM offers a CPU without SSE2/SSE3 (nested or emulated hypervisor)";
                        return 0;
                }
                return 1;
        }
        *why = "KVM reports no CPUID leaf 1";
        return 0;
}

/* Runs `hlt` at guest physical address 0 in real mode. */
static int run_hlt_guest(int kvm, const char **why) {
        _cleanup_close_ int vm = -EBADF, vcpu = -EBADF;
        _cleanup_(mappingp) Mapping mem = {}, run = {};
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rip = 0, .rflags = 2 };

        vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
        if (vm < 0) {
                *why = "KVM_CREATE_VM failed";
                return 0;
        }
        mem.size = 4096;
        mem.addr = mmap(NULL, mem.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem.addr == MAP_FAILED)
                return -errno;
        ((uint8_t *) mem.addr)[0] = 0xf4; /* hlt */

        struct kvm_userspace_memory_region region = {
                .slot = 0,
                .guest_phys_addr = 0,
                .memory_size = mem.size,
                .userspace_addr = (uint64_t) (uintptr_t) mem.addr,
        };
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
                *why = "KVM_SET_USER_MEMORY_REGION failed";
                return 0;
        }
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
        if (vcpu < 0) {
                *why = "KVM_CREATE_VCPU failed";
                return 0;
        }
        int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0UL);
        if (size <= 0) {
                *why = "KVM_GET_VCPU_MMAP_SIZE failed";
                return 0;
        }
        run.size = (size_t) size;
        run.addr = mmap(NULL, run.size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run.addr == MAP_FAILED) {
                *why = "mapping the vCPU run area failed";
                return 0;
        }
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
                *why = "KVM_GET_SREGS failed";
                return 0;
        }
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
                *why = "setting the vCPU registers failed";
                return 0;
        }

        /* A timer signal breaks KVM_RUN out if the guest never halts. */
        struct sigaction sa = { .sa_handler = probe_alarm }, old_sa;
        struct itimerval timer = { .it_value = { .tv_sec = KVM_PROBE_TIMEOUT_S } }, old_timer;
        sigset_t alrm, old_mask;
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        if (sigaction(SIGALRM, &sa, &old_sa) < 0)
                return -errno;
        (void) sigprocmask(SIG_UNBLOCK, &alrm, &old_mask);
        (void) setitimer(ITIMER_REAL, &timer, &old_timer);

        int r = ioctl(vcpu, KVM_RUN, 0UL);
        int saved = errno;

        struct itimerval off = {};
        (void) setitimer(ITIMER_REAL, &off, NULL);
        (void) sigaction(SIGALRM, &old_sa, NULL);
        (void) sigprocmask(SIG_SETMASK, &old_mask, NULL);

        if (r < 0) {
                *why = saved == EINTR ? "a one-instruction guest did not halt within 2 s"
                                      : "KVM_RUN failed";
                return 0;
        }
        if (((struct kvm_run *) run.addr)->exit_reason != KVM_EXIT_HLT) {
                *why = "a one-instruction guest did not exit with HLT";
                return 0;
        }
        return 1;
}

int kvm_probe(const char **why) {
        _cleanup_close_ int kvm = -EBADF;
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = NULL;

        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
                *why = errno == ENOENT ? "/dev/kvm does not exist" : "/dev/kvm cannot be opened";
                return 0;
        }
        if (ioctl(kvm, KVM_GET_API_VERSION, 0UL) != KVM_API_VERSION) {
                *why = "/dev/kvm speaks another API version";
                return 0;
        }
        int r = run_hlt_guest(kvm, why);
        if (r <= 0)
                return r;
        return check_cpuid(kvm, why);
}
