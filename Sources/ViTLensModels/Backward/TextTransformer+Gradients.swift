import ViTLensCore

extension TextTransformer {
    /// Runs the encoder on one unpadded sequence recording its activations, then reverse mode from
    /// `target` back to the encoder's input (after the embedding LayerNorm), handing every layer's
    /// attention and `dTarget/dA_l` to `observer`, last layer first.
    ///
    /// Targets: ``GradientTarget/meanPooledCosine(to:)`` (sentence-transformers' mean pooling; every
    /// token counts, nothing is padded) and ``GradientTarget/tokenCosine(token:to:)``.
    /// - Throws: ``GradientTargetError`` for a class or pooled target, a reference vector of the
    ///   wrong length or tokens out of range; ``ModelInputError``, ``MemoryLimitError``,
    ///   ``CheckpointError/nonFiniteActivation(file:stage:)``, or what the observer throws.
    /// - Parameter recompute: gradient checkpointing, as in ``VisionTransformer/gradients(_:target:recompute:observer:)``.
    public func gradients<O: GradientObserver>(ids: [Int], typeIds: [Int]? = nil, target: GradientTarget, recompute: Bool = false,
                                               observer: inout O) throws -> GradientResult<TextOutput> {
        try checkInput(ids: ids, typeIds: typeIds)
        let n = ids.count, d = spec.hidden
        switch target {
        case .classLogit, .topClassLogit: throw GradientTargetError.noClassifier(modelType: modelType)
        case .pooledCosine: throw GradientTargetError.unsupported("text models have no pooled-cosine target: use the mean-pooled cosine")
        case .meanPooledCosine(let v): try GradientTargetError.check(vector: v, expected: d)
        case .tokenCosine(let a, let b): try GradientTargetError.check(token: a, other: b, tokens: n)
        }
        try gradientMemoryEstimate(tokens: n, recompute: recompute, observer: observer).check()
        BuildNotice.warnIfUnoptimized()
        let layout = TokenLayout(textTokens: n)
        let embeddings = embed(ids: ids, typeIds: typeIds)
        let tape = EncoderTape(spec: spec, tokens: n, recompute: recompute)
        var hidden = embeddings
        try hidden.withUnsafeMutableBufferPointer { hb in
            var none = NoObserver()
            try encoder.forward(hb.baseAddress!, tokens: n, layout: layout, tape: tape, observer: &none)
        }
        var (value, dx): (Float, [Float])
        switch target {
        case .meanPooledCosine(let v): (value, dx) = try HiddenTarget.meanCosine(hidden, to: v, width: d)
        case .tokenCosine(let a, let b): (value, dx) = try HiddenTarget.tokenCosine(hidden, a, b, width: d)
        default: throw GradientTargetError.unsupported("unreachable target")
        }
        try dx.withUnsafeMutableBufferPointer { try encoder.backward($0.baseAddress!, tape: tape, layout: layout, observer: &observer) }
        return GradientResult(value: value, embeddings: Tensor(shape: [n, d], values: embeddings),
                              embeddingGradient: Tensor(shape: [n, d], values: dx),
                              output: TextOutput(hiddenState: Tensor(shape: [n, d], values: hidden), layout: layout))
    }

    /// The estimated peak memory of ``gradients(ids:typeIds:target:recompute:observer:)`` at `tokens`
    /// tokens: the forward's, the recorded activations (fewer with `recompute`), the backward's scratch,
    /// and what `observer` keeps.
    public func gradientMemoryEstimate<O: GradientObserver>(tokens n: Int, recompute: Bool = false, observer: O) -> MemoryEstimate {
        var estimate = memoryEstimate(tokens: n, options: [])
        estimate.forward = Limits.sum(estimate.forward, EncoderTape.bytes(spec: spec, tokens: n, recompute: recompute),
                                      BackwardScratch.bytes(spec: spec, tokens: n),
                                      MemoryEstimate.floats(3, n, spec.hidden)) ?? .max
        estimate.observers = observer.estimatedBytes(for: AttentionGeometry(layers: spec.layers, heads: spec.heads, tokens: n,
                                                                            headDim: spec.headDim, layout: TokenLayout(textTokens: n)))
        return estimate
    }
}
