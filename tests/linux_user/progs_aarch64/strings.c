/* The C library's string and memory functions (Advanced SIMD code in glibc)
 * over every small length and alignment, plus qsort/bsearch and sprintf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long h = 1469598103934665603ULL;

static void mix(long v) {
    h = (h ^ (unsigned long long)v) * 1099511628211ULL;
}

static void mixbuf(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        mix((unsigned char)p[i]);
}

int main(void) {
    static char a[512], b[512];
    for (int len = 0; len < 80; len++) {
        for (int al = 0; al < 17; al++) {
            memset(a, 0, sizeof a);
            for (int i = 0; i < len; i++)
                a[al + i] = (char)('A' + (i * 7 + al) % 50);
            char *s = a + al;
            mix((long)strlen(s));
            mix(strchr(s, 'Z') ? strchr(s, 'Z') - s : -1);
            mix(strrchr(s, 'B') ? strrchr(s, 'B') - s : -1);
            mix(memchr(s, 'C', (size_t)len) ? (char *)memchr(s, 'C', (size_t)len) - s : -1);
            mix((long)strnlen(s, (size_t)(len / 2 + 1)));
            memset(b, 'x', sizeof b);
            strcpy(b + (al * 3) % 16, s);
            mix(strcmp(b + (al * 3) % 16, s));
            b[(al * 3) % 16 + len / 2] ^= 1;
            mix(strcmp(b + (al * 3) % 16, s) > 0);
            mix(strncmp(b + (al * 3) % 16, s, (size_t)len / 2) == 0);
            mix(memcmp(b + (al * 3) % 16, s, (size_t)len) < 0);
            memmove(b + 1, b + 5, (size_t)len);
            memmove(b + 9, b + 2, (size_t)len);
            mixbuf(b, 200);
            memset(b + al, al, (size_t)len * 3);
            mixbuf(b, 300);
            char *e = stpcpy(b, s);
            mix(e - b);
            strcat(b, "tail");
            mix((long)strlen(b));
            mix((long)strspn(s, "ABCDEFG"));
            mix((long)strcspn(s, "XYZ["));
            mix(strstr(s, "KR") ? strstr(s, "KR") - s : -1);
        }
        printf("len %2d hash %016llx\n", len, h);
    }
    char out[128];
    for (int i = -3; i < 4; i++) {
        snprintf(out, sizeof out, "[%5d|%-5x|%05.1f|%s|%c|%p]", i * 1234, i & 0xfff,
                 i / 3.0, i > 0 ? "pos" : "neg", 'a' + i + 3, (void *)(long)(i * 16));
        puts(out);
    }
    return 0;
}
