/* Scalar floating point through libm and printf: conversions, rounding, NaN and
 * infinity handling, fused multiply-add, single and double precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    volatile double xs[] = {0.0, -0.0, 1.0, -1.5, 2.5, 3.5, 1e300, -1e-310, 123.456, 0.1, NAN, INFINITY, -INFINITY, 4503599627370497.0};
    volatile float fs[] = {0.0f, 1.5f, -2.5f, 3.4e38f, 1e-40f, 0.1f, NAN};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        printf("%g: sqrt=%g floor=%g ceil=%g round=%g trunc=%g rint=%g lrint=%ld (long)=%ld (unsigned)=%lu f=%g\n",
               x, sqrt(x), floor(x), ceil(x), round(x), trunc(x), rint(x), lrint(x), (long)x,
               (unsigned long)x, (float)x);
        for (unsigned j = 0; j < sizeof xs / sizeof xs[0]; j += 3) {
            double y = xs[j];
            printf("  %g %g: + %.17g - %.17g * %.17g / %.17g fma %.17g max %g min %g lt %d eq %d\n", x, y,
                   x + y, x - y, x * y, x / y, fma(x, y, 0.5), fmax(x, y), fmin(x, y), x < y, x == y);
        }
    }
    for (unsigned i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        float f = fs[i];
        printf("%a %a %a %a %d %u %a\n", (double)f, (double)(f * 3.0f), (double)(f / 7.0f), (double)sqrtf(f), (int)f, (unsigned)f, (double)fmaf(f, f, -1.0f));
    }
    printf("%.10f %.10f %.10f %.10f\n", sin(1.0), exp(2.5), log(10.0), pow(2.0, 0.5));
    printf("%f %s\n", strtod("3.25e2", NULL), "done");
    return 0;
}
