/* A SIGSEGV handler reads the arm64 ucontext (fault address, registers, PSTATE,
 * the fpsimd record) and resumes past the fault by editing pc and x0. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <stdint.h>
static void h(int sig, siginfo_t *si, void *p) {
    ucontext_t *uc = p;
    mcontext_t *mc = &uc->uc_mcontext;
    printf("sig %d addr %p fault %llx x0 %llx x1 %llx pstate %llx\n", sig, si->si_addr,
           (unsigned long long)mc->fault_address, (unsigned long long)mc->regs[0],
           (unsigned long long)mc->regs[1], (unsigned long long)(mc->pstate & 0xf0000000));
    struct fpsimd_context *fp = (struct fpsimd_context *)mc->__reserved;
    printf("fpsimd magic %x size %u v1 %llx\n", fp->head.magic, fp->head.size,
           (unsigned long long)fp->vregs[1]);
    mc->regs[0] = 77;
    mc->pc += 4;  /* skip the faulting load */
}
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    uint64_t r;
    __asm__ volatile("mov x1, #0x1234\n fmov d1, x1\n cmp x1, x1\n mov x0, #16\n ldr x0, [x0]\n mov %0, x0" : "=r"(r) : : "x0", "x1", "v1", "cc");
    printf("resumed with x0 = %llu\n", (unsigned long long)r);
    return 0;
}
