import ViTLensCore

/// The fused attention-gradient matrices `Ā_l` of consecutive layers, in forward order, as
/// ``AttentionGradientAccumulator`` leaves them; the input of every attention-gradient method.
public struct FusedAttentionGradients: Sendable, Equatable {
    /// The token layout of the pass.
    public let layout: TokenLayout
    /// The layers held (resolved, inclusive); `matrices[k]` is layer `layers.lowerBound + k`.
    public let layers: ClosedRange<Int>
    /// The head fusion that made the matrices.
    public let fusion: GradientHeadFusion
    /// `Ā_l`, each `N x N` row-major floats (row = query, column = key), forward order.
    public let matrices: [[Float]]

    /// Wraps fused matrices.
    /// - Throws: ``AnalysisError/geometryMismatch(analysis:expected:found:)`` when the count of
    ///   matrices differs from the layer count or a matrix is not `N x N`;
    ///   ``AnalysisError/nonFinite(what:index:value:)`` for NaN or infinities.
    public init(layout: TokenLayout, layers: ClosedRange<Int>, fusion: GradientHeadFusion, matrices: [[Float]]) throws {
        let n = layout.tokenCount
        guard matrices.count == layers.count else {
            throw AnalysisError.geometryMismatch(analysis: "attention gradients", expected: "\(layers.count) layers", found: "\(matrices.count) matrices")
        }
        for (k, m) in matrices.enumerated() {
            guard m.count == n * n else {
                throw AnalysisError.geometryMismatch(
                    analysis: "attention gradients", expected: "\(n) x \(n) values per layer", found: "\(m.count) at layer \(layers.lowerBound + k)")
            }
            try AnalysisError.requireFinite(m, what: "fused attention gradient of layer \(layers.lowerBound + k)")
        }
        self.layout = layout
        self.layers = layers
        self.fusion = fusion
        self.matrices = matrices
    }

    /// Number of tokens `N`.
    public var tokens: Int { layout.tokenCount }

    /// Whether `readout` reads the attention pooling head's probe (SigLIP), as ``Rollout`` does: the
    /// CLS readout on a layout without CLS whose pooling head layer (`layout.poolingHeadLayer`) is
    /// the last layer held. That layer arrives in the forward's broadcast layout (every row of
    /// `A` the probe's attention, every row of `dA` its gradient), so every row of its `Ā` is the
    /// probe's fused row.
    func readsProbe(_ readout: Readout) -> Bool {
        readout == .cls && layout.clsIndex == nil && layout.poolingHeadLayer == layers.upperBound
    }

    /// `uᵀ M_last ⋯ M_first` in double, where `step` turns `(v, Ā_l)` into `v · M_l`, applied from
    /// the last layer to the first (the readout-row form of a product with deeper layers on the left).
    /// When the readout is the probe (``readsProbe(_:)``) the pooling head's layer is not a step:
    /// the row starts as `probe(Ā_P[0, :])` (the probe is not a token, so no identity path runs
    /// through it) and the steps run over the layers below.
    func readoutRow(_ readout: Readout, probe: ([Double]) -> [Double] = { $0 },
                    step: ([Double], UnsafeBufferPointer<Float>) -> [Double]) throws -> [Double] {
        var steps = matrices[...]
        var v: [Double]
        if readsProbe(readout), let last = matrices.last {
            v = probe(last[0 ..< tokens].map(Double.init))
            steps = matrices.dropLast()
        } else {
            v = try readout.weights(in: layout)
        }
        for m in steps.reversed() {
            v = m.withUnsafeBufferPointer { step(v, $0) }
        }
        return v
    }

    /// A single-row explanation from a double row over all tokens.
    func explanation(_ method: ExplanationMethod, readout: Readout, rows: [[Double]]) -> Explanation {
        Explanation(
            method: method, rows: rows.map { TokenDistribution(row: $0.map { Float($0) }, layout: layout) },
            layers: layers, readout: readout)
    }
}
