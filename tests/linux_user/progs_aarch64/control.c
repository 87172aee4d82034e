/* Control flow: function pointers, a switch compiled to a jump table,
 * recursion, setjmp/longjmp, qsort's callback, floating point through
 * printf; argv and the environment; the exit status comes from argv[1]. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int divi(int a, int b) { return b ? a / b : -1; }
static int (*const ops[])(int, int) = {add, sub, mul, divi};

static const char *__attribute__((noinline)) name(int k) {
    switch (k) {
    case 0: return "zero";
    case 1: return "one";
    case 2: return "two";
    case 3: return "three";
    case 4: return "four";
    case 5: return "five";
    case 6: return "six";
    case 7: return "seven";
    case 9: return "nine";
    default: return "many";
    }
}

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int cmp(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static jmp_buf env;

static void __attribute__((noinline)) deep(int n) {
    if (n == 0)
        longjmp(env, 42);
    deep(n - 1);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, i ? argv[i] : "(prog)");
    const char *v = getenv("PEMU_TEST_VAR");
    printf("PEMU_TEST_VAR=%s\n", v ? v : "(unset)");
    for (int i = 0; i < 12; i++)
        printf("%d:%s %d\n", i, name(i), ops[i % 4](i * 7, i - 3));
    printf("fib(20)=%ld\n", fib(20));
    long a[16];
    for (int i = 0; i < 16; i++)
        a[i] = (i * 7919L) % 23 - 11;
    qsort(a, 16, sizeof a[0], cmp);
    for (int i = 0; i < 16; i++)
        printf("%ld%c", a[i], i == 15 ? '\n' : ' ');
    int r = setjmp(env);
    if (r == 0)
        deep(10);
    printf("longjmp -> %d\n", r);
    double x = 1.0;
    for (int i = 1; i <= 10; i++)
        x = x * 1.5 + (double)i / 7.0;
    printf("%.6f %g %e %.3f\n", x, x / 3.0, -x * 1e-9, (double)(float)x);
    char buf[64];
    snprintf(buf, sizeof buf, "%08.3f|%-6d|%+ld|%x", 3.14159, -42, 123456789L, 48879u);
    printf("%s %zu\n", buf, strlen(buf));
    fprintf(stderr, "to stderr\n");
    return argc > 1 ? atoi(argv[1]) : 0;
}
