import ViTLensCore

extension LayerNorm {
    /// The input gradient of `y = (x - mean) / sqrt(var + eps) * gamma + beta` per row:
    /// with `g = dy * gamma` and `xhat` the normalised row, `dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)`.
    /// Mean and variance are recomputed from `x` as the forward computes them. `accumulate` adds to `dx`
    /// instead of overwriting it; `dx` must not alias `x` or `dy` when accumulating.
    func backward(input x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, rows: Int,
                  into dx: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let cols = gamma.count
        let gamma = gamma.ptr
        var g = [Float](repeating: 0, count: cols)
        for r in 0 ..< rows {
            let src = x + r * cols
            let dyr = dy + r * cols
            let (mean, inv) = Kernels.layerNormStatistics(src, cols: cols, eps: eps)
            var gMean: Double = 0
            var gxMean: Double = 0
            for c in 0 ..< cols {
                g[c] = dyr[c] * gamma[c]
                gMean += Double(g[c])
                gxMean += Double(g[c]) * Double((src[c] - mean) * inv)
            }
            let a = Float(gMean / Double(cols))
            let b = Float(gxMean / Double(cols))
            let out = dx + r * cols
            for c in 0 ..< cols {
                let v = (g[c] - a - (src[c] - mean) * inv * b) * inv
                if accumulate { out[c] += v } else { out[c] = v }
            }
        }
    }
}
