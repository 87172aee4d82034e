/* struct sigaction on arm64 has sa_restorer before sa_mask: the mask must take effect. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
static void h(int s) {
    sigset_t cur; sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("in handler %d: usr2 blocked=%d usr1 blocked=%d\n", s, sigismember(&cur, SIGUSR2), sigismember(&cur, SIGUSR1));
}
int main(void) {
    struct sigaction sa, old; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h; sigemptyset(&sa.sa_mask); sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &old);
    printf("old flags %x mask usr2=%d handler ok=%d\n", old.sa_flags, sigismember(&old.sa_mask, SIGUSR2), old.sa_handler == h);
    return 0;
}
