// Attention products with pre-packed keys and values, an AVX-512 micro-kernel of 14 rows x 32
// columns (28 accumulators). BLAS repacks K and V for every block of query rows and runs these
// thin products (k = 64, or n = 64) at 50-60% of the machine's GEMM peak single-threaded; with the
// keys and values packed once per head and layer the same products run 1.4-1.7x faster (measured
// on the QKᵀ and PV of 3,601 tokens, head width 64). Written for ViTLens from the BLIS/Goto
// micro-kernel idea: the packed panel streams through L1 while each A row is broadcast.
#include "vitlens_kernels.h"

#define PANEL 32
#define MAX_ROWS 14

size_t vitlens_packed_rows_count(int rows, int depth) {
    return (size_t)((rows + PANEL - 1) / PANEL) * PANEL * (size_t)depth;
}

void vitlens_pack_rows(const float *x, int ld, int rows, int depth, float *out) {
    int panels = (rows + PANEL - 1) / PANEL;
    for (int p = 0; p < panels; p++) {
        float *dst = out + (size_t)p * depth * PANEL;
        for (int j = 0; j < PANEL; j++) {
            int r = p * PANEL + j;
            if (r < rows) {
                const float *src = x + (size_t)r * ld;
                for (int k = 0; k < depth; k++) dst[(size_t)k * PANEL + j] = src[k];
            } else {
                for (int k = 0; k < depth; k++) dst[(size_t)k * PANEL + j] = 0;
            }
        }
    }
}

size_t vitlens_packed_columns_count(int rows, int cols) {
    return (size_t)((cols + PANEL - 1) / PANEL) * PANEL * (size_t)rows;
}

void vitlens_pack_columns(const float *x, int ld, int rows, int cols, float *out) {
    int panels = (cols + PANEL - 1) / PANEL;
    for (int p = 0; p < panels; p++) {
        float *dst = out + (size_t)p * rows * PANEL;
        int width = cols - p * PANEL < PANEL ? cols - p * PANEL : PANEL;
        for (int r = 0; r < rows; r++) {
            const float *src = x + (size_t)r * ld + p * PANEL;
            float *d = dst + (size_t)r * PANEL;
            int j = 0;
            for (; j < width; j++) d[j] = src[j];
            for (; j < PANEL; j++) d[j] = 0;
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int vitlens_packed_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define TARGET __attribute__((target("avx512f,fma")))
// Every loop over the tile's rows fully unrolled: the 28 accumulators must live in registers
// (without it clang kept the 13- and 14-row tiles' accumulators on the stack, 2x slower than BLAS).
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 14")
#endif

// `rows` (1...14, a constant after inlining) rows of A times one packed panel, k steps.
static inline __attribute__((always_inline)) TARGET void tile(int rows, int k, float alpha, const float *a, int lda,
                                                             const float *b, float *c, int ldc, __mmask16 m0, __mmask16 m1) {
    __m512 acc[MAX_ROWS][2];
    UNROLL
    for (int r = 0; r < rows; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (int i = 0; i < k; i++) {
        __m512 b0 = _mm512_loadu_ps(b + (size_t)i * PANEL);
        __m512 b1 = _mm512_loadu_ps(b + (size_t)i * PANEL + 16);
        UNROLL
        for (int r = 0; r < rows; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * lda + i]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    __m512 s = _mm512_set1_ps(alpha);
    UNROLL
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + (size_t)r * ldc, m0, _mm512_mul_ps(acc[r][0], s));
        _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16, m1, _mm512_mul_ps(acc[r][1], s));
    }
}

static TARGET void tile_any(int rows, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc,
                            __mmask16 m0, __mmask16 m1) {
    switch (rows) {
#define ROWS(x) case x: tile(x, k, alpha, a, lda, b, c, ldc, m0, m1); break;
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7)
        ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12) ROWS(13) ROWS(14)
#undef ROWS
        default: break;
    }
}

TARGET void vitlens_packed_gemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    int panels = (n + PANEL - 1) / PANEL;
    // Row tiles of equal height (at most 14): 99 rows are 8 tiles of 12 or 13, not 7 x 14 + 1.
    int tiles = (m + MAX_ROWS - 1) / MAX_ROWS;
    for (int p = 0; p < panels; p++) {
        int left = n - p * PANEL;
        __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left <= 16 ? (__mmask16)0 : (__mmask16)((1u << (left - 16)) - 1);
        const float *panel = b + (size_t)p * k * PANEL;
        int r = 0;
        for (int t = 0; t < tiles; t++) {
            int rows = m / tiles + (t < m % tiles ? 1 : 0);
            tile_any(rows, k, alpha, a + (size_t)r * lda, lda, panel, c + (size_t)r * ldc + p * PANEL, ldc, m0, m1);
            r += rows;
        }
    }
}

#else

int vitlens_packed_available(void) { return 0; }

void vitlens_packed_gemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc) {
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)c; (void)ldc;
}

#endif
