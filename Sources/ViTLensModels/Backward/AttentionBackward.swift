import ViTLensCore

/// Reverse mode through one layer's scaled dot-product attention, per head `h`
/// (`S = Q_h K_hᵀ / sqrt(d_h) + bias + mask`, `A = softmax(S)`, `C_h = A V_h`):
/// `dA = dC_h V_hᵀ`, `dV_h = Aᵀ dC_h`, `dS = A ⊙ (dA - rowsum(dA ⊙ A))`, `dQ_h = dS K_h / sqrt(d_h)`,
/// `dK_h = dSᵀ Q_h / sqrt(d_h)`. Additive biases and masks are constants and pass no gradient;
/// masked keys have `A = 0` and so `dS = 0`.
enum AttentionBackward {
    /// Computes `dQKV [N, 3D]` from `dContext [N, D]`, handing `A` and `dA` (`[heads, N, N]`, in
    /// `dScores`) to `observer` before `dScores` is turned into the score gradient in place.
    static func run<O: GradientObserver>(
        layer: Int, layout: TokenLayout, spec: EncoderSpec, tokens n: Int, qkv: UnsafePointer<Float>,
        probabilities: UnsafePointer<Float>, dContext: UnsafePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dQKV: UnsafeMutablePointer<Float>, observer: inout O
    ) throws {
        let d = spec.hidden, h = spec.heads, dh = spec.headDim
        let q = qkv, k = qkv + d, v = qkv + 2 * d
        let scale = 1 / Float(dh).squareRoot()
        for head in 0 ..< h {
            let a = probabilities + head * n * n
            let dA = dScores + head * n * n
            BLAS.sgemm(transB: true, m: n, n: n, k: dh, a: dContext + head * dh, lda: d, b: v + head * dh, ldb: 3 * d, c: dA, ldc: n)
            BLAS.sgemm(transA: true, m: n, n: dh, k: n, a: a, lda: n, b: dContext + head * dh, ldb: d,
                       c: dQKV + 2 * d + head * dh, ldc: 3 * d)
        }
        try observer.observe(LayerGradient(
            layer: layer, heads: h, tokens: n, layout: layout,
            probabilities: UnsafeBufferPointer(start: probabilities, count: h * n * n),
            gradient: UnsafeBufferPointer(start: dScores, count: h * n * n)))
        for head in 0 ..< h {
            let a = probabilities + head * n * n
            let dS = dScores + head * n * n
            for r in 0 ..< n {
                let ar = a + r * n, gr = dS + r * n
                var dot: Float = 0
                for c in 0 ..< n { dot += ar[c] * gr[c] }
                for c in 0 ..< n { gr[c] = ar[c] * (gr[c] - dot) }
            }
            BLAS.sgemm(m: n, n: dh, k: n, alpha: scale, a: dS, lda: n, b: k + head * dh, ldb: 3 * d,
                       c: dQKV + head * dh, ldc: 3 * d)
            BLAS.sgemm(transA: true, m: n, n: dh, k: n, alpha: scale, a: dS, lda: n, b: q + head * dh, ldb: 3 * d,
                       c: dQKV + d + head * dh, ldc: 3 * d)
        }
    }
}
