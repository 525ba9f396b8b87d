import Foundation
import ViTLens

/// `bench --gemm-peak`: the fp32 matrix-product rate the loaded BLAS reaches on this machine with
/// the current thread setting, the reference for the profile's "share of peak".
enum GEMMPeak {
    /// Square sizes timed: large enough for the library's blocking to reach its steady rate.
    static let sizes = [2048, 3072]
    /// Timed products per size (after one untimed one); the best counts.
    static let repeats = 3

    /// GFLOP/s of the fastest square product `C = A B` over ``sizes`` (`2 n^3` flops each), measured
    /// at the first call and kept for the process (later calls return the same number).
    static var gigaflops: Double { measured }

    private static let measured: Double = {
        var best = 0.0
        for n in sizes {
            // Values in [-1, 1): no denormals or overflow to slow the product.
            let a = (0 ..< n * n).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
            let b = (0 ..< n * n).map { Float(($0 * 104_729) % 1999) / 1000 - 1 }
            var c = [Float](repeating: 0, count: n * n)
            for run in 0 ... repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                c.withUnsafeMutableBufferPointer { cb in
                    guard let out = cb.baseAddress else { return }
                    BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: out, ldc: n)
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if run > 0, seconds > 0 { best = max(best, 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9) }
            }
        }
        return best
    }()
}
