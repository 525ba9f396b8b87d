import Foundation
import ViTLens

/// `bench --gemm-peak`: the fp32 matrix-product rate this process reaches on this machine with the
/// current thread setting, the reference for the profile's "share of peak": the faster of the loaded
/// BLAS and, where it runs, ViTLens's packed Linear kernel (``LinearKernel``), each on square products.
/// (Where OpenBLAS runs its AVX2 kernels on an AVX-512 CPU, e.g. `OPENBLAS_CORETYPE=Haswell` on a
/// Zen 5, the packed kernel is the faster and the BLAS rate alone would put products above 100%.)
enum GEMMPeak {
    /// Square sizes timed: large enough for the library's blocking to reach its steady rate.
    static let sizes = [2048, 3072]
    /// Timed products per size (after one untimed one); the best counts.
    static let repeats = 3

    /// GFLOP/s of the fastest square product over ``sizes`` and the kernels (`2 n^3` flops each),
    /// measured at the first call and kept for the process (later calls return the same number).
    static var gigaflops: Double { measured.gigaflops }
    /// What reached ``gigaflops``: `"blas"` or a ``LinearKernel`` raw value.
    static var source: String { measured.source }

    private static let measured: (gigaflops: Double, source: String) = {
        var kernels: [LinearKernel] = [.blas]
        if LinearKernel.current != .blas { kernels.append(LinearKernel.current) }
        var best = (gigaflops: 0.0, source: LinearKernel.blas.rawValue)
        for kernel in kernels {
            for n in sizes {
                let rate = kernel.squareProductGigaflops(size: n, repeats: repeats)
                if rate > best.gigaflops { best = (rate, kernel.rawValue) }
            }
        }
        return best
    }()
}
