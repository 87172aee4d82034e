/* An instruction pemu does not implement (AESE, from the cryptographic
 * extension, which pemu's HWCAPs do not advertise) and a permanently undefined one
 * (UDF) raise SIGILL; a handler catches both. Run with an argument, the
 * program does not catch it and dies of SIGILL. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf back;

static void on_ill(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    printf("caught signal %d code %d\n", sig, si->si_code);
    siglongjmp(back, 1);
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc == 1) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_ill;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigaction(SIGILL, &sa, NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (!sigsetjmp(back, 1))
            __asm__ volatile(".inst 0x4e284800");  /* aese v0.16b, v0.16b */
        printf("after aese %d\n", i);
    }
    if (!sigsetjmp(back, 1))
        __asm__ volatile(".inst 0x00000000");  /* udf #0 */
    printf("after udf\n");
    return 0;
}
