import ViTLensCore

/// How one layer's attention `A` and its gradient `G = dTarget/dA` (`[heads, N, N]`) become one
/// non-negative `N x N` matrix `Ā`.
///
/// The two orders differ whenever heads disagree in sign at an entry (docs/ANALYSES.md,
/// "Explanations with gradients").
public enum GradientHeadFusion: String, Sendable, Equatable, Hashable, CaseIterable {
    /// `Ā = mean_h(max(0, G_h ⊙ A_h))`: clamp each head, then average (Chefer et al. ICCV 2021,
    /// Eq. 5; their code's `avg_heads`). The default.
    case positiveThenMean = "positive-then-mean"
    /// `Ā = max(0, mean_h(G_h ⊙ A_h))`: average, then clamp (vit-explain's `grad_rollout`).
    case meanThenPositive = "mean-then-positive"

    /// Fuses `heads` heads of `n x n` entries into `out` (`n * n` floats), in float32, and tells
    /// whether every input value was finite. Every entry sums its heads in order `0 ..< heads` (the
    /// order of the fixtures' NumPy reference); rows run in parallel, and within a row each head is
    /// one contiguous, vectorisable pass whose finiteness is checked while it is in cache.
    func fuse(heads: Int, n: Int, attention: UnsafePointer<Float>, gradient: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) -> Bool {
        let square = n * n
        let count = Float(heads)
        nonisolated(unsafe) let a = attention
        nonisolated(unsafe) let g = gradient
        nonisolated(unsafe) let o = out
        let clampEachHead = self == .positiveThenMean
        // One flag per row, written only by the thread that owns the row.
        var finiteRows = [Bool](repeating: true, count: n)
        finiteRows.withUnsafeMutableBufferPointer { flags in
            guard let base = flags.baseAddress else { return }
            nonisolated(unsafe) let finite = base
            Compute.forEachChunk(n, costPerItem: 2 * heads * n) { rows in
                for i in rows {
                    let row = o + i * n
                    row.update(repeating: 0, count: n)
                    for h in 0 ..< heads {
                        let ah = a + h * square + i * n, gh = g + h * square + i * n
                        if Finite.firstNonFinite(ah, count: n) != nil || Finite.firstNonFinite(gh, count: n) != nil {
                            finite[i] = false
                        }
                        if clampEachHead {
                            for j in 0 ..< n { row[j] += Swift.max(0, gh[j] * ah[j]) }
                        } else {
                            for j in 0 ..< n { row[j] += gh[j] * ah[j] }
                        }
                    }
                    if clampEachHead {
                        for j in 0 ..< n { row[j] /= count }
                    } else {
                        for j in 0 ..< n { row[j] = Swift.max(0, row[j] / count) }
                    }
                }
            }
        }
        return !finiteRows.contains(false)
    }
}
