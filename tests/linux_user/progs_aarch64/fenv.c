/* FPCR rounding modes and FPSR exception flags through <fenv.h>: each
 * operation's result and the flags it raises, in each rounding mode. */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

static volatile double one = 1.0, three = 3.0, zero = 0.0, big = DBL_MAX, tiny = DBL_MIN,
                       neg = -1.0, half = 2.5, ten = 1e10;
static volatile float fone = 1.0f, fthree = 3.0f;

static void flags(const char *what) {
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("  %-10s %s%s%s%s%s\n", what, f & FE_INVALID ? "invalid " : "",
           f & FE_DIVBYZERO ? "divbyzero " : "", f & FE_OVERFLOW ? "overflow " : "",
           f & FE_UNDERFLOW ? "underflow " : "", f & FE_INEXACT ? "inexact" : "");
    feclearexcept(FE_ALL_EXCEPT);
}

int main(void) {
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    static const char *names[] = {"nearest", "upward", "downward", "towardzero"};
    for (int i = 0; i < 4; i++) {
        fesetround(modes[i]);
        feclearexcept(FE_ALL_EXCEPT);
        printf("%s (fegetround ok=%d)\n", names[i], fegetround() == modes[i]);
        volatile double r = one / three;
        printf("  1/3 = %a\n", r);
        flags("div");
        r = -one / three;
        printf("  -1/3 = %a\n", r);
        flags("negdiv");
        r = one / zero;
        printf("  1/0 = %a\n", r);
        flags("divzero");
        r = sqrt(neg);
        printf("  sqrt(-1) nan=%d\n", isnan(r));
        flags("sqrt");
        r = big * three;
        printf("  max*3 = %a\n", r);
        flags("overflow");
        r = tiny / three;
        printf("  min/3 = %a\n", r);
        flags("underflow");
        r = ten + one;
        printf("  1e10+1 = %a\n", r);
        flags("exact");
        volatile float f = fone / fthree;
        printf("  f 1/3 = %a\n", (double)f);
        flags("fdiv");
        f = (float)(one / three);
        printf("  (float)(1/3) = %a\n", (double)f);
        flags("fcvt");
        printf("  rint(2.5)=%g nearbyint(-2.5)=%g lrint(2.5)=%ld (long)2.5=%ld\n", rint(half),
               nearbyint(-half), lrint(half), (long)half);
        flags("round");
        r = fma(one / three, three, -one);
        printf("  fma = %a\n", r);
        flags("fma");
    }
    fesetround(FE_TONEAREST);
    return 0;
}
