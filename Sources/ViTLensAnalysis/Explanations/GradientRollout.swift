import ViTLensCore

/// Gradient-weighted attention rollout with the correct layer pairing: layer `l`'s attention is
/// weighted by the gradient with respect to that same layer's attention.
///
/// Per layer `Â_l = rownorm(I + Ā_l)` with `Ā_l = mean_h(max(0, dA_l ⊙ A_l))`
/// (``GradientHeadFusion``) and `rownorm` dividing each row by its sum (every row sum is ≥ 1, so
/// the division is safe); `R = Â_last ⋯ Â_first`; the map is `uᵀ R` over the patches. This is the
/// rollout of Chefer, Gur & Wolf, CVPR 2021 ("Transformer Interpretability Beyond Attention
/// Visualization", Eq. 13–14, row-normalised as their code's `compute_rollout_attention`) with the
/// LRP relevance of the attention replaced by the attention itself, i.e. the ICCV 2021 `Ā_l`
/// (Eq. 5) multiplied through the layers like Abnar & Zuidema's rollout (renormalised `A + I`).
///
/// Every row of `Â_l` sums to 1 and is non-negative, so the readout row of `R` sums to 1 (a
/// distribution, like plain rollout). Row form: with `s_k = 1 + Σ_j Ā_l[k, j]` and `w = v / s`,
/// `v·Â_l = w + w·Ā_l`, so no normalised matrix is materialised. Read out at SigLIP's probe, the row
/// starts as the probe's row of `Ā_P` divided by its sum (no identity: the probe is not a token).
public enum GradientRollout {
    /// The readout row of `R` and its patch map.
    /// - Throws: ``AnalysisError`` when the readout names a token the layout lacks.
    public static func explain(_ fused: FusedAttentionGradients, readout: Readout = .cls) throws -> Explanation {
        let n = fused.tokens
        let row = try fused.readoutRow(readout, probe: normalised) { v, m in
            let w = scaledByRowSums(v, m, n: n)
            var y = AnalysisKernels.rowTimesMatrix(w, m, n: n)
            for j in 0 ..< n { y[j] += w[j] }
            return y
        }
        return fused.explanation(.gradientRollout, readout: readout, rows: [row])
    }

    /// The probe's row divided by its sum, so that the readout row stays a distribution (left as it
    /// is when the sum is 0: no positive attention-gradient reaches the probe).
    static func normalised(_ row: [Double]) -> [Double] {
        let s = row.reduce(0, +)
        return s > 0 ? row.map { $0 / s } : row
    }

    /// `w_k = v_k / (1 + Σ_j m[k, j])`: the readout row divided by the row sums of `I + m`. Rows run
    /// in parallel; each sum adds 16-wide float partial sums, then the rest, in double.
    static func scaledByRowSums(_ v: [Double], _ m: UnsafeBufferPointer<Float>, n: Int) -> [Double] {
        var w = v
        guard let base = m.baseAddress else { return w }
        w.withUnsafeMutableBufferPointer { wb in
            guard let wBase = wb.baseAddress else { return }
            nonisolated(unsafe) let out = wBase
            nonisolated(unsafe) let mp = base
            Compute.forEachChunk(n, costPerItem: n) { rows in
                for k in rows {
                    let row = UnsafeRawPointer(mp + k * n)
                    var acc = SIMD16<Float>.zero
                    var j = 0
                    while j + 16 <= n {
                        acc += row.loadUnaligned(fromByteOffset: j * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
                        j += 16
                    }
                    var s = 1 + Double(acc.sum())
                    while j < n { s += Double(mp[k * n + j]); j += 1 }
                    out[k] /= s
                }
            }
        }
        return w
    }
}
