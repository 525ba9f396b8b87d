import ViTLensCheckpoint
import ViTLensCore

extension VisionTransformer {
    /// Runs the attention pooling head (when the model has one) on one image's final hidden states
    /// `[tokens, hidden]`, delivers its attention to `observer` as layer `spec.layers`, and calls
    /// the observer's `finish()`; returns the pooled vector. Without a head it does nothing and
    /// returns `nil` (the encoder pass already finished the observer).
    ///
    /// The delivered layer is square like every other: `probabilities[h, i, :]` is the probe's
    /// attention of head `h` for every query row `i` (and `logits`, `queries`, `keys` when asked
    /// for: the probe's scaled scores and query in every row, the head's keys), so an observer
    /// reading any row of that layer reads the probe. Row statistics run on it as on any layer, and
    /// an observer that wants hidden states gets the head's input (the final, post-LayerNorm tokens)
    /// as layer `L`'s.
    /// - Throws: ``CheckpointError/nonFiniteActivation(file:stage:)`` for a non-finite probe score,
    ///   or what the observer throws.
    func finishWithPoolingHead<O: AttentionObserver>(_ hidden: UnsafePointer<Float>, layout: TokenLayout,
                                                     observer: inout O) throws -> [Float]? {
        let n = layout.tokenCount, h = spec.heads, dh = spec.headDim
        guard let result = try runPoolingHead(hidden, tokens: n) else { return nil }
        let options = observer.captureOptions
        let probabilities = Self.repeatRows(result.probabilities, heads: h, rows: n, width: n)
        let logits = options.contains(.logits) ? Self.repeatRows(result.logits, heads: h, rows: n, width: n) : nil
        let queries = options.contains(.queries) ? Self.repeatRows(result.query, heads: h, rows: n, width: dh) : nil
        let keys = options.contains(.keys) ? result.keys : nil
        let layer = spec.layers
        try probabilities.withUnsafeBufferPointer { p in
            for head in 0 ..< h {
                for s in observer.rowStatistics {
                    s.accumulate(layer: layer, head: head, heads: h, rows: 0 ..< n, probabilities: p.baseAddress! + head * n * n, tokens: n)
                }
            }
            try Self.withOptionalBuffer(logits) { l in
                try Self.withOptionalBuffer(queries) { q in
                    try Self.withOptionalBuffer(keys) { k in
                        try observer.observe(LayerAttention(layer: layer, heads: h, tokens: n, headDim: dh, layout: layout,
                                                            probabilities: p, logits: l, queries: q, keys: k))
                    }
                }
            }
        }
        if observer.wantsHiddenStates {
            // The tokens the head reads (after post_layernorm) stand as layer L's output.
            try observer.observeHiddenState(layer: layer, tokens: n, hidden: spec.hidden,
                                            states: UnsafeBufferPointer(start: hidden, count: n * spec.hidden))
        }
        try observer.finish()
        if Finite.firstNonFinite(result.pooled) != nil {
            throw CheckpointError.nonFiniteActivation(file: encoder.weightsFile, stage: "the pooling head's output")
        }
        return result.pooled
    }

    /// The attention pooling head's pass over the final hidden states `[tokens, hidden]`, `nil`
    /// without a head.
    /// - Throws: ``CheckpointError/nonFiniteActivation(file:stage:)`` for a non-finite probe score.
    func runPoolingHead(_ hidden: UnsafePointer<Float>, tokens n: Int) throws -> AttentionPoolingHead.Result? {
        guard let poolingHead else { return nil }
        let result = poolingHead(hidden, tokens: n)
        if let i = Finite.firstNonFinite(result.logits) {
            throw CheckpointError.nonFiniteActivation(file: encoder.weightsFile,
                                                      stage: "the pooling head's attention scores (head \(i / n), token \(i % n))")
        }
        return result
    }

    /// Bytes the pooling head's delivered layer takes during a pass of `tokens` tokens (the
    /// repeated `[heads, N, N]` probabilities, and logits, queries and keys when captured).
    func poolingHeadBytes(tokens n: Int, options: CaptureOptions) -> Int {
        guard poolingHead != nil else { return 0 }
        let square = MemoryEstimate.floats(spec.heads, n, n)
        let perHead = MemoryEstimate.floats(spec.heads, n, spec.headDim)
        return Limits.sum(square, options.contains(.logits) ? square : 0, options.contains(.queries) ? perHead : 0,
                          options.contains(.keys) ? perHead : 0, MemoryEstimate.floats(3, n, spec.hidden)) ?? .max
    }

    /// `[heads, width]` -> `[heads, rows, width]` with every row of head `h` equal to `values[h]`.
    static func repeatRows(_ values: [Float], heads: Int, rows: Int, width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: heads * rows * width)
        for h in 0 ..< heads {
            for r in 0 ..< rows {
                for j in 0 ..< width { out[(h * rows + r) * width + j] = values[h * width + j] }
            }
        }
        return out
    }

    private static func withOptionalBuffer<R>(_ values: [Float]?, _ body: (UnsafeBufferPointer<Float>?) throws -> R) rethrows -> R {
        guard let values else { return try body(nil) }
        return try values.withUnsafeBufferPointer { try body($0) }
    }
}
