/* Matrix products gcc -O3 vectorises with by-element multiplies (MUL/FMLA by element). */
#include <stdio.h>
#define N 12
static float A[N][N], B[N][N], C[N][N];
static int IA[N][N], IB[N][N], IC[N][N];
int main(void) {
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) { A[i][j] = i * 0.5f + j; B[i][j] = i - j * 0.25f; IA[i][j] = i * 3 - j; IB[i][j] = j * 7 - i; }
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) { float s = 0; int t = 0; for (int k = 0; k < N; k++) { s += A[i][k] * B[k][j]; t += IA[i][k] * IB[k][j]; } C[i][j] = s; IC[i][j] = t; }
    float tot = 0; long it = 0;
    for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) { tot += C[i][j] * (i + 1); it += IC[i][j] ^ j; }
    printf("%a %ld\n", tot, it);
    return 0;
}
