/* How fast this machine copies scattered MNIST rows, for the README's
 * performance notes: the bound on gathering a shuffled batch.
 *
 *   gcc -O2 -pthread scripts/gather_bound.c -o /tmp/gather_bound && /tmp/gather_bound
 *
 * A data set of 60,000 rows of 784 f32 (3,136 bytes; 188 MB, far more than
 * the L3) is copied row by row in a random order into a batch buffer, as the
 * trainer's gather does: by one thread, then by two at once (each its own
 * rows, as the gather is shared between the cores). For scale, one
 * sequential copy of the whole set (reads and writes). Best of 3 rounds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS 60000
#define ROW_BYTES 3136
#define COPIES 30000 /* rows copied per thread and round */
#define BATCH 128

static char *data;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *gather(void *arg) {
    double *seconds = arg;
    static __thread char batch[BATCH * ROW_BYTES];
    unsigned state = (unsigned)(size_t)arg * 2654435761u + 1;
    double start = now();
    for (int r = 0; r < COPIES; r++) {
        state = state * 1103515245u + 12345u;
        size_t row = (state >> 8) % ROWS;
        memcpy(batch + (r % BATCH) * ROW_BYTES, data + row * ROW_BYTES, ROW_BYTES);
    }
    *seconds = now() - start;
    if (batch[7] == 42) puts(""); /* keeps the copies */
    return NULL;
}

int main(void) {
    size_t bytes = (size_t)ROWS * ROW_BYTES;
    data = malloc(bytes);
    char *copy = malloc(bytes);
    if (!data || !copy) {
        perror("malloc");
        return 1;
    }
    memset(data, 1, bytes);
    memset(copy, 0, bytes);
    double best_seq = 1e9, best_one = 1e9, best_two = 1e9;
    for (int round = 0; round < 3; round++) {
        double start = now();
        memcpy(copy, data, bytes);
        double seq = now() - start;
        if (seq < best_seq) best_seq = seq;

        double one;
        gather(&one);
        if (one < best_one) best_one = one;

        double two[2];
        pthread_t threads[2];
        for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, gather, &two[i]);
        for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
        double slower = two[0] > two[1] ? two[0] : two[1];
        if (slower < best_two) best_two = slower;
    }
    printf("sequential copy of 188 MB: %.1f GB/s read\n", bytes / best_seq / 1e9);
    printf("random rows, one thread:   %.1f GB/s, %.2f us a row\n", COPIES * (double)ROW_BYTES / best_one / 1e9,
           best_one / COPIES * 1e6);
    printf("random rows, two threads:  %.1f GB/s together, %.2f us a row each\n",
           2 * COPIES * (double)ROW_BYTES / best_two / 1e9, best_two / COPIES * 1e6);
    free(data);
    free(copy);
    return 0;
}
