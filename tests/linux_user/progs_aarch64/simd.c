/* Advanced SIMD instructions one by one on fixed operands (each result
 * printed as its two halves), compared with qemu-aarch64. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
typedef uint64_t u64;
static u64 A[2] = {0x8899aabbccddeeffULL, 0x0011223344556677ULL};
static u64 B[2] = {0xfedcba9876543210ULL, 0x0f1e2d3c4b5a6978ULL};
static u64 C[2] = {0x1111111111111111ULL, 0x2222222222222222ULL};
#define T(name, insn) do { u64 lo, hi; __asm__ volatile("ldr q0, [%2]\n ldr q1, [%3]\n ldr q2, [%4]\n " insn "\n mov %0, v2.d[0]\n mov %1, v2.d[1]" : "=r"(lo), "=r"(hi) : "r"(A), "r"(B), "r"(C) : "v0","v1","v2","memory"); printf("%-28s %016llx %016llx\n", name, (unsigned long long)hi, (unsigned long long)lo); } while (0)
/* Run with -O3 this also exercises what gcc's vectoriser emits (widening
 * multiplies, permutes, narrowing) mixed with vector loads and stores. */
static void fill(void) {
    static char a[512];
    for (int len = 14; len < 40; len += 3) {
        for (int al = 0; al < 3; al++) {
            memset(a, 0, sizeof a);
            for (int i = 0; i < len; i++)
                a[al + i] = (char)('A' + (i * 7 + al) % 50);
            printf("%d %d %s\n", len, al, a + al);
        }
    }
}

int main(void) {
    fill();
    T("umull", "umull v2.2d, v0.2s, v1.2s");
    T("umull2", "umull2 v2.2d, v0.4s, v1.4s");
    T("umull h", "umull v2.8h, v0.8b, v1.8b");
    T("smull2 s", "smull2 v2.4s, v0.8h, v1.8h");
    T("uzp1 s", "uzp1 v2.4s, v0.4s, v1.4s");
    T("uzp2 s", "uzp2 v2.4s, v0.4s, v1.4s");
    T("uzp1 b", "uzp1 v2.16b, v0.16b, v1.16b");
    T("zip1 h", "zip1 v2.8h, v0.8h, v1.8h");
    T("zip2 b", "zip2 v2.16b, v0.16b, v1.16b");
    T("trn1 s", "trn1 v2.4s, v0.4s, v1.4s");
    T("trn2 h 8b", "trn2 v2.4h, v0.4h, v1.4h");
    T("ushr s", "ushr v2.4s, v0.4s, #5");
    T("sshr h", "sshr v2.8h, v0.8h, #3");
    T("shl d", "shl v2.2d, v0.2d, #7");
    T("mls s", "mls v2.4s, v0.4s, v1.4s");
    T("mla h", "mla v2.8h, v0.8h, v1.8h");
    T("mul b", "mul v2.16b, v0.16b, v1.16b");
    T("xtn", "xtn v2.4h, v0.4s");
    T("xtn2", "xtn2 v2.8h, v0.4s");
    T("movi", "movi v2.4s, #0x32");
    T("movi msl", "movi v2.4s, #0x32, msl #8");
    T("mvni", "mvni v2.8h, #0x12, lsl #8");
    T("dup s", "dup v2.4s, v0.s[3]");
    T("add d", "add v2.2d, v0.2d, v1.2d");
    T("sub h", "sub v2.8h, v0.8h, v1.8h");
    T("cmgt", "cmgt v2.4s, v0.4s, v1.4s");
    T("cmhi", "cmhi v2.16b, v0.16b, v1.16b");
    T("umaxp", "umaxp v2.4s, v0.4s, v1.4s");
    T("addv", "addv b2, v0.16b");
    T("uminv", "uminv h2, v0.8h");
    T("ext", "ext v2.16b, v0.16b, v1.16b, #3");
    T("ushll", "ushll v2.4s, v0.4h, #2");
    T("sshll2", "sshll2 v2.2d, v0.4s, #1");
    T("shrn2", "shrn2 v2.16b, v0.8h, #3");
    T("rev64", "rev64 v2.8h, v0.8h");
    T("cnt", "cnt v2.8b, v0.8b");
    T("tbl", "tbl v2.16b, {v0.16b}, v1.16b");
    T("ins", "ins v2.s[1], v0.s[3]");
    T("bsl", "bsl v2.16b, v0.16b, v1.16b");
    T("bif", "bif v2.16b, v0.16b, v1.16b");
    T("orr imm", "orr v2.4s, #0x40, lsl #16");
    T("bic imm", "bic v2.8h, #0x11");
    T("sshl", "sshl v2.4s, v0.4s, v1.4s");
    T("ushl", "ushl v2.16b, v0.16b, v1.16b");
    T("uaddw2", "uaddw2 v2.2d, v0.2d, v1.4s");
    T("usubl", "usubl v2.8h, v0.8b, v1.8b");
    T("umlal2", "umlal2 v2.4s, v0.8h, v1.8h");
    T("uabdl", "uabdl v2.8h, v0.8b, v1.8b");
    T("cmeq0", "cmeq v2.8h, v0.8h, #0");
    T("cmlt0", "cmlt v2.4s, v0.4s, #0");
    T("neg", "neg v2.2d, v0.2d");
    T("abs", "abs v2.16b, v0.16b");
    T("fmov s", "fmov s2, wzr\n ins v2.s[3], v0.s[1]");
    T("dup elt h", "dup v2.8h, v0.h[0]");
    T("dup elt b", "dup v2.16b, v1.b[5]");
    T("dup elt d", "dup v2.2d, v1.d[1]");
    T("movi h", "movi v2.8h, #0x32");
    T("movi h lsl", "movi v2.4h, #0x32, lsl #8");
    T("movi b", "movi v2.16b, #0x41");
    T("movi d", "movi v2.2d, #0xff00ff00ff0000ff");
    T("movi d scalar", "movi d2, #0xff00ff00ff0000ff");
    T("movi h 2", "movi v2.8h, #0x32\n movi v3.16b, #0x41\n add v2.16b, v2.16b, v3.16b");
    T("umull2 same", "umull2 v1.4s, v1.8h, v0.8h\n mov v2.16b, v1.16b");
    T("uzp2 h same", "uzp2 v0.8h, v0.8h, v1.8h\n mov v2.16b, v0.16b");
    T("mls same", "mls v0.8h, v1.8h, v2.8h\n mov v2.16b, v0.16b");
    T("ld1 lane s", "ld1 {v2.s}[2], [%3]");
    T("ld1 lane b", "ld1 {v2.b}[13], [%2]");
    T("ld1 lane d", "ld1 {v2.d}[1], [%3]");
    T("ld1r h", "ld1r {v2.8h}, [%3]");
    T("ld1r s 2s", "ld1r {v2.2s}, [%2]");
    {
        static u64 lbuf[2];
        u64 *lp = lbuf;
        __asm__ volatile("ldr q0, [%1]\n st1 {v0.h}[5], [%0], #2\n st1 {v0.s}[3], [%0]"
                         : "+r"(lp) : "r"(A) : "v0", "memory");
        printf("st1 lane %016llx\n", (unsigned long long)lbuf[0]);
    }
    T("mul elem s", "mul v2.4s, v0.4s, v1.s[3]");
    T("mla elem h", "mla v2.8h, v0.8h, v1.h[5]");
    T("mls elem s 2s", "mls v2.2s, v0.2s, v1.s[2]");
    T("fmla elem s", "fmla v2.4s, v0.4s, v1.s[1]");
    T("fmul elem d", "fmul v2.2d, v0.2d, v1.d[1]");
    T("fmls elem s", "fmls v2.2s, v0.2s, v1.s[0]");
    T("umull2 elem", "umull2 v2.4s, v0.8h, v1.h[7]");
    T("smlal elem", "smlal v2.2d, v0.2s, v1.s[0]");
    T("uaddlp", "uaddlp v2.8h, v0.16b");
    T("sadalp", "sadalp v2.2d, v1.4s");
    T("uaddlv", "uaddlv h2, v0.16b");
    T("saddlv s", "saddlv d2, v1.4s");
    T("shl d", "shl d2, d0, #3");
    T("ushr d", "ushr d2, d1, #60");
    T("sshr d", "sshr d2, d1, #5");
    T("add d", "add d2, d0, d1");
    T("cmhi d", "cmhi d2, d0, d1");
    T("cmeq d0", "cmeq d2, d0, #0");
    T("neg d", "neg d2, d0");
    T("scvtf d", "scvtf d2, d0");
    T("ucvtf s", "ucvtf s2, s1");
    T("fcvtzs s", "fcvtzs s2, s0");
    T("fcvtzu d", "fcvtzu d2, d1");
    T("fcmgt s", "fcmgt s2, s0, s1");
    T("fabd d", "fabd d2, d0, d1");
    T("faddp s", "faddp s2, v1.2s");
    T("addp d", "addp d2, v0.2d");
    T("fadd 4s", "fadd v2.4s, v0.4s, v1.4s");
    T("fmul 2d", "fmul v2.2d, v0.2d, v1.2d");
    T("fmla 4s", "fmla v2.4s, v0.4s, v1.4s");
    T("fcvtl", "fcvtl v2.2d, v0.2s");
    T("fcvtn2", "fcvtn2 v2.4s, v1.2d");
    T("frintm 4s", "frintm v2.4s, v1.4s");
    T("fmov 4s imm", "fmov v2.4s, #-1.25");
    {
        static u64 buf[4];
        u64 lo, hi;
        __asm__ volatile("ldr q0, [%2]\n ldr q1, [%3]\n st2 {v0.8h, v1.8h}, [%4]\n"
                         "ld2 {v1.4s, v2.4s}, [%4]\n mov %0, v2.d[0]\n mov %1, v2.d[1]"
                         : "=r"(lo), "=r"(hi) : "r"(A), "r"(B), "r"(buf)
                         : "v0", "v1", "v2", "memory");
        printf("%-28s %016llx %016llx\n", "st2/ld2", (unsigned long long)hi,
               (unsigned long long)lo);
    }
    return 0;
}
