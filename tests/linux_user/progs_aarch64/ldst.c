/* A64 loads and stores: every size, signedness and addressing mode
 * (unsigned offset, unscaled, pre/post-index, register offset with each
 * extend, literal, pairs, exclusives, SIMD&FP registers). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t u64;
static unsigned char buf[256] __attribute__((aligned(16)));

static void fill(void) {
    for (int i = 0; i < 256; i++)
        buf[i] = (unsigned char)(i * 37 + 0x81);
}

static void dump(const char *what) {
    unsigned long long h = 1469598103934665603ULL;
    for (int i = 0; i < 256; i++)
        h = (h ^ buf[i]) * 1099511628211ULL;
    printf("%s: mem %016llx\n", what, h);
}

#define P(name, v) printf("%-10s %016llx\n", name, (unsigned long long)(v))

static void loads(void) {
    u64 r[12];
    unsigned char *p = buf + 64;
    __asm__ volatile(
        "ldrb %w0, [%12, #3]\n ldrsb %1, [%12, #5]\n ldrsb %w2, [%12, #7]\n"
        "ldrh %w3, [%12, #6]\n ldrsh %4, [%12, #10]\n ldrsh %w5, [%12, #14]\n"
        "ldr %w6, [%12, #8]\n ldrsw %7, [%12, #12]\n ldr %8, [%12, #16]\n"
        "ldur %9, [%12, #-3]\n ldursh %10, [%12, #-7]\n ldurb %w11, [%12, #-1]"
        : "=&r"(r[0]), "=&r"(r[1]), "=&r"(r[2]), "=&r"(r[3]), "=&r"(r[4]), "=&r"(r[5]),
          "=&r"(r[6]), "=&r"(r[7]), "=&r"(r[8]), "=&r"(r[9]), "=&r"(r[10]), "=&r"(r[11])
        : "r"(p) : "memory");
    for (int i = 0; i < 12; i++)
        printf("load%-6d %016llx\n", i, (unsigned long long)r[i]);
}

static void indexed(void) {
    unsigned char *p = buf + 32, *q;
    u64 a, b;
    __asm__ volatile("ldr %0, [%2, #8]!\n ldrh %w1, [%2], #-6" : "=r"(a), "=r"(b), "+r"(p)
                     : : "memory");
    P("pre", a); P("post", b); P("base", (u64)(p - buf));
    q = buf + 100;
    __asm__ volatile("strb %w2, [%0, #1]!\n strh %w2, [%0], #3\n str %w2, [%0, #-9]!\n"
                     "str %3, [%0], #17"
                     : "+r"(q) : "0"(q), "r"(0x1122334455667788ULL),
                       "r"(0x99aabbccddeeff00ULL) : "memory");
    P("sbase", (u64)(q - buf));
    dump("indexed");
}

static void regoffset(void) {
    u64 r[6];
    long neg = -4;
    unsigned idx = 3;
    __asm__ volatile(
        "ldr %0, [%6, %7, lsl #3]\n ldr %w1, [%6, %w8, uxtw #2]\n ldrh %w2, [%6, %w9, sxtw #1]\n"
        "ldrb %w3, [%6, %7]\n ldrsw %4, [%6, %9, sxtx]\n ldr %5, [%6, %w8, sxtw]"
        : "=&r"(r[0]), "=&r"(r[1]), "=&r"(r[2]), "=&r"(r[3]), "=&r"(r[4]), "=&r"(r[5])
        : "r"(buf + 128), "r"((u64)idx), "r"(idx), "r"(neg) : "memory");
    for (int i = 0; i < 6; i++)
        printf("reg%-7d %016llx\n", i, (unsigned long long)r[i]);
    __asm__ volatile("str %2, [%0, %1, lsl #3]\n strh %w2, [%0, %w3, sxtw #1]"
                     : : "r"(buf + 128), "r"((u64)5), "r"(0xdeadbeefcafef00dULL), "r"(neg)
                     : "memory");
    dump("regoffset");
}

static const u64 lit_target = 0x0123456789abcdefULL;

static void literal_and_pairs(void) {
    u64 a, b, c, d;
    int32_t w;
    __asm__ volatile("ldr %0, 1f\n ldrsw %1, 2f\n b 3f\n.balign 8\n1: .quad 0xfeedfacecafebeef\n"
                     "2: .word 0x80000001\n.balign 4\n3:" : "=r"(a), "=r"(c));
    P("literal", a); P("ldrsw lit", c);
    unsigned char *p = buf + 16;
    __asm__ volatile("ldp %0, %1, [%4, #16]\n ldp %w2, %w3, [%4, #-8]" : "=&r"(a), "=&r"(b),
                     "=&r"(c), "=&r"(d) : "r"(p) : "memory");
    P("ldp0", a); P("ldp1", b); P("ldpw0", c); P("ldpw1", d);
    __asm__ volatile("ldpsw %0, %1, [%2]" : "=&r"(a), "=&r"(b) : "r"(buf + 40) : "memory");
    P("ldpsw0", a); P("ldpsw1", b);
    __asm__ volatile("stp %1, %2, [%0, #-16]!\n stp %w1, %w2, [%0], #24\n stp %2, %1, [%0]"
                     : "+r"(p) : "r"(0x1111222233334444ULL), "r"(0x5555666677778888ULL)
                     : "memory");
    P("pbase", (u64)(p - buf));
    w = 0;
    (void)w;
    (void)lit_target;
    dump("pairs");
}

static void exclusive(void) {
    u64 v = 41, old, st, st2;
    __asm__ volatile("1: ldxr %0, [%3]\n add %0, %0, #1\n stxr %w1, %0, [%3]\n cbnz %w1, 1b\n"
                     "ldaxr %0, [%3]\n clrex\n stlxr %w2, %0, [%3]"
                     : "=&r"(old), "=&r"(st), "=&r"(st2) : "r"(&v) : "memory");
    printf("excl %llu status %llu\n", (unsigned long long)v, (unsigned long long)st);
    uint32_t w = 7;
    uint32_t got;
    __asm__ volatile("ldaxr %w0, [%2]\n stlxr %w1, %w0, [%2]\n ldar %w0, [%2]\n"
                     "stlr %w0, [%2]" : "=&r"(got), "=&r"(st) : "r"(&w) : "memory");
    printf("acqrel %u %llu\n", got, (unsigned long long)st);
    uint16_t h = 0xbeef;
    uint8_t bt = 0x5a;
    __asm__ volatile("ldxrh %w0, [%2]\n stxrh %w1, %w0, [%2]" : "=&r"(got), "=&r"(st)
                     : "r"(&h) : "memory");
    printf("exclh %x %llu\n", got, (unsigned long long)st);
    __asm__ volatile("ldxrb %w0, [%2]\n stxrb %w1, %w0, [%2]" : "=&r"(got), "=&r"(st)
                     : "r"(&bt) : "memory");
    printf("exclb %x %llu\n", got, (unsigned long long)st);
    u64 pair[2] __attribute__((aligned(16))) = {0x1111, 0x2222};
    u64 lo, hi;
    __asm__ volatile("1: ldaxp %0, %1, [%3]\n add %0, %0, #1\n add %1, %1, #2\n"
                     "stlxp %w2, %0, %1, [%3]\n cbnz %w2, 1b"
                     : "=&r"(lo), "=&r"(hi), "=&r"(st) : "r"(pair) : "memory");
    printf("exclp %llx %llx\n", (unsigned long long)pair[0], (unsigned long long)pair[1]);
    uint32_t wp[2] __attribute__((aligned(8))) = {5, 6};
    uint32_t a32, b32;
    __asm__ volatile("1: ldxp %w0, %w1, [%3]\n stxp %w2, %w1, %w0, [%3]\n cbnz %w2, 1b"
                     : "=&r"(a32), "=&r"(b32), "=&r"(st) : "r"(wp) : "memory");
    printf("exclpw %u %u %u %u\n", a32, b32, wp[0], wp[1]);
}

static void simd(void) {
    u64 lo, hi, x, s, h, b;
    unsigned char *p = buf + 48;
    __asm__ volatile("ldr q0, [%6]\n ldr d1, [%6, #24]\n ldr s2, [%6, #4]\n ldr h3, [%6, #2]\n"
                     "ldr b4, [%6, #1]\n mov %0, v0.d[0]\n mov %1, v0.d[1]\n fmov %2, d1\n"
                     "fmov %w3, s2\n umov %w4, v3.h[0]\n umov %w5, v4.b[0]"
                     : "=r"(lo), "=r"(hi), "=r"(x), "=r"(s), "=r"(h), "=r"(b) : "r"(p)
                     : "v0", "v1", "v2", "v3", "v4", "memory");
    P("q.lo", lo); P("q.hi", hi); P("d", x);
    lo = s, hi = h, x = b;
    P("s", lo); P("h", hi); P("b", x);
    __asm__ volatile("ldp q0, q1, [%0]\n stp q1, q0, [%0, #64]\n ldur q2, [%0, #3]\n"
                     "stur q2, [%0, #129]\n ldr q3, [%0], #16\n str d3, [%0, #-200]!\n"
                     "ld1 {v4.16b, v5.16b}, [%0], #32\n st1 {v4.16b}, [%0]\n"
                     "ldp d6, d7, [%0, #8]\n stp s6, s7, [%0, #40]"
                     : "+r"(p) : : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "memory");
    P("simdbase", (u64)(p - buf));
    dump("simd");
}

int main(void) {
    fill();
    loads();
    indexed();
    fill();
    regoffset();
    fill();
    literal_and_pairs();
    exclusive();
    fill();
    simd();
    char a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = (char)('a' + i % 26);
    for (int n = 0; n < 40; n++) {
        memset(b, '#', sizeof b);
        memcpy(b + (n % 7), a + (n % 5), (size_t)n);
        b[63] = 0;
        printf("%2d %s %zu %d\n", n, b, strlen(b + n), memcmp(a, b, (size_t)n % 9));
    }
    return 0;
}
