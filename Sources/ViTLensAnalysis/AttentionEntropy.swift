import ViTLensCore

/// Mean Shannon entropy of the attention rows per layer and head, averaged over images.
///
/// For layer `l`, head `h` and one image: `H_i = −Σ_j A_l[h, i, j] · ln A_l[h, i, j]` over **all**
/// `N` keys (a full softmax distribution, so `0 ≤ H_i ≤ ln N`), natural logarithm (nats), with
/// `0 · ln 0 = 0`; the value is the mean of `H_i` over the query rows chosen by ``Queries``.
/// Uniform attention gives `ln N`, one-hot attention 0.
public struct AttentionEntropy: AttentionObserver {
    /// Which query rows are averaged.
    public enum Queries: Sendable, Equatable, Hashable {
        /// Every row, prefix tokens included (default; the only sensible choice for text).
        case all
        /// Only the patch rows (`P ..< N`); prefix rows such as CLS are left out.
        case patches
    }

    /// The query rows averaged.
    public let queries: Queries
    /// Statistics over all completed passes; `nil` before the first ``finish()``.
    public private(set) var result: LayerHeadStatistics?

    private var accumulator = LayerHeadAccumulator(analysis: "attention entropy")
    private var rows: Range<Int> = 0 ..< 0
    private var tokens = 0

    /// Creates the observer averaging the rows chosen by `queries`.
    public init(queries: Queries = .all) {
        self.queries = queries
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        try accumulator.begin(layers: geometry.layers, heads: geometry.heads)
        rows = queries == .all ? 0 ..< geometry.layout.tokenCount : geometry.layout.patchRange
        tokens = geometry.layout.tokenCount
    }

    public mutating func observe(_ attention: LayerAttention) throws {
        let n = attention.tokens
        guard n == tokens else {
            throw AnalysisError.geometryChanged(analysis: "attention entropy", expected: "\(tokens) tokens", found: "\(n) tokens")
        }
        guard let probs = attention.probabilities.baseAddress, !rows.isEmpty else { return }
        for h in 0 ..< attention.heads {
            var s = 0.0
            for i in rows { s -= Kernels.plogp(probs + (h * n + i) * n, n) }
            accumulator.current[attention.layer * attention.heads + h] = s / Double(rows.count)
        }
    }

    public mutating func finish() throws {
        result = accumulator.finish()
    }
}
