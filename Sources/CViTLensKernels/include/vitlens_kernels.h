// The attention products QKᵀ and PV with keys and values packed once per head and layer, and the
// scores' softmax (AVX-512).
#ifndef VITLENS_KERNELS_H
#define VITLENS_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU runs the packed product (x86-64 with AVX-512 F), else 0 (then use BLAS).
int vitlens_packed_available(void);

/// Floats of `rows` rows of `depth` packed by vitlens_pack_rows: ceil(rows / 32) * 32 * depth.
size_t vitlens_packed_rows_count(int rows, int depth);

/// Packs x[rows][depth] (row stride ld) as the right-hand side of C = A xᵀ (keys for QKᵀ):
/// panels of 32 rows, [ceil(rows / 32)][depth][32], rows past the end zero.
void vitlens_pack_rows(const float *x, int ld, int rows, int depth, float *out);

/// Floats of x[rows][cols] packed by vitlens_pack_columns: ceil(cols / 32) * 32 * rows.
size_t vitlens_packed_columns_count(int rows, int cols);

/// Packs x[rows][cols] (row stride ld) as the right-hand side of C = A x (values for PV):
/// panels of 32 columns, [ceil(cols / 32)][rows][32], columns past the end zero.
void vitlens_pack_columns(const float *x, int ld, int rows, int cols, float *out);

/// C[m][n] = alpha * (A[m][k] · B) where A is row-major (row stride lda) and B is packed in panels
/// of 32 columns [ceil(n / 32)][k][32] (vitlens_pack_rows of Bᵀ, or vitlens_pack_columns of B).
/// Each entry is one sequential fused multiply-add chain over k, then scaled by alpha. Only
/// C's first n columns of m rows (row stride ldc) are written. Call only when
/// vitlens_packed_available() is 1.
void vitlens_packed_gemm(int m, int n, int k, float alpha, const float *a, int lda, const float *b, float *c, int ldc);

/// Floats of the scratch buffer each concurrent vitlens_linear call needs (0 without AVX-512).
size_t vitlens_linear_scratch_count(void);

/// y[m][n] = x[m][k] · Wᵀ + bias for a Linear layer whose weight W[n][k] was packed by
/// vitlens_pack_rows(W, k, n, k, w) (panels of 32 output features). `bias` may be NULL (then no
/// bias). x has row stride ldx, y row stride ldy; only y's first n columns of m rows are written.
/// Each entry is the bias then one fused multiply-add chain over k in order. `scratch` holds
/// vitlens_linear_scratch_count() floats, private to the call (threads split the rows, each with
/// its own scratch). Call only when vitlens_packed_available() is 1.
void vitlens_linear(int m, int n, int k, const float *x, int ldx, const float *w, const float *bias, float *y, int ldy,
                    float *scratch);

/// Softmax in place of `rows` rows of `n` floats (row stride ld): p = exp(x - max) / sum, with
/// exp(t) = 0 for t < -87.33654; a row whose entries are all -inf becomes zeros. With `check` 1,
/// returns the first row holding a NaN or an infinity before the softmax (found in the maximum's
/// pass), else -1. Call only when vitlens_packed_available() is 1.
int vitlens_softmax_rows(float *x, int rows, int n, int ld, int check);

/// dst[cols, rows] = the transpose of src[rows, cols] (both dense, row-major): 8 x 8 tiles in AVX
/// registers where the CPU has AVX, a plain loop elsewhere.
void vitlens_transpose(const float *src, long rows, long cols, float *dst);

#ifdef __cplusplus
}
#endif
#endif
