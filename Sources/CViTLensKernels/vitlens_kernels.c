// Attention products with pre-packed keys and values, an AVX-512 micro-kernel of 14 rows x 32
// columns (28 accumulators). BLAS repacks K and V for every block of query rows and runs these
// thin products (k = 64, or n = 64) at 50-60% of the machine's GEMM peak single-threaded; with the
// keys and values packed once per head and layer the same products run 1.4-1.7x faster (measured
// on the QKᵀ and PV of 3,601 tokens, head width 64). Written for ViTLens from the BLIS/Goto
// micro-kernel idea: the packed panel streams through L1 while each A row is broadcast.
#include "vitlens_kernels.h"

#define PANEL 32
#define MAX_ROWS 14

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
// One 8 x 8 tile in ymm registers: unpack pairs of rows, shuffle pairs of pairs, swap 128-bit halves.
__attribute__((target("avx")))
static void transpose_tile8(const float *src, long ls, float *dst, long ld) {
    __m256 a0 = _mm256_loadu_ps(src), a1 = _mm256_loadu_ps(src + ls), a2 = _mm256_loadu_ps(src + 2 * ls),
           a3 = _mm256_loadu_ps(src + 3 * ls), a4 = _mm256_loadu_ps(src + 4 * ls), a5 = _mm256_loadu_ps(src + 5 * ls),
           a6 = _mm256_loadu_ps(src + 6 * ls), a7 = _mm256_loadu_ps(src + 7 * ls);
    __m256 b0 = _mm256_unpacklo_ps(a0, a1), b1 = _mm256_unpackhi_ps(a0, a1);
    __m256 b2 = _mm256_unpacklo_ps(a2, a3), b3 = _mm256_unpackhi_ps(a2, a3);
    __m256 b4 = _mm256_unpacklo_ps(a4, a5), b5 = _mm256_unpackhi_ps(a4, a5);
    __m256 b6 = _mm256_unpacklo_ps(a6, a7), b7 = _mm256_unpackhi_ps(a6, a7);
    __m256 c0 = _mm256_shuffle_ps(b0, b2, 0x44), c1 = _mm256_shuffle_ps(b0, b2, 0xEE);
    __m256 c2 = _mm256_shuffle_ps(b1, b3, 0x44), c3 = _mm256_shuffle_ps(b1, b3, 0xEE);
    __m256 c4 = _mm256_shuffle_ps(b4, b6, 0x44), c5 = _mm256_shuffle_ps(b4, b6, 0xEE);
    __m256 c6 = _mm256_shuffle_ps(b5, b7, 0x44), c7 = _mm256_shuffle_ps(b5, b7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(c0, c4, 0x20));
    _mm256_storeu_ps(dst + ld, _mm256_permute2f128_ps(c1, c5, 0x20));
    _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(c2, c6, 0x20));
    _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(c3, c7, 0x20));
    _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(c0, c4, 0x31));
    _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(c1, c5, 0x31));
    _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(c2, c6, 0x31));
    _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(c3, c7, 0x31));
}
#define HAVE_TILE8 1
#endif

void vitlens_transpose(const float *src, long rows, long cols, float *dst) {
    // A strip of 8 destination rows at a time, written front to back; each source line is read
    // whole within two consecutive strips (no blocking of source rows: a source row stride that
    // is a multiple of 4 KB maps a block's rows onto one L1 set).
    long c = 0;
#ifdef HAVE_TILE8
    if (__builtin_cpu_supports("avx")) {
        for (; c + 8 <= cols; c += 8) {
            long r = 0;
            for (; r + 8 <= rows; r += 8) transpose_tile8(src + r * cols + c, cols, dst + c * rows + r, rows);
            for (; r < rows; r++)
                for (long j = c; j < c + 8; j++) dst[j * rows + r] = src[r * cols + j];
        }
    }
#endif
    for (; c < cols; c++)
        for (long r = 0; r < rows; r++) dst[c * rows + r] = src[r * cols + c];
}

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

// How a tile's accumulators start.
enum { START_ZERO, START_BIAS, START_LOAD };

// `rows` (1...14, a constant after inlining) rows of A times one packed panel, k steps: A's entry
// (r, i) at a[r * ars + i * ais] (row-major A: ars = lda, ais = 1; a packed tile: ars = 1,
// ais = rows). The accumulators start at zero, at the bias (START_BIAS; NULL: zero) or at C's
// values (START_LOAD); with `scale` they are multiplied by alpha before the (masked) store.
static inline __attribute__((always_inline)) TARGET void tile(int rows, int k, const float *a, size_t ars, size_t ais,
                                                             const float *b, float *c, int ldc, int start,
                                                             const float *bias, int scale, float alpha,
                                                             __mmask16 m0, __mmask16 m1, const float *pf) {
    __m512 acc[MAX_ROWS][2];
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    if (start == START_BIAS && bias) {
        s0 = _mm512_maskz_loadu_ps(m0, bias);
        s1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    }
    UNROLL
    for (int r = 0; r < rows; r++) {
        if (start == START_LOAD) {
            acc[r][0] = _mm512_maskz_loadu_ps(m0, c + (size_t)r * ldc);
            acc[r][1] = _mm512_maskz_loadu_ps(m1, c + (size_t)r * ldc + 16);
        } else {
            acc[r][0] = s0;
            acc[r][1] = s1;
        }
    }
    for (int i = 0; i < k; i++) {
        if (pf) {  // prefetches only: no effect on any value
            _mm_prefetch((const char *)(pf + (size_t)i * PANEL), _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + (size_t)i * PANEL + 16), _MM_HINT_T1);
        }
        __m512 b0 = _mm512_loadu_ps(b + (size_t)i * PANEL);
        __m512 b1 = _mm512_loadu_ps(b + (size_t)i * PANEL + 16);
        UNROLL
        for (int r = 0; r < rows; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * ars + (size_t)i * ais]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    __m512 f = _mm512_set1_ps(alpha);
    UNROLL
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + (size_t)r * ldc, m0, scale ? _mm512_mul_ps(acc[r][0], f) : acc[r][0]);
        _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16, m1, scale ? _mm512_mul_ps(acc[r][1], f) : acc[r][1]);
    }
}

static TARGET void tile_any(int rows, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc,
                            __mmask16 m0, __mmask16 m1) {
    switch (rows) {
#define ROWS(x) case x: tile(x, k, a, (size_t)lda, 1, b, c, ldc, START_ZERO, NULL, 1, alpha, m0, m1, NULL); break;
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

// exp(x) for x <= 0 (a score minus its row's maximum): Cody-Waite reduction with the same
// constants and degree-6 polynomial as Kernels.exp16, in fused multiply-adds, and 2^n by scalef.
// x below -87.33654 (and -inf) gives 0; NaN stays NaN.
static inline __attribute__((always_inline)) TARGET __m512 exp_nonpositive(__m512 x) {
    __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_NLT_UQ);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));
}

TARGET int vitlens_softmax_rows(float *x, int rows, int n, int ld, int check) {
    int firstBad = -1;
    if (n <= 0) return -1;
    int full = n / 16 * 16;
    __mmask16 tail = (__mmask16)((1u << (n - full)) - 1);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 minusInf = _mm512_set1_ps(-__builtin_inff());
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * ld;
        // Pass 1: the maximum, and v * 0 summed (NaN if any entry is NaN or infinite).
        __m512 mv = minusInf, probe = zero;
        for (int i = 0; i < full; i += 16) {
            __m512 v = _mm512_loadu_ps(row + i);
            mv = _mm512_max_ps(mv, v);
            probe = _mm512_fmadd_ps(v, zero, probe);
        }
        if (tail) {
            __m512 v = _mm512_maskz_loadu_ps(tail, row + full);
            mv = _mm512_mask_max_ps(mv, tail, mv, v);
            probe = _mm512_fmadd_ps(v, zero, probe);
        }
        float m = _mm512_reduce_max_ps(mv);
        if (check && firstBad < 0 && !(_mm512_reduce_add_ps(probe) == 0.0f)) firstBad = r;
        if (m == -__builtin_inff()) {
            for (int i = 0; i < n; i++) row[i] = 0;
            continue;
        }
        // Pass 2: e = exp(v - max), stored, summed per lane.
        __m512 mb = _mm512_set1_ps(m), acc = zero;
        for (int i = 0; i < full; i += 16) {
            __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(row + i), mb));
            _mm512_storeu_ps(row + i, e);
            acc = _mm512_add_ps(acc, e);
        }
        if (tail) {
            __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_mask_loadu_ps(minusInf, tail, row + full), mb));
            _mm512_mask_storeu_ps(row + full, tail, e);
            acc = _mm512_add_ps(acc, e);
        }
        // Pass 3: times 1 / sum.
        __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(acc));
        for (int i = 0; i < full; i += 16) _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), inv));
        if (tail) _mm512_mask_storeu_ps(row + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + full), inv));
    }
    return firstBad;
}


// Linear layers, y = x Wᵀ + b, with W packed once at load (vitlens_pack_rows: panels of 32 output
// features, [ceil(out / 32)][in][32]). Rows of x are copied per block into tiles of at most 14 rows
// laid out [k][rows] (contiguous broadcasts: x's own rows, 3,072 floats apart, all fall into one L1
// set), k is cut into blocks of LINEAR_KC, and each 14 x 32 tile of y accumulates in registers.
// Measured on 197 x 3,072 x 768 ... 197 x 768 x 3,072 (ViT-B/16's products, 2 threads): 1.1-1.2x
// OpenBLAS 0.3.21 SkylakeX, which packs W again on every call.
// Both can be set at compile time for experiments (bench/linear_gemm.c: clang -DLINEAR_KC=384 ...).
#ifndef LINEAR_KC
#define LINEAR_KC 768
#endif
#ifndef LINEAR_MC
#define LINEAR_MC 112
#endif

size_t vitlens_linear_scratch_count(void) { return (size_t)LINEAR_MC * LINEAR_KC; }

static TARGET void linear_tile_any(int rows, int k, const float *x, const float *w, float *y, int ldy,
                                   const float *bias, int first, __mmask16 m0, __mmask16 m1, const float *pf) {
    switch (rows) {
#define ROWS(r) case r: tile(r, k, x, 1, r, w, y, ldy, first ? START_BIAS : START_LOAD, bias, 0, 1.0f, m0, m1, pf); break;
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7)
        ROWS(8) ROWS(9) ROWS(10) ROWS(11) ROWS(12) ROWS(13) ROWS(14)
#undef ROWS
        default: break;
    }
}

TARGET void vitlens_linear(int m, int n, int k, const float *x, int ldx, const float *w, const float *bias,
                           float *y, int ldy, float *scratch) {
    if (m <= 0 || n <= 0) return;
    int panels = (n + PANEL - 1) / PANEL;
    if (k <= 0) {
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) y[(size_t)r * ldy + j] = bias ? bias[j] : 0.0f;
        return;
    }
    for (int r0 = 0; r0 < m; r0 += LINEAR_MC) {
        int mm = m - r0 < LINEAR_MC ? m - r0 : LINEAR_MC;
        // Tiles of equal height (at most 14): 99 rows are 8 tiles of 12 or 13, not 7 x 14 + 1.
        int tiles = (mm + MAX_ROWS - 1) / MAX_ROWS;
        for (int k0 = 0; k0 < k; k0 += LINEAR_KC) {
            int kk = k - k0 < LINEAR_KC ? k - k0 : LINEAR_KC;
            int r = 0;
            for (int t = 0; t < tiles; t++) {
                int rows = mm / tiles + (t < mm % tiles ? 1 : 0);
                float *dst = scratch + (size_t)r * kk;
                for (int j = 0; j < rows; j++) {
                    const float *src = x + (size_t)(r0 + r + j) * ldx + k0;
                    for (int i = 0; i < kk; i++) dst[(size_t)i * rows + j] = src[i];
                }
                r += rows;
            }
            for (int p = 0; p < panels; p++) {
                int left = n - p * PANEL;
                __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
                __mmask16 m1 = left >= 32 ? (__mmask16)0xFFFF : left <= 16 ? (__mmask16)0 : (__mmask16)((1u << (left - 16)) - 1);
                const float *panel = w + (size_t)p * k * PANEL + (size_t)k0 * PANEL;
                r = 0;
                for (int t = 0; t < tiles; t++) {
                    int rows = mm / tiles + (t < mm % tiles ? 1 : 0);
                    // The last tile of a panel fetches the next panel's block (after the last panel: the
                    // first panel's next block of inputs) into L2 as it goes, a row of 32 weights per
                    // step: a weight matrix read once per forward comes from memory, and without this
                    // each panel's first tile waited for it (ViT-B/16 batch 1: products at 441-482 ->
                    // 459-507 GFLOP/s, forward 83-84 -> 80-81 ms on a Zen 5).
                    const float *pf = NULL;
                    if (t == tiles - 1) {
                        if (p + 1 < panels) pf = panel + (size_t)k * PANEL;
                        else if (k0 + kk < k) pf = w + (size_t)(k0 + kk) * PANEL;
                    }
                    linear_tile_any(rows, kk, scratch + (size_t)r * kk, panel, y + (size_t)(r0 + r) * ldy + p * PANEL, ldy,
                                    bias ? bias + p * PANEL : NULL, k0 == 0, m0, m1, pf);
                    r += rows;
                }
            }
        }
    }
}

#else

int vitlens_packed_available(void) { return 0; }

void vitlens_packed_gemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc) {
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)c; (void)ldc;
}

int vitlens_softmax_rows(float *x, int rows, int n, int ld, int check) {
    (void)x; (void)rows; (void)n; (void)ld; (void)check;
    return -1;
}

size_t vitlens_linear_scratch_count(void) { return 0; }

void vitlens_linear(int m, int n, int k, const float *x, int ldx, const float *w, const float *bias, float *y, int ldy,
                    float *scratch) {
    (void)m; (void)n; (void)k; (void)x; (void)ldx; (void)w; (void)bias; (void)y; (void)ldy; (void)scratch;
}

#endif
