/* One core's AVX-512 multiply-add peak, for the README's "machine's limit":
 * 24 independent accumulators (enough to hide the FMA latency), no memory
 * traffic, 2 flops per lane per FMA. Build and run:
 *
 *   gcc -O2 -mavx512f -mfma scripts/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * The accumulators start from different values so that the compiler cannot
 * merge their chains (equal chains would be computed once). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define ACC 24

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    __m512 acc[ACC];
    for (int j = 0; j < ACC; j++) acc[j] = _mm512_set1_ps(0.001f * (float)(j + 1));
    const __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(1e-4f);
    const long iters = 20000000;
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
            for (int j = 0; j < ACC; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    __m512 s = _mm512_setzero_ps();
    for (int j = 0; j < ACC; j++) s = _mm512_add_ps(s, acc[j]);
    float out[16];
    _mm512_storeu_ps(out, s);
    double flops = (double)iters * ACC * 16 * 2;
    printf("one core: %.1f GFLOP/s (best of 5; checksum %g)\n", flops / best / 1e9, out[0]);
    return 0;
}
