/* Host twin of the guest's user-mode loop: prints "native: <tsc cycles> <checksum>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

uint64_t user_work(uint64_t n);

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], 0, 0) : 100000000ULL;
    uint64_t t0 = __rdtsc();
    uint64_t sum = user_work(n);
    uint64_t t1 = __rdtsc();
    printf("native: cycles=%llu sum=%016llx\n", (unsigned long long)(t1 - t0),
           (unsigned long long)sum);
    return 0;
}
