#if canImport(Accelerate)
import Accelerate
#elseif canImport(CViTLensBLAS)
import CViTLensBLAS
#endif

/// Single-precision matrix products through the platform BLAS (OpenBLAS on Linux, Accelerate on
/// Apple platforms). Every matrix is row-major.
///
/// On Linux the library is loaded at first use (`dlopen`), not linked: OpenBLAS picks its kernels
/// when it loads, from the CPU model, and Debian's 0.3.21 falls back to its Prescott (SSE3) kernels on
/// newer Xeons it does not know (4x slower, measured). Before loading, ViTLens sets
/// `OPENBLAS_CORETYPE` from the CPU's feature flags (`SkylakeX` with AVX-512, `Haswell` with AVX2 +
/// FMA) unless it is already set; `VITLENS_BLAS_CORETYPE=keep` leaves OpenBLAS's own choice,
/// `VITLENS_BLAS_CORETYPE=NAME` picks another, and `VITLENS_BLAS_LIBRARY` loads another CBLAS library.
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
        #if canImport(Accelerate)
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
        vitlens_sgemm(
            transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
        #endif
    }

    /// Loads the BLAS library now (it is otherwise loaded by the first product).
    /// - Throws: ``BLASError/unavailable(_:)`` with a one-line reason when it cannot be loaded.
    public static func load() throws {
        #if !canImport(Accelerate)
        if vitlens_blas_load() != 0 {
            throw BLASError.unavailable(vitlens_blas_error().map { String(cString: $0) } ?? "cannot load the BLAS library")
        }
        #endif
    }

    /// Sets the number of threads BLAS uses for one call (OpenBLAS, BLIS); a no-op on Apple platforms.
    public static func setThreads(_ n: Int) {
        #if !canImport(Accelerate)
        vitlens_blas_set_threads(Int32(max(1, n)))
        #endif
    }

    /// The number of threads BLAS uses (1 where it cannot be queried).
    public static var threads: Int {
        #if !canImport(Accelerate)
        return Int(vitlens_blas_get_threads())
        #else
        return 1
        #endif
    }

    /// Which library and kernels do the products, e.g. `libopenblas.so.0 (SkylakeX, set by ViTLens)`.
    public static var description: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        guard vitlens_blas_load() == 0 else { return "unavailable" }
        let library = String(cString: vitlens_blas_library())
        let core = String(cString: vitlens_blas_core_name())
        let chosen = String(cString: vitlens_blas_chosen_coretype())
        guard !core.isEmpty else { return library }
        return chosen.isEmpty ? "\(library) (\(core))" : "\(library) (\(core), set by ViTLens)"
        #endif
    }

    /// OpenBLAS's name for the kernels it runs (`SkylakeX`, `Haswell`, `Prescott`...), or `nil` when
    /// the library is not OpenBLAS or cannot be loaded.
    public static var coreName: String? {
        #if canImport(Accelerate)
        return nil
        #else
        guard vitlens_blas_load() == 0 else { return nil }
        let core = String(cString: vitlens_blas_core_name())
        return core.isEmpty ? nil : core
        #endif
    }

    /// The OpenBLAS core type this CPU's feature flags call for (`SkylakeX`, `Haswell`), or `nil`.
    public static var recommendedCoreType: String? {
        #if canImport(Accelerate)
        return nil
        #else
        let type = String(cString: vitlens_blas_recommended_coretype())
        return type.isEmpty ? nil : type
        #endif
    }
}

/// The BLAS library could not be used.
public enum BLASError: Error, CustomStringConvertible, Sendable {
    /// Loading failed; the reason is one line.
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return reason
        }
    }
}
