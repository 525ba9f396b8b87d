import Foundation
import ViTLensCore

extension LinearKernel {
    /// The fp32 rate (GFLOP/s) this kernel reaches on a square Linear product `y = x Wᵀ` of
    /// `size x size` by `size x size` (`2 size^3` flops), as the Linear layers call it: the packed
    /// kernel with its rows split over ``Compute/threads``, BLAS through ``BLAS/sgemm``.
    /// The best of `repeats` timed products after one untimed one. Values lie in [-1, 1) (no
    /// denormals or overflow). `bench --gemm-peak` uses it as the reference for "share of peak".
    public func squareProductGigaflops(size n: Int, repeats: Int) -> Double {
        guard n > 0 else { return 0 }
        let w = (0 ..< n * n).map { Float(($0 * 104_729) % 1999) / 1000 - 1 }
        let x = (0 ..< n * n).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
        let layer = Linear(weight: w, bias: nil, out: n, in: n, kernel: self)
        let y = FloatStorage(count: n * n)
        var best = 0.0
        x.withUnsafeBufferPointer { xb in
            guard let xp = xb.baseAddress else { return }
            for run in 0 ... max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                layer(xp, rows: n, into: y.pointer)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if run > 0, seconds > 0 { best = max(best, 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9) }
            }
        }
        return best
    }
}
