/* A guest killed by SIGSEGV must kill its emulator the same way. */
#include <stdio.h>
int main(void) {
    printf("before\n");
    fflush(stdout);
    *(volatile int *)8 = 1;
    printf("not reached\n");
    return 0;
}
