import ViTLensCore

extension Linear {
    /// The input gradient of `y = x Wᵀ + b`: `dX[rows, in] = dY[rows, out] · W` (BLAS, no copy of W).
    func backward(_ dY: UnsafePointer<Float>, rows: Int, into dX: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transB: inMajor, m: rows, n: inFeatures, k: outFeatures, a: dY, lda: outFeatures,
                   b: weight.ptr, ldb: inMajor ? outFeatures : inFeatures, c: dX, ldc: inFeatures)
    }

    /// Row `index` of the weight `[out, in]` (the gradient of output `index` with respect to the input).
    func weightRow(_ index: Int) -> [Float] {
        if inMajor { return (0 ..< inFeatures).map { weight.ptr[$0 * outFeatures + index] } }
        return Array(UnsafeBufferPointer(start: weight.ptr + index * inFeatures, count: inFeatures))
    }
}
