import ViTLensCheckpoint
import ViTLensCore

extension VisionTransformer {
    /// Hands the attention pooling head's layer `spec.layers` to `observer` in the forward's
    /// broadcast layout: `[heads, N, N]` with every row of head `h` equal to the probe's attention
    /// `p_h` (`head.probabilities`), and the gradient likewise every row equal to `dTarget/dp_h`
    /// (`gradient [heads, N]`, zeros when `nil`).
    /// - Throws: what the observer throws, or ``CheckpointError/nonFiniteActivation(file:stage:)``
    ///   when the gradient overflows.
    func deliverPoolingHead<O: GradientObserver>(_ head: AttentionPoolingHead.Result, gradient: [Float]?, layout: TokenLayout,
                                                  observer: inout O) throws {
        let n = layout.tokenCount, h = spec.heads
        let dProbe = gradient ?? [Float](repeating: 0, count: h * n)
        if Finite.firstNonFinite(dProbe) != nil {
            throw CheckpointError.nonFiniteActivation(file: encoder.weightsFile, stage: "the gradient at the pooling head's attention")
        }
        let probabilities = Self.repeatRows(head.probabilities, heads: h, rows: n, width: n)
        let dA = Self.repeatRows(dProbe, heads: h, rows: n, width: n)
        try probabilities.withUnsafeBufferPointer { p in
            try dA.withUnsafeBufferPointer { g in
                try observer.observe(LayerGradient(layer: spec.layers, heads: h, tokens: n, layout: layout, probabilities: p, gradient: g))
            }
        }
    }
}
