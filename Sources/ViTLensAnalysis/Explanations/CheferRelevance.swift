import ViTLensCore

/// Relevance propagation of Chefer, Gur & Wolf, ICCV 2021 ("Generic Attention-model
/// Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers"), pure
/// self-attention case.
///
/// `R = I` (`N x N`); for every layer `l` from first to last: `Ā_l = mean_h(max(0, dA_l ⊙ A_l))`
/// (Eq. 5, ``GradientHeadFusion/positiveThenMean``) and `R ← R + Ā_l · R` (Eq. 6). No
/// normalisation (the paper's Eq. 8–9 only concern bi-modal models). The map is the readout row
/// `uᵀ R` (CLS by default) over the patches, prefix tokens excluded.
///
/// Since `R + Ā·R = (I + Ā)·R`, `R = (I + Ā_last) ⋯ (I + Ā_first)`, so the readout row is computed
/// as `v ← u; v ← v + v·Ā_l` for `l` = last … first: `2N²` flops per layer, in double.
/// ``matrix(_:)`` builds the full `R` with the literal update (one `N x N x N` sgemm per layer).
/// Read out at SigLIP's probe (``FusedAttentionGradients``), the row starts as the probe's row of
/// the pooling head's `Ā_P` (no identity term) and the update runs over the encoder layers.
public enum CheferRelevance {
    /// The readout row of `R` and its patch map.
    /// - Throws: ``AnalysisError`` when the readout names a token the layout lacks.
    public static func explain(_ fused: FusedAttentionGradients, readout: Readout = .cls) throws -> Explanation {
        let n = fused.tokens
        let row = try fused.readoutRow(readout) { v, m in
            var y = AnalysisKernels.rowTimesMatrix(v, m, n: n)
            for j in 0 ..< n { y[j] += v[j] }
            return y
        }
        return fused.explanation(.chefer, readout: readout, rows: [row])
    }

    /// The full relevance matrix `R`, `[tokens, tokens]` (row = output token, column = input
    /// token), by the literal update `R ← R + Ā_l · R` in forward order, in float32 (BLAS sgemm).
    /// Needs three `N x N` float buffers.
    public static func matrix(_ fused: FusedAttentionGradients) -> Tensor {
        let n = fused.tokens
        var r = [Float](repeating: 0, count: n * n)
        for i in 0 ..< n { r[i * n + i] = 1 }
        var update = [Float](repeating: 0, count: n * n)
        for m in fused.matrices {
            m.withUnsafeBufferPointer { a in
                r.withUnsafeBufferPointer { b in
                    update.withUnsafeMutableBufferPointer { c in
                        guard let ap = a.baseAddress, let bp = b.baseAddress, let cp = c.baseAddress else { return }
                        AnalysisKernels.matmul(ap, bp, cp, n: n)
                    }
                }
            }
            for k in 0 ..< n * n { r[k] += update[k] }
        }
        return Tensor(shape: [n, n], values: r)
    }
}
