// The Linear kernel (vitlens_linear, weights packed once) against OpenBLAS sgemm onto bias-filled
// rows (what the BLAS path of Linear does), on ViT-B/16, ViT-S/8 and batch-8 shapes, 2 threads
// splitting the rows. Prints the median and minimum of 15 rounds and the largest difference.
// Build and run from the repository root (Debian: libopenblas-dev):
//   clang -O2 -o /tmp/linear_gemm bench/linear_gemm.c -I Sources/CViTLensKernels/include \
//     -I /usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -lpthread -lm
//   OPENBLAS_NUM_THREADS=2 OPENBLAS_CORETYPE=SkylakeX OPENBLAS_THREAD_TIMEOUT=4 /tmp/linear_gemm
#include "../Sources/CViTLensKernels/vitlens_kernels.c"
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int by_value(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}
typedef struct { int m, n, k; const float *x, *w, *bias; float *y, *scratch; } half_job;
static void *run_half(void *p) {
    half_job *j = p;
    vitlens_linear(j->m, j->n, j->k, j->x, j->k, j->w, j->bias, j->y, j->n, j->scratch);
    return NULL;
}

int main(void) {
    if (!vitlens_packed_available()) { fprintf(stderr, "no AVX-512 F on this CPU\n"); return 1; }
    static const int shapes[][3] = {{197, 2304, 768}, {197, 768, 768}, {197, 3072, 768}, {197, 768, 3072},
                                    {1576, 2304, 768}, {1576, 768, 3072}, {3601, 1152, 384}, {3601, 384, 1536}};
    enum { ROUNDS = 15 };
    float *s0 = aligned_alloc(64, vitlens_linear_scratch_count() * 4), *s1 = aligned_alloc(64, vitlens_linear_scratch_count() * 4);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *x = malloc((size_t)m * k * 4), *w = malloc((size_t)n * k * 4), *packed = malloc(vitlens_packed_rows_count(n, k) * 4);
        float *y1 = malloc((size_t)m * n * 4), *y2 = malloc((size_t)m * n * 4), *bias = malloc((size_t)n * 4);
        srand(1);
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < (size_t)n * k; i++) w[i] = rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < n; i++) bias[i] = i * 0.01f;
        vitlens_pack_rows(w, k, n, k, packed);
        double tb[ROUNDS], tp[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            double t0 = now();
            for (int i = 0; i < m; i++) memcpy(y1 + (size_t)i * n, bias, (size_t)n * 4);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, x, k, w, k, 1, y1, n);
            tb[r] = now() - t0;
            int h = m / 2;
            half_job a = {h, n, k, x, packed, bias, y2, s0}, b = {m - h, n, k, x + (size_t)h * k, packed, bias, y2 + (size_t)h * n, s1};
            t0 = now();
            pthread_t t;
            pthread_create(&t, NULL, run_half, &b);
            run_half(&a);
            pthread_join(t, NULL);
            tp[r] = now() - t0;
        }
        qsort(tb, ROUNDS, sizeof(double), by_value);
        qsort(tp, ROUNDS, sizeof(double), by_value);
        double worst = 0, flops = 2.0 * m * n * k;
        for (size_t i = 0; i < (size_t)m * n; i++) worst = fmax(worst, fabs((double)y1[i] - y2[i]));
        printf("%5d x %5d x %5d  openblas %6.2f ms (%5.1f GFLOP/s)  vitlens_linear %6.2f ms (%5.1f GFLOP/s)  "
               "ratio median %.2f, min %.2f  max |diff| %.1e\n", m, n, k, tb[ROUNDS / 2] * 1e3, flops / tb[ROUNDS / 2] / 1e9,
               tp[ROUNDS / 2] * 1e3, flops / tp[ROUNDS / 2] / 1e9, tb[ROUNDS / 2] / tp[ROUNDS / 2], tb[0] / tp[0], worst);
        free(x); free(w); free(packed); free(y1); free(y2); free(bias);
    }
    free(s0); free(s1);
    return 0;
}
