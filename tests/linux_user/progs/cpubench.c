/* CPU-bound work for benchmarks/user.py: a sieve and an integer hash loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    char *sieve = calloc(n + 1, 1);
    int primes = 0;
    for (int i = 2; i <= n; i++) {
        if (!sieve[i]) {
            primes++;
            for (long j = (long)i * i; j <= n; j += i) sieve[j] = 1;
        }
    }
    unsigned long h = 1469598103934665603UL;
    for (int i = 0; i < n; i++) {
        h ^= (unsigned long)i;
        h *= 1099511628211UL;
    }
    printf("primes=%d hash=%lx\n", primes, h);
    return 0;
}
