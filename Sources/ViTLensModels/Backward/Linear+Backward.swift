import ViTLensCore

extension Linear {
    /// The input gradient of `y = x Wᵀ + b`: `dX[rows, in] = dY[rows, out] · W` (BLAS, no copy of W;
    /// with packed panels, one product per panel of 32 output features, accumulated in order).
    func backward(_ dY: UnsafePointer<Float>, rows: Int, into dX: UnsafeMutablePointer<Float>) {
        guard layout == .panels else {
            BLAS.sgemm(transB: inMajor, m: rows, n: inFeatures, k: outFeatures, a: dY, lda: outFeatures,
                       b: weight.ptr, ldb: inMajor ? outFeatures : inFeatures, c: dX, ldc: inFeatures)
            return
        }
        // Panel p holds W's rows 32p ..< 32p + 32 as [in, 32], i.e. that block of W transposed.
        let panels = (outFeatures + 31) / 32
        if panels == 0 { dX.update(repeating: 0, count: rows * inFeatures) }
        for p in 0 ..< panels {
            let width = min(32, outFeatures - 32 * p)
            BLAS.sgemm(transB: true, m: rows, n: inFeatures, k: width, a: dY + 32 * p, lda: outFeatures,
                       b: weight.ptr + p * inFeatures * 32, ldb: 32, beta: p == 0 ? 0 : 1, c: dX, ldc: inFeatures)
        }
    }

    /// Row `index` of the weight `[out, in]` (the gradient of output `index` with respect to the input).
    func weightRow(_ index: Int) -> [Float] {
        switch layout {
        case .inMajor: return (0 ..< inFeatures).map { weight.ptr[$0 * outFeatures + index] }
        case .outMajor: return Array(UnsafeBufferPointer(start: weight.ptr + index * inFeatures, count: inFeatures))
        case .panels:
            let base = weight.ptr + (index / 32) * inFeatures * 32 + index % 32
            return (0 ..< inFeatures).map { base[$0 * 32] }
        }
    }
}
