/* What bounds Adam's step on one core, for the README's performance notes.
 *
 *   gcc -O2 -mavx512f -mfma scripts/adam_step_bound.c -o /tmp/adam_step_bound && /tmp/adam_step_bound
 *
 * 1. Throughput of the three vector operations the step needs per 16
 *    parameters besides multiply-adds (torch.optim.Adam's formula:
 *    p += step_size * m / (sqrt(v) / sqrt(bias_correction2) + eps)): one
 *    square root and two divisions.
 * 2. The layer-1 weight gradient of 784-256-128-10 at batch 64 (256 x 784
 *    outputs, 64 products each), the kernel layout of runtime/src/gemm/x86.rs
 *    (tiles of 32 x 12 in 24 registers), alone; then followed by a separate
 *    Adam pass over its 200,704 parameters (what the runtime does); then with
 *    the same Adam update fused into the kernel, applied to each tile while
 *    it is still in registers (no gradient written or read back); and the
 *    separate pass with its divisions replaced by multiplications (wrong
 *    arithmetic, to see what the divisions cost).
 *
 * Times are the best of 5 rounds of 300 repetitions. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define IN 784
#define OUT 256
#define N 64
#define NR 12

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { float w1, b2, w2, step, bc2, eps; } Scalars;

/* One Adam update of 16 parameters from gradient g, with the runtime's
 * flush of subnormal moments. `divide` 0 swaps the divisions for products. */
static inline __attribute__((always_inline)) void adam16(const Scalars *s, __m512 g, float *p, float *m,
                                                          float *v, int divide) {
    const __m512i expo = _mm512_set1_epi32(0x7f800000), sign = _mm512_set1_epi32((int)0x80000000u);
    __m512 mv = _mm512_loadu_ps(m);
    mv = _mm512_add_ps(mv, _mm512_mul_ps(_mm512_set1_ps(s->w1), _mm512_sub_ps(g, mv)));
    __mmask16 z = _mm512_testn_epi32_mask(_mm512_castps_si512(mv), expo);
    mv = _mm512_castsi512_ps(_mm512_mask_and_epi32(_mm512_castps_si512(mv), z, _mm512_castps_si512(mv), sign));
    _mm512_storeu_ps(m, mv);
    __m512 vv = _mm512_loadu_ps(v);
    vv = _mm512_add_ps(_mm512_mul_ps(vv, _mm512_set1_ps(s->b2)),
                       _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(s->w2), g), g));
    z = _mm512_testn_epi32_mask(_mm512_castps_si512(vv), expo);
    vv = _mm512_castsi512_ps(_mm512_mask_and_epi32(_mm512_castps_si512(vv), z, _mm512_castps_si512(vv), sign));
    _mm512_storeu_ps(v, vv);
    __m512 num = _mm512_mul_ps(_mm512_set1_ps(s->step), mv), u;
    if (divide) {
        __m512 d = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vv), _mm512_set1_ps(s->bc2)), _mm512_set1_ps(s->eps));
        u = _mm512_div_ps(num, d);
    } else {
        __m512 d = _mm512_add_ps(_mm512_mul_ps(vv, _mm512_set1_ps(s->bc2)), _mm512_set1_ps(s->eps));
        u = _mm512_mul_ps(num, d);
    }
    _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), u));
}

/* Tile (rows i..i+32 of the input, outputs j..j+12) of dW = dY X^T:
 * x is [IN, N] column-major, dy [OUT, N] column-major. */
static inline __attribute__((always_inline)) void tile(const float *x, const float *dy, int i, int j,
                                                        __m512 a0[NR], __m512 a1[NR]) {
    for (int r = 0; r < NR; r++) a0[r] = a1[r] = _mm512_setzero_ps();
    for (int p = 0; p < N; p++) {
        __m512 x0 = _mm512_loadu_ps(x + i + p * IN), x1 = _mm512_loadu_ps(x + i + 16 + p * IN);
#pragma GCC unroll 12
        for (int r = 0; r < NR; r++) {
            __m512 s = _mm512_set1_ps(dy[p * OUT + j + r]);
            a0[r] = _mm512_fmadd_ps(x0, s, a0[r]);
            a1[r] = _mm512_fmadd_ps(x1, s, a1[r]);
        }
    }
}

enum { GRAD_ONLY, SEPARATE, FUSED, SEPARATE_NO_DIVISION };

/* 252 of the 256 outputs and 768 of the 784 inputs (whole tiles), the
 * same in every variant. */
__attribute__((noinline)) static void run(int variant, const float *x, const float *dy, float *g, float *p,
                                          float *m, float *v, const Scalars *s) {
    for (int j = 0; j + NR <= OUT; j += NR)
        for (int i = 0; i + 32 <= IN; i += 32) {
            __m512 a0[NR], a1[NR];
            tile(x, dy, i, j, a0, a1);
            for (int r = 0; r < NR; r++) {
                int o = (j + r) * IN + i;
                if (variant == FUSED) {
                    adam16(s, a0[r], p + o, m + o, v + o, 1);
                    adam16(s, a1[r], p + o + 16, m + o + 16, v + o + 16, 1);
                } else {
                    _mm512_storeu_ps(g + o, a0[r]);
                    _mm512_storeu_ps(g + o + 16, a1[r]);
                }
            }
        }
    if (variant == SEPARATE || variant == SEPARATE_NO_DIVISION)
        for (int k = 0; k + 16 <= IN * OUT; k += 16)
            adam16(s, _mm512_loadu_ps(g + k), p + k, m + k, v + k, variant == SEPARATE);
}

static float *array(size_t n, float scale) {
    float *a = aligned_alloc(64, n * sizeof(float));
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        a[i] = scale * ((float)(s >> 8) / 16777216.0f - 0.5f);
    }
    return a;
}

int main(void) {
    /* 1. Divider throughput: 8 independent chains of each operation. */
    const char *ops[] = {"vdivps zmm", "vsqrtps zmm", "vfmadd231ps zmm"};
    for (int op = 0; op < 3; op++) {
        __m512 c[8];
        for (int i = 0; i < 8; i++) c[i] = _mm512_set1_ps(2.0f + (float)i);
        const __m512 d = _mm512_set1_ps(1.0000001f), e = _mm512_set1_ps(1e-7f);
        const long iters = 10000000;
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = now();
            for (long k = 0; k < iters; k++) {
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++) {
                    if (op == 0) c[i] = _mm512_div_ps(c[i], d);
                    else if (op == 1) c[i] = _mm512_sqrt_ps(c[i]);
                    else c[i] = _mm512_fmadd_ps(c[i], d, e);
                }
            }
            double t = now() - t0;
            if (t < best) best = t;
        }
        float sum = 0;
        for (int i = 0; i < 8; i++) sum += _mm512_reduce_add_ps(c[i]);
        printf("%-16s %.3f ns per instruction (checksum %g)\n", ops[op], best / (iters * 8.0) * 1e9, sum);
    }

    /* 2. Weight gradient and Adam step. */
    float *x = array((size_t)IN * N, 1.0f), *dy = array((size_t)OUT * N, 0.01f);
    float *g = array((size_t)IN * OUT, 0.0f);
    const Scalars s = {0.1f, 0.999f, 0.001f, -1e-3f, 0.3f, 1e-8f};
    const char *names[] = {"weight gradient alone", "gradient, then Adam pass", "Adam fused into the kernel",
                           "Adam pass without divisions"};
    for (int variant = 0; variant < 4; variant++) {
        float *p = array((size_t)IN * OUT, 0.1f), *m = array((size_t)IN * OUT, 0.0f);
        float *v = array((size_t)IN * OUT, 0.0f);
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = now();
            for (int k = 0; k < 300; k++) run(variant, x, dy, g, p, m, v, &s);
            double t = (now() - t0) / 300;
            if (t < best) best = t;
        }
        double sum = 0;
        for (size_t i = 0; i < (size_t)IN * OUT; i++) sum += p[i];
        printf("%-28s %7.1f us per step (checksum %.6f)\n", names[variant], best * 1e6, sum);
        free(p), free(m), free(v);
    }
    return 0;
}
