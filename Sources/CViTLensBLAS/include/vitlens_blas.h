// ViTLens's door to the platform BLAS on Linux: OpenBLAS (or another library with the CBLAS
// interface) loaded with dlopen on first use instead of linked at build time, so that ViTLens can
// choose OpenBLAS's kernels before OpenBLAS's load-time constructor picks them (see vitlens_blas.c).
#ifndef VITLENS_BLAS_H
#define VITLENS_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads the BLAS library once (thread-safe). Returns 0 on success, -1 on failure; then
/// vitlens_blas_error() says why.
int vitlens_blas_load(void);

/// A one-line reason the library could not be loaded, or NULL.
const char *vitlens_blas_error(void);

/// Row-major single-precision GEMM, C = alpha op(A) op(B) + beta C (cblas_sgemm with CblasRowMajor).
/// Loads the library on first use; if it cannot be loaded, prints the reason and aborts the process
/// (call vitlens_blas_load() first to report the error yourself).
void vitlens_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/// Sets BLAS threads for later calls (OpenBLAS or BLIS); ignored when the library has no such call.
void vitlens_blas_set_threads(int n);

/// BLAS threads, or 1 when the library cannot say.
int vitlens_blas_get_threads(void);

/// OpenBLAS's name for the kernels it chose ("SkylakeX", "Haswell", "Prescott"...), or "" if unknown.
const char *vitlens_blas_core_name(void);

/// The path or soname of the loaded library ("" before loading).
const char *vitlens_blas_library(void);

/// The OPENBLAS_CORETYPE ViTLens set before loading OpenBLAS, or "" when it set none (the variable
/// was already set, VITLENS_BLAS_CORETYPE=keep, or the CPU needs no choice).
const char *vitlens_blas_chosen_coretype(void);

/// The OpenBLAS core type this CPU's features call for: "SkylakeX" (AVX-512 F/CD/BW/DQ/VL),
/// "Haswell" (AVX2 + FMA), or "" (leave OpenBLAS's own choice).
const char *vitlens_blas_recommended_coretype(void);

#ifdef __cplusplus
}
#endif
#endif
