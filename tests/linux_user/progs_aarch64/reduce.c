/* Integer reductions gcc -O3 vectorises: popcount (CNT + UADALP), sums of absolute
 * differences, widening sums (SADDLV), min/max, saturating adds written in C. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#define N 1000
static uint64_t w[N]; static uint8_t a[N], b[N]; static int16_t s[N]; static int32_t hist[256];
int main(void) {
    for (int i = 0; i < N; i++) { w[i] = (uint64_t)i * 0x9E3779B97F4A7C15ULL; a[i] = (uint8_t)(i * 37); b[i] = (uint8_t)(i * 11 + 3); s[i] = (int16_t)(i * 97 - 30000); }
    long pc = 0; for (int i = 0; i < N; i++) pc += __builtin_popcountll(w[i]);
    unsigned sad = 0; for (int i = 0; i < N; i++) sad += abs(a[i] - b[i]);
    long ssum = 0; for (int i = 0; i < N; i++) ssum += s[i];
    int smax = -32768; for (int i = 0; i < N; i++) smax = s[i] > smax ? s[i] : smax;
    uint8_t amin = 255; for (int i = 0; i < N; i++) amin = a[i] < amin ? a[i] : amin;
    for (int i = 0; i < N; i++) hist[a[i]]++;
    unsigned cnt = 0; for (int i = 0; i < N; i++) cnt += a[i] > 100;
    for (int i = 0; i < N; i++) { int v = a[i] + b[i]; a[i] = v > 255 ? 255 : v; }
    unsigned long asum = 0; for (int i = 0; i < N; i++) asum += a[i];
    for (int i = 0; i < N; i++) s[i] = (int16_t)(s[i] * 3 / 4);
    long s2 = 0; for (int i = 0; i < N; i++) s2 += s[i] * (long)s[i];
    printf("%ld %u %ld %d %u %d %u %lu %ld\n", pc, sad, ssum, smax, amin, hist[37], cnt, asum, s2);
    return 0;
}
