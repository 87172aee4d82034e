/* CRC32 and CRC32C instructions (built with -march=armv8-a+crc) through ACLE. */
#include <stdio.h>
#include <stdint.h>
#include <arm_acle.h>
int main(void) {
    uint32_t c = 0xffffffff, d = 0;
    const char *s = "The quick brown fox jumps over the lazy dog";
    for (const char *p = s; *p; p++) { c = __crc32b(c, (uint8_t)*p); d = __crc32cb(d, (uint8_t)*p); }
    printf("%08x %08x\n", ~c, d);
    printf("%08x %08x %08x\n", __crc32h(1, 0xbeef), __crc32w(0x12345678, 0xdeadbeef), __crc32d(7, 0x0123456789abcdefULL));
    printf("%08x %08x %08x\n", __crc32ch(1, 0xbeef), __crc32cw(0x12345678, 0xdeadbeef), __crc32cd(7, 0x0123456789abcdefULL));
    return 0;
}
