/* Handlers, SA_SIGINFO, masks, faults caught with siglongjmp, sigaltstack. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int got;
static sigjmp_buf jb;
static volatile void *fault_addr;
static char altstack[65536];

static void h(int sig) { got = sig; }
static void hinfo(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    printf("info: sig=%d code=%d pid_ok=%d\n", sig, si->si_code, si->si_pid == getpid());
}
static void segv(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    fault_addr = si->si_addr;
    int x;
    printf("segv sig=%d code=%d onalt=%d\n", sig, si->si_code,
           (char *)&x >= altstack && (char *)&x < altstack + sizeof altstack);
    siglongjmp(jb, 1);
}
static void ill(int sig) { siglongjmp(jb, 2); }

int main(void) {
    signal(SIGUSR1, h);
    raise(SIGUSR1);
    printf("got=%d\n", got);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hinfo;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    raise(SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    printf("blocked: got=%d pending=%d\n", got, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got=%d\n", got);
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(jb, 1) == 0) {
        *(volatile int *)16 = 1;
    }
    printf("after segv: addr=%p\n", (void *)fault_addr);
    signal(SIGILL, ill);
    if (sigsetjmp(jb, 1) == 0) {
        __asm__ volatile(".word 0");
    }
    printf("after sigill\n");
    signal(SIGALRM, h);
    got = 0;
    alarm(1);
    pause();
    printf("alarm got=%d\n", got);
    signal(SIGTERM, SIG_IGN);
    raise(SIGTERM);
    printf("ignored ok\n");
    return 0;
}
