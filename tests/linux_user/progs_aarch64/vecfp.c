/* Float, double and integer loops gcc -O3 vectorises: Advanced SIMD floating point,
 * conversions, structure loads/stores (LD2/ST2), reductions (FADDP, ADDV). */
#include <stdio.h>
#include <math.h>
struct P { float x, y; };
#define N 203
static double a[N], b[N], c[N];
static float f[N], g[N];
static struct P p[N];
static int ia[N]; static short sa[N]; static unsigned char ua[N];
int main(void) {
    for (int i = 0; i < N; i++) { a[i] = i * 0.37 - 20; b[i] = (i % 13) * 1.5 + 0.25; f[i] = (float)i / 7.0f; g[i] = 3.0f - i; p[i].x = i; p[i].y = -i * 0.5f; ia[i] = i * 37 - 500; sa[i] = (short)(i * 300); ua[i] = (unsigned char)(i * 3); }
    for (int i = 0; i < N; i++) c[i] = a[i] * b[i] + c[i] / (b[i] + 1.0);
    double s = 0; for (int i = 0; i < N; i++) s += c[i] * a[i];
    float fs = 0; for (int i = 0; i < N; i++) { f[i] = f[i] * g[i] - 2.0f; fs += fabsf(f[i]); }
    for (int i = 0; i < N; i++) { float t = p[i].x; p[i].x = p[i].y * 2; p[i].y = t + 1; }
    long is = 0; for (int i = 0; i < N; i++) { ia[i] = ia[i] * 3 + (int)f[i]; is += ia[i]; }
    int mx = 0; for (int i = 0; i < N; i++) mx = ia[i] > mx ? ia[i] : mx;
    for (int i = 0; i < N; i++) sa[i] = (short)(sa[i] >> 3) + (short)ua[i];
    long ss = 0; for (int i = 0; i < N; i++) ss += sa[i];
    unsigned us = 0; for (int i = 0; i < N; i++) us += ua[i];
    for (int i = 0; i < N; i++) g[i] = (float)a[i];
    for (int i = 0; i < N; i++) b[i] = (double)f[i] + sqrt(fabs(a[i]));
    double bs = 0; for (int i = 0; i < N; i++) bs += b[i] > 3.0 ? b[i] : -b[i];
    float px = 0; for (int i = 0; i < N; i++) px += p[i].x - p[i].y;
    printf("%.9g %.6g %ld %d %ld %u %.9g %.6g %.4f\n", s, fs, is, mx, ss, us, bs, px, g[N-1]);
    return 0;
}
