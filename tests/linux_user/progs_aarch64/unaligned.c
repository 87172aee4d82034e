/* An unaligned load-exclusive is an alignment fault: SIGBUS kills the program. */
#include <stdio.h>
#include <stdint.h>
int main(void) {
    static uint64_t buf[4];
    char *p = (char *)buf + 4;
    uint64_t v;
    printf("before\n"); fflush(stdout);
    __asm__ volatile("ldxr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
    printf("after %llu\n", (unsigned long long)v);
    return 0;
}
