/* A64 integer instructions and NZCV corner cases, printed so that the output
 * under pemu-aarch64 can be compared byte for byte with qemu-aarch64. */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

static const u64 V[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x123456789abcdef0,
    0xfedcba9876543210, 0x00000000fffffffe, 0x8000000000000001, 0x0000ffff0000ffff,
};
#define N (sizeof V / sizeof V[0])

static unsigned nzcv(void) {
    u64 f;
    __asm__ volatile("mrs %0, nzcv" : "=r"(f));
    return (unsigned)(f >> 28);
}

#define FLAGS2(insn, a, b) ({ u64 _r; unsigned _f; \
    __asm__ volatile(insn " %0, %1, %2" : "=r"(_r) : "r"(a), "r"(b) : "cc"); \
    _f = nzcv(); printf("%-6s %016llx %016llx -> %016llx %x\n", insn, \
        (unsigned long long)(a), (unsigned long long)(b), (unsigned long long)_r, _f); })
#define FLAGS2W(insn, a, b) ({ uint32_t _r; unsigned _f; \
    __asm__ volatile(insn " %w0, %w1, %w2" : "=r"(_r) : "r"(a), "r"(b) : "cc"); \
    _f = nzcv(); printf("%-6s w %08x %08x -> %08x %x\n", insn, (unsigned)(a), \
        (unsigned)(b), _r, _f); })
#define OP2(insn, a, b) ({ u64 _r; \
    __asm__ volatile(insn " %0, %1, %2" : "=r"(_r) : "r"(a), "r"(b)); \
    printf("%-6s %016llx %016llx -> %016llx\n", insn, (unsigned long long)(a), \
        (unsigned long long)(b), (unsigned long long)_r); })
#define OP2W(insn, a, b) ({ uint32_t _r; \
    __asm__ volatile(insn " %w0, %w1, %w2" : "=r"(_r) : "r"(a), "r"(b)); \
    printf("%-6s w %08x %08x -> %08x\n", insn, (unsigned)(a), (unsigned)(b), _r); })
#define OP1(insn, a) ({ u64 _r; __asm__ volatile(insn " %0, %1" : "=r"(_r) : "r"(a)); \
    printf("%-6s %016llx -> %016llx\n", insn, (unsigned long long)(a), \
        (unsigned long long)_r); })
#define OP1W(insn, a) ({ uint32_t _r; __asm__ volatile(insn " %w0, %w1" : "=r"(_r) : "r"(a)); \
    printf("%-6s w %08x -> %08x\n", insn, (unsigned)(a), _r); })

static void set_flags(unsigned f) {
    u64 v = (u64)f << 28;
    __asm__ volatile("msr nzcv, %0" : : "r"(v) : "cc");
}

static void conditions(void) {
    /* every condition code against every NZCV value, through csel, cset, b.cond */
    for (unsigned f = 0; f < 16; f++) {
        u64 r[8];
        set_flags(f);
        __asm__ volatile(
            "cset %0, eq\n cset %1, hs\n cset %2, mi\n cset %3, vs\n"
            "cset %4, hi\n cset %5, ge\n cset %6, gt\n csetm %7, le"
            : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]),
              "=r"(r[6]), "=r"(r[7]));
        u64 s = 0;
        set_flags(f);
        __asm__ volatile("mov %0, #0\n b.ls 1f\n orr %0, %0, #1\n1: b.lt 2f\n orr %0, %0, #2\n"
                         "2: b.ne 3f\n orr %0, %0, #4\n3: b.vc 4f\n orr %0, %0, #8\n4:"
                         : "=&r"(s) : : "cc");
        printf("cond %x: %llx %llx %llx %llx %llx %llx %llx %llx branches %llx\n", f,
               (unsigned long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2],
               (unsigned long long)r[3], (unsigned long long)r[4], (unsigned long long)r[5],
               (unsigned long long)r[6], (unsigned long long)r[7], (unsigned long long)s);
    }
}

static void ccmp_csel(u64 a, u64 b) {
    u64 r1, r2, r3, r4, r5;
    unsigned f1, f2;
    __asm__ volatile("cmp %1, %2\n ccmp %1, #5, #4, ne\n mrs %0, nzcv"
                     : "=r"(r1) : "r"(a), "r"(b) : "cc");
    f1 = (unsigned)(r1 >> 28);
    __asm__ volatile("cmp %1, %2\n ccmn %w1, %w2, #9, hi\n mrs %0, nzcv"
                     : "=r"(r1) : "r"(a), "r"(b) : "cc");
    f2 = (unsigned)(r1 >> 28);
    __asm__ volatile("cmp %5, %6\n csel %0, %5, %6, lt\n csinc %1, %5, %6, ge\n"
                     "csinv %2, %5, %6, eq\n csneg %3, %5, %6, ne\n cinc %w4, %w5, hi"
                     : "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4), "=r"(r5)
                     : "r"(a), "r"(b) : "cc");
    printf("ccmp %016llx %016llx -> %x %x csel %llx %llx %llx %llx %llx\n",
           (unsigned long long)a, (unsigned long long)b, f1, f2, (unsigned long long)r1,
           (unsigned long long)r2, (unsigned long long)r3, (unsigned long long)r4,
           (unsigned long long)r5);
}

static void bitfields(u64 a) {
    u64 r[12] = {0};
    r[4] = 0x0123456789abcdefULL;  /* BFI and BFXIL keep the other bits */
    r[5] = 0xfedcba9876543210ULL;
    __asm__ volatile(
        "ubfx %0, %12, #4, #8\n sbfx %1, %12, #60, #4\n ubfiz %2, %12, #12, #20\n"
        "sbfiz %3, %12, #3, #7\n bfi %4, %12, #8, #16\n bfxil %5, %12, #40, #12\n"
        "extr %6, %12, %12, #13\n extr %w7, %w12, %w12, #5\n sxtb %8, %w12\n"
        "uxth %w9, %w12\n sxtw %10, %w12\n asr %w11, %w12, #7"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "+r"(r[4]), "+r"(r[5]),
          "=r"(r[6]), "=r"(r[7]), "=r"(r[8]), "=r"(r[9]), "=r"(r[10]), "=r"(r[11])
        : "r"(a));
    printf("bits %016llx:", (unsigned long long)a);
    for (int i = 0; i < 12; i++)
        printf(" %llx", (unsigned long long)r[i]);
    printf("\n");
}

static void logical_imm(u64 a) {
    u64 r[8];
    __asm__ volatile(
        "and %0, %8, #0x5555555555555555\n orr %1, %8, #0xff00ff00ff00ff00\n"
        "eor %2, %8, #0x3\n and %w3, %w8, #0x7ffffffe\n orr %w4, %w8, #0xf0f0f0f0\n"
        "eor %5, %8, #0xfffffffffffffff0\n tst %8, #0x8000000000000000\n cset %6, ne\n"
        "ands %w7, %w8, #0xff000000"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]),
          "=r"(r[6]), "=r"(r[7]) : "r"(a) : "cc");
    printf("limm %016llx:", (unsigned long long)a);
    for (int i = 0; i < 8; i++)
        printf(" %llx", (unsigned long long)r[i]);
    printf(" %x\n", nzcv());
}

static void extended(u64 a, u64 b) {
    u64 r[6];
    __asm__ volatile(
        "add %0, %6, %w7, uxtb #2\n add %1, %6, %w7, sxth\n sub %2, %6, %w7, sxtw #4\n"
        "add %3, %6, %7, uxtx #1\n adds %w4, %w6, %w7, uxtb\n cmp %6, %w7, sxtw\n cset %5, lt"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5])
        : "r"(a), "r"(b) : "cc");
    printf("ext %016llx %016llx:", (unsigned long long)a, (unsigned long long)b);
    for (int i = 0; i < 6; i++)
        printf(" %llx", (unsigned long long)r[i]);
    printf("\n");
}

static void shifted(u64 a, u64 b) {
    u64 r[8];
    __asm__ volatile(
        "add %0, %8, %9, lsl #7\n sub %1, %8, %9, lsr #33\n add %w2, %w8, %w9, asr #31\n"
        "orr %3, %8, %9, ror #17\n eor %w4, %w8, %w9, ror #3\n bic %5, %8, %9, asr #1\n"
        "orn %w6, %w8, %w9, lsl #30\n eon %7, %8, %9, lsr #63"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]),
          "=r"(r[6]), "=r"(r[7]) : "r"(a), "r"(b));
    printf("shift %016llx %016llx:", (unsigned long long)a, (unsigned long long)b);
    for (int i = 0; i < 8; i++)
        printf(" %llx", (unsigned long long)r[i]);
    printf("\n");
}

static void mul3(u64 a, u64 b) {
    u64 r[8];
    u64 c = 0x1111111111111111;
    __asm__ volatile(
        "madd %0, %8, %9, %10\n msub %1, %8, %9, %10\n smaddl %2, %w8, %w9, %10\n"
        "umsubl %3, %w8, %w9, %10\n smulh %4, %8, %9\n umulh %5, %8, %9\n"
        "mul %w6, %w8, %w9\n mneg %7, %8, %9"
        : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]), "=r"(r[4]), "=r"(r[5]),
          "=r"(r[6]), "=r"(r[7]) : "r"(a), "r"(b), "r"(c));
    printf("mul %016llx %016llx:", (unsigned long long)a, (unsigned long long)b);
    for (int i = 0; i < 8; i++)
        printf(" %llx", (unsigned long long)r[i]);
    printf("\n");
}

static void adc_sbc(u64 a, u64 b) {
    for (unsigned cin = 0; cin < 2; cin++) {
        u64 r1, r2, r3, f1, f2;
        set_flags(cin << 1);
        __asm__ volatile("adcs %0, %4, %5\n mrs %2, nzcv" : "=r"(r1), "=r"(r2), "=r"(f1)
                         : "0"(0), "r"(a), "r"(b) : "cc");
        set_flags(cin << 1);
        __asm__ volatile("sbcs %w0, %w3, %w4\n mrs %1, nzcv\n" : "=r"(r3), "=r"(f2), "=r"(r2)
                         : "r"(a), "r"(b) : "cc");
        printf("adc %016llx %016llx c%u -> %llx %llx %llx %llx\n", (unsigned long long)a,
               (unsigned long long)b, cin, (unsigned long long)r1,
               (unsigned long long)(f1 >> 28), (unsigned long long)r3,
               (unsigned long long)(f2 >> 28));
    }
}

int main(void) {
    for (unsigned i = 0; i < N; i++) {
        OP1("clz", V[i]); OP1W("clz", V[i]); OP1("cls", V[i]); OP1W("cls", V[i]);
        OP1("rbit", V[i]); OP1W("rbit", V[i]); OP1("rev", V[i]); OP1W("rev", V[i]);
        OP1("rev16", V[i]); OP1W("rev16", V[i]); OP1("rev32", V[i]);
        bitfields(V[i]);
        logical_imm(V[i]);
        for (unsigned j = 0; j < N; j++) {
            u64 a = V[i], b = V[j];
            FLAGS2("adds", a, b); FLAGS2("subs", a, b); FLAGS2W("adds", a, b);
            FLAGS2W("subs", a, b); FLAGS2("ands", a, b); FLAGS2W("bics", a, b);
            OP2("udiv", a, b); OP2("sdiv", a, b); OP2W("udiv", a, b); OP2W("sdiv", a, b);
            OP2("lsl", a, b); OP2("lsr", a, b); OP2("asr", a, b); OP2("ror", a, b);
            OP2W("lsl", a, b); OP2W("lsr", a, b); OP2W("asr", a, b); OP2W("ror", a, b);
            ccmp_csel(a, b);
            extended(a, b);
            shifted(a, b);
            mul3(a, b);
            adc_sbc(a, b);
        }
    }
    conditions();
    return 0;
}
