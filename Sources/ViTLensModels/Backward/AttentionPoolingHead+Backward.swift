import ViTLensCore

extension AttentionPoolingHead {
    /// What reverse mode through the head returns.
    struct Gradient {
        /// `dTarget/dp`, `[heads, N]`: the gradient with respect to the probe's attention.
        var attention: [Float]
        /// `dTarget/d(head input)`, `[N, D]`: the gradient reaching the final (post-LayerNorm) hidden states.
        var input: [Float]
    }

    /// Reverse mode from `dPooled [D]` through the head's forward `result` on `tokens` inputs.
    ///
    /// With `a` the attended vector and `z = fc1(layernorm(a))`:
    /// `da = dPooled + layernormᵀ(fc1ᵀ(act'(z) ⊙ fc2ᵀ dPooled))`, `dc = out_projᵀ da`; per head `h`
    /// `dp_h[t] = dc_h · V_h[t]`, `dV_h[t] = p_h[t] dc_h`, `ds_h = p_h ⊙ (dp_h - p_h · dp_h)`,
    /// `dK_h[t] = ds_h[t] q_h / sqrt(headDim)`; the input gradient is `in_proj`'s key and value rows
    /// transposed times `[dK | dV]`. The probe and its query are parameters: no gradient leaves there.
    func backward(_ result: Result, dPooled: [Float], tokens n: Int) -> Gradient {
        let d = probe.count, dh = d / heads
        let r = result.readout
        // MLP branch: pooled = a + fc2(act(z)), z = fc1(layernorm(a)).
        var dInner = [Float](repeating: 0, count: fc1.outFeatures)
        dPooled.withUnsafeBufferPointer { g in dInner.withUnsafeMutableBufferPointer { fc2.backward(g.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        r.preActivation.withUnsafeBufferPointer { z in dInner.withUnsafeMutableBufferPointer { activation.backward(z.baseAddress!, $0.baseAddress!, count: $0.count) } }
        var dNormed = [Float](repeating: 0, count: d)
        dInner.withUnsafeBufferPointer { g in dNormed.withUnsafeMutableBufferPointer { fc1.backward(g.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        var dAttended = dPooled
        r.attended.withUnsafeBufferPointer { a in
            dNormed.withUnsafeBufferPointer { g in
                dAttended.withUnsafeMutableBufferPointer { norm.backward(input: a.baseAddress!, gradient: g.baseAddress!, rows: 1, into: $0.baseAddress!, accumulate: true) }
            }
        }
        var dContext = [Float](repeating: 0, count: d)
        dAttended.withUnsafeBufferPointer { g in dContext.withUnsafeMutableBufferPointer { output.backward(g.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        // Attention: context_h = Σ_t p_h[t] V_h[t].
        let kv = result.keyValue, p = result.probabilities, q = result.query
        let scale = 1 / Float(dh).squareRoot()
        var dp = [Float](repeating: 0, count: heads * n)
        var dkv = [Float](repeating: 0, count: n * 2 * d)
        for h in 0 ..< heads {
            var dot: Float = 0
            for t in 0 ..< n {
                var s: Float = 0
                for j in 0 ..< dh {
                    s += dContext[h * dh + j] * kv[t * 2 * d + d + h * dh + j]
                    dkv[t * 2 * d + d + h * dh + j] = p[h * n + t] * dContext[h * dh + j]
                }
                dp[h * n + t] = s
                dot += p[h * n + t] * s
            }
            for t in 0 ..< n {
                let ds = p[h * n + t] * (dp[h * n + t] - dot) * scale
                for j in 0 ..< dh { dkv[t * 2 * d + h * dh + j] = ds * q[h * dh + j] }
            }
        }
        var dInput = [Float](repeating: 0, count: n * d)
        dkv.withUnsafeBufferPointer { g in dInput.withUnsafeMutableBufferPointer { keyValue.backward(g.baseAddress!, rows: n, into: $0.baseAddress!) } }
        return Gradient(attention: dp, input: dInput)
    }
}
