/* libm (double, float, long double, complex) and strtod: the FP and scalar
 * Advanced SIMD instructions its routines use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <complex.h>
int main(void) {
    static const double xs[] = {0.0, -0.0, 0.5, -0.75, 1.0, 2.0, 3.14159, -10.5, 100.25, 1e-5, 1e10, 7e-310, INFINITY, NAN};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        float f = (float)x;
        printf("%a: %a %a %a %a %a %a %a %a %a %a\n", x, sin(x), cos(x), tan(x), exp(x), log(fabs(x)), atan(x), cbrt(x), tanh(x), expm1(x), log1p(fabs(x)));
        printf("  %a %a %a %a %a %a %a %a\n", sinf(f), cosf(f), expf(f), logf(fabsf(f)), powf(f, 1.5f), atan2f(f, 2.0f), sqrtf(fabsf(f)), hypotf(f, 3.0f));
        printf("  %a %a %a %ld %lld %a %a %d\n", pow(x, 2.5), fmod(x, 1.7), remainder(x, 1.3), lround(fmin(fmax(x, -1e6), 1e6)), llrint(fmin(fmax(x, -1e6), 1e6)), ldexp(x, 3), modf(x, &(double){0}), ilogb(x == 0 ? 1 : x));
    }
    long double ld = 1.0L / 3.0L;
    printf("%.30Lf %Lg\n", ld, ld * ld + 2.0L);
    double complex z = 1.0 + 2.0 * I;
    z = cexp(z) * csqrt(z);
    printf("%a %a\n", creal(z), cimag(z));
    printf("%a %a %a\n", strtod("0x1.8p3", NULL), strtod("1e-320", NULL), (double)strtof("3.4028235e38", NULL));
    return 0;
}
