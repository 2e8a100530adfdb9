/* What bounds Adam's step on both cores, in the state a training step
 * leaves the caches in, for the README's performance notes.
 *
 *   gcc -O2 -mavx512f -pthread scripts/adam_pair_bound.c -o /tmp/adam_pair_bound && /tmp/adam_pair_bound
 *
 * Two threads, each with its half of 784-256-128-10's 235,146 parameters,
 * run Adam's pass over their own parameters, gradients and two moments
 * (read all four, write all four: the gradients are set to zero, as
 * Optimizer::step_and_zero does), 32 bytes a parameter, 3.8 MB in all: more
 * than the two cores' 1 MB L2s hold, so the pass streams from L3.
 *
 * - "clean": passes back to back;
 * - "dirty": before each pass, each thread writes its gradients and 1 MB of
 *   other data, as the products of a training step do, so that the pass
 *   also pays for writing dirty lines back;
 * - "with divisions" computes torch.optim.Adam's update (a square root, two
 *   divisions); "without" replaces them by multiplications (wrong numbers,
 *   to see whether the divider or the memory sets the pace).
 *
 * A pass is timed by thread 0 from one barrier to the next, so it ends when
 * the slower thread ends, as a shared step does. Best, tenth percentile,
 * median and ninetieth percentile of 1000. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define HALF 117573 /* 235,146 / 2 */
#define OTHER (1 << 18) /* floats of other data written before a "dirty" pass: 1 MB */
#define REPS 1000

static pthread_barrier_t barrier;
static int divide, dirty;
static double times[REPS];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *floats(size_t n, float value) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        perror("aligned_alloc");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = value;
    return p;
}

static void *half(void *arg) {
    long id = (long)arg;
    float *p = floats(HALF, 0.1f), *g = floats(HALF, 0.01f), *m = floats(HALF, 0.0f),
          *v = floats(HALF, 0.0f), *other = floats(OTHER, 1.0f);
    const __m512 b1 = _mm512_set1_ps(0.9f), w1 = _mm512_set1_ps(0.1f), b2 = _mm512_set1_ps(0.999f),
                 w2 = _mm512_set1_ps(0.001f), step = _mm512_set1_ps(-1e-3f),
                 bc2 = _mm512_set1_ps(0.999f), eps = _mm512_set1_ps(1e-8f), zero = _mm512_setzero_ps();
    for (int r = 0; r < REPS; r++) {
        if (dirty) {
            for (int i = 0; i + 16 <= HALF; i += 16) _mm512_store_ps(g + i, _mm512_set1_ps(1e-3f * (r % 7)));
            for (int i = 0; i < OTHER; i += 16) _mm512_store_ps(other + i, _mm512_set1_ps((float)r));
        }
        pthread_barrier_wait(&barrier);
        double start = now();
        for (int i = 0; i + 16 <= HALF; i += 16) {
            __m512 gi = _mm512_load_ps(g + i), mi = _mm512_load_ps(m + i), vi = _mm512_load_ps(v + i),
                   pi = _mm512_load_ps(p + i);
            mi = _mm512_fmadd_ps(mi, b1, _mm512_mul_ps(gi, w1));
            vi = _mm512_fmadd_ps(vi, b2, _mm512_mul_ps(_mm512_mul_ps(gi, gi), w2));
            if (divide) {
                __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), eps);
                pi = _mm512_fmadd_ps(step, _mm512_div_ps(mi, denom), pi);
            } else {
                __m512 denom = _mm512_add_ps(_mm512_mul_ps(vi, bc2), eps);
                pi = _mm512_fmadd_ps(step, _mm512_mul_ps(mi, denom), pi);
            }
            _mm512_store_ps(m + i, mi);
            _mm512_store_ps(v + i, vi);
            _mm512_store_ps(p + i, pi);
            _mm512_store_ps(g + i, zero);
        }
        pthread_barrier_wait(&barrier);
        if (id == 0) times[r] = now() - start;
    }
    free(p);
    free(g);
    free(m);
    free(v);
    free(other);
    return NULL;
}

int main(void) {
    for (dirty = 0; dirty < 2; dirty++) {
        for (divide = 1; divide >= 0; divide--) {
            pthread_barrier_init(&barrier, NULL, 2);
            pthread_t threads[2];
            for (long i = 0; i < 2; i++) pthread_create(&threads[i], NULL, half, (void *)i);
            for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
            pthread_barrier_destroy(&barrier);
            qsort(times, REPS, sizeof(double), by_value);
            printf("%-5s %-17s us a pass: best %5.1f, p10 %5.1f, median %5.1f, p90 %5.1f\n",
                   dirty ? "dirty" : "clean", divide ? "with divisions" : "without divisions",
                   times[0] * 1e6, times[REPS / 10] * 1e6, times[REPS / 2] * 1e6, times[REPS * 9 / 10] * 1e6);
        }
    }
    return 0;
}
