/* The user-mode compute loop, built once into the test guest (run at CPL3)
   and once into the host program `native`: same source, same flags. */
#include <stdint.h>

uint64_t user_work(uint64_t n)
{
    uint64_t x = 88172645463325252ULL, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x * (i | 1);
    }
    return acc;
}
