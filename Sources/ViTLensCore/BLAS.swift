#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// Single-precision matrix products through the platform BLAS (OpenBLAS on Linux, Accelerate on
/// Apple platforms). Every matrix is row-major.
public enum BLAS {
    /// `C[m, n] = alpha * op(A) * op(B) + beta * C`, where `op(A)` is `[m, k]` and `op(B)` is `[k, n]`.
    ///
    /// - Parameters:
    ///   - transA: use `A` transposed (`A` is then stored `[k, m]`).
    ///   - transB: use `B` transposed (`B` is then stored `[n, k]`, e.g. a Linear weight `[out, in]`).
    ///   - lda, ldb, ldc: row strides in elements (allow column slices such as one attention head).
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets the number of threads BLAS uses for one call (OpenBLAS); a no-op on Apple platforms.
    public static func setThreads(_ n: Int) {
        #if !canImport(Accelerate) && canImport(CBLAS)
        openblas_set_num_threads(Int32(max(1, n)))
        #endif
    }

    /// The number of threads BLAS uses (1 where it cannot be queried).
    public static var threads: Int {
        #if !canImport(Accelerate) && canImport(CBLAS)
        return Int(openblas_get_num_threads())
        #else
        return 1
        #endif
    }
}
