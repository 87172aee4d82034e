/* brk, mmap, mprotect, mremap, munmap. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    char *b0 = sbrk(0);
    char *b1 = sbrk(8192);
    printf("sbrk ok=%d\n", b0 == b1 && sbrk(0) == b0 + 8192);
    memset(b1, 7, 8192);
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok=%d zero=%d\n", p != MAP_FAILED, p[5000] == 0);
    strcpy(p, "mapped");
    p = mremap(p, 3 * 4096, 64 * 4096, MREMAP_MAYMOVE);
    printf("mremap ok=%d keep=%s\n", p != MAP_FAILED, p);
    printf("mprotect=%d\n", mprotect(p, 4096, PROT_READ));
    printf("munmap=%d\n", munmap(p, 64 * 4096));
    size_t big = 8 << 20;
    char *m = malloc(big);
    for (size_t i = 0; i < big; i += 4096)
        m[i] = (char)i;
    long sum = 0;
    for (size_t i = 0; i < big; i += 4096)
        sum += m[i];
    printf("malloc sum=%ld\n", sum);
    free(m);
    char *q = mmap((void *)0x200000000, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("fixed ok=%d\n", q == (void *)0x200000000);
    return 0;
}
