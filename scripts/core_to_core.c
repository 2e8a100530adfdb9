/* How long a cache line takes to go from one core to the other and back:
 * two threads pinned to CPUs 0 and 1 take turns incrementing a shared
 * counter. Run it a few times to see which state a VM is in: on the 2-core
 * development VM it prints about 50-60 ns per round trip most of the time
 * and about 325 ns in its slow stretches, when the host runs the two vCPUs
 * far apart; every hand-over between the cores (a shared product, data one
 * core wrote and the other reads) then costs six times as much.
 *
 *   gcc -O2 -pthread scripts/core_to_core.c -o /tmp/core_to_core && /tmp/core_to_core
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUNDS 2000000L

static _Alignas(64) atomic_long turn = 0;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *other(void *unused) {
    (void)unused;
    if (pin(1) != 0) fprintf(stderr, "cannot pin to CPU 1\n");
    for (long i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    if (pin(0) != 0) fprintf(stderr, "cannot pin to CPU 0\n");
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    double t0 = now();
    for (long i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 2) {
        }
    }
    double dt = now() - t0;
    pthread_join(t, NULL);
    printf("round trip between CPU 0 and CPU 1: %.1f ns\n", dt / ROUNDS * 1e9);
    return 0;
}
