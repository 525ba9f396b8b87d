import ViTLensCheckpoint
import ViTLensCore

extension VisionTransformer {
    /// Runs the model on `pixels [channels, H, W]` recording its activations, then reverse mode
    /// from `target` back to the token embeddings, handing every layer's attention and
    /// `dTarget/dA_l` to `observer`, last layer first.
    ///
    /// The forward is the same computation as ``forward(_:observer:)`` (same kernels, same values);
    /// the backward is written out per op with BLAS products (see `Encoder.backward`). The stored
    /// activations are ``gradientMemoryEstimate(height:width:recompute:observer:)``; inputs above
    /// ``MemoryBudget/limit`` are refused before anything runs. With `recompute` only each layer's
    /// input is kept and the layer is run forward again during the backward (gradient
    /// checkpointing): stored activations `O(L N D + heads N^2)` instead of `O(L heads N^2)`, one more
    /// forward's work, the same values.
    /// - Throws: ``GradientTargetError`` for a target that does not fit the model or the input,
    ///   ``ModelInputError`` for bad pixels, ``MemoryLimitError``,
    ///   ``CheckpointError/nonFiniteActivation(file:stage:)``, or what the observer throws.
    public func gradients<O: GradientObserver>(_ pixels: Tensor, target: GradientTarget, recompute: Bool = false,
                                               observer: inout O) throws -> GradientResult<VisionOutput> {
        let (height, width) = try inputSize(pixels)
        let layout = layout(height: height, width: width)
        try checkTarget(target, tokens: layout.tokenCount)
        try gradientMemoryEstimate(height: height, width: width, recompute: recompute, observer: observer).check()
        BuildNotice.warnIfUnoptimized()
        var x = [Float](repeating: 0, count: layout.tokenCount * spec.hidden)
        x.withUnsafeMutableBufferPointer { xb in
            pixels.values.withUnsafeBufferPointer { embeddings.embed($0.baseAddress!, height: height, width: width, into: xb.baseAddress!) }
        }
        return try gradients(embeddings: x, layout: layout, target: target, recompute: recompute, observer: &observer)
    }

    /// ``gradients(_:target:observer:)`` from given encoder inputs `[tokens, hidden]` (what the
    /// embedding step produced), for perturbation tests.
    func gradients<O: GradientObserver>(embeddings: [Float], layout: TokenLayout, target: GradientTarget, recompute: Bool = false,
                                        observer: inout O) throws -> GradientResult<VisionOutput> {
        let n = layout.tokenCount, d = spec.hidden
        try checkTarget(target, tokens: n)
        let tape = EncoderTape(spec: spec, tokens: n, recompute: recompute)
        var hidden = embeddings
        var encoderOutput: [Float] = []
        try hidden.withUnsafeMutableBufferPointer { hb in
            let x = hb.baseAddress!
            var none = NoObserver()
            try encoder.forward(x, tokens: n, layout: layout, tape: tape, observer: &none)
            encoderOutput = Array(hb)
            if let finalNorm {
                finalNorm(x, rows: n, into: x)
                try encoder.requireFinite(x, count: n * d, stage: "the final layernorm")
            }
        }
        let output = try outputs(hidden: hidden, layout: layout)
        let (value, dHidden) = try targetGradient(target, hidden: hidden, output: output)
        var dx = dHidden
        if let finalNorm {
            encoderOutput.withUnsafeBufferPointer { e in
                dHidden.withUnsafeBufferPointer { g in
                    dx.withUnsafeMutableBufferPointer { finalNorm.backward(input: e.baseAddress!, gradient: g.baseAddress!, rows: n, into: $0.baseAddress!) }
                }
            }
        }
        try dx.withUnsafeMutableBufferPointer { try encoder.backward($0.baseAddress!, tape: tape, layout: layout, observer: &observer) }
        return GradientResult(value: value, embeddings: Tensor(shape: [n, d], values: embeddings),
                              embeddingGradient: Tensor(shape: [n, d], values: dx), output: output)
    }

    /// The number of classes of the classifier, `nil` without one.
    public var classCount: Int? {
        switch head {
        case .token(_, let l)?: return l.outFeatures
        case .distilled(let c, _)?: return c.outFeatures
        case .clsAndPatchMean(let l)?: return l.outFeatures
        case nil: return nil
        }
    }

    /// Checks `target` against the model and an input of `tokens` tokens. Models with an
    /// attention pooling head (SigLIP) are refused whatever the target: the backward pass does not
    /// go through the head yet.
    /// - Throws: ``GradientTargetError``.
    public func checkTarget(_ target: GradientTarget, tokens: Int) throws {
        if poolingHead != nil {
            throw GradientTargetError.unsupported("gradients are not available for \(modelType) yet: the backward pass does not go through its attention pooling head (the probe's nn.MultiheadAttention, layernorm and MLP); use the attention analyses (rollout, heads, masks, distance)")
        }
        switch target {
        case .classLogit(let i):
            guard let classes = classCount else { throw GradientTargetError.noClassifier(modelType: modelType) }
            guard i >= 0, i < classes else { throw GradientTargetError.classOutOfRange(index: i, classes: classes) }
        case .topClassLogit:
            guard classCount != nil else { throw GradientTargetError.noClassifier(modelType: modelType) }
        case .pooledCosine(let v):
            try GradientTargetError.check(vector: v, expected: spec.hidden)
        case .meanPooledCosine:
            throw GradientTargetError.unsupported("mean-pooled cosine is a text target: use the pooled cosine for image models")
        case .tokenCosine(let a, let b):
            try GradientTargetError.check(token: a, other: b, tokens: tokens)
        }
    }

    /// The target's value and `dTarget/d(final hidden states)` `[tokens, hidden]` (after the final
    /// LayerNorm where the family has one).
    private func targetGradient(_ target: GradientTarget, hidden h: [Float], output: VisionOutput) throws -> (Float, [Float]) {
        let d = spec.hidden
        var dh = [Float](repeating: 0, count: h.count)
        var target = target
        if target == .topClassLogit {
            guard let logits = output.logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            target = .classLogit(Self.topClass(logits.values))
        }
        switch target {
        case .topClassLogit:
            throw GradientTargetError.unsupported("the top class was not resolved")
        case .classLogit(let i):
            switch head {
            case .token(let t, let linear)?:
                HiddenTarget.add(linear.weightRow(i), toRow: t, of: &dh, width: d)
            case .distilled(let c, let dist)?:
                HiddenTarget.add(c.weightRow(i), scaled: 0.5, toRow: 0, of: &dh, width: d)
                HiddenTarget.add(dist.weightRow(i), scaled: 0.5, toRow: 1, of: &dh, width: d)
            case .clsAndPatchMean(let linear)?:
                let w = linear.weightRow(i)
                HiddenTarget.add(Array(w[0 ..< d]), toRow: 0, of: &dh, width: d)
                let patches = output.layout.patchRange
                for t in patches { HiddenTarget.add(Array(w[d ..< 2 * d]), scaled: 1 / Float(patches.count), toRow: t, of: &dh, width: d) }
            case nil:
                throw GradientTargetError.noClassifier(modelType: modelType)
            }
            guard let logits = output.logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            return (logits.values[i], dh)
        case .pooledCosine(let v):
            let cls = HiddenTarget.row(h, 0, width: d)
            if let poolNorm, let pooled = output.pooled {
                let (c, dp) = try Cosine.value(pooled.values, v)
                cls.withUnsafeBufferPointer { x in
                    dp.withUnsafeBufferPointer { g in
                        dh.withUnsafeMutableBufferPointer { poolNorm.backward(input: x.baseAddress!, gradient: g.baseAddress!, rows: 1, into: $0.baseAddress!) }
                    }
                }
                return (c, dh)
            } else if let pooler, let pooled = output.pooled {
                let (c, dp) = try Cosine.value(pooled.values, v)
                let dz = zip(dp, pooled.values).map { $0 * (1 - $1 * $1) }
                dz.withUnsafeBufferPointer { g in dh.withUnsafeMutableBufferPointer { pooler.backward(g.baseAddress!, rows: 1, into: $0.baseAddress!) } }
                return (c, dh)
            }
            let (c, dp) = try Cosine.value(pooledEmbedding(output), v)
            HiddenTarget.add(dp, toRow: 0, of: &dh, width: d)
            return (c, dh)
        case .meanPooledCosine(let v):
            return try HiddenTarget.meanCosine(h, to: v, width: d)
        case .tokenCosine(let a, let b):
            return try HiddenTarget.tokenCosine(h, a, b, width: d)
        }
    }

    /// The index of the largest logit, ties to the lower index (what ``GradientTarget/topClassLogit`` differentiates).
    public static func topClass(_ logits: [Float]) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best
    }

    /// The estimated peak memory of ``gradients(_:target:recompute:observer:)`` on a `height x width`
    /// input: the forward's estimate plus the recorded activations (per layer
    /// `4 (5 N D + heads N^2 + N ffWidth)` bytes; with `recompute` `4 L N D` plus one layer's record),
    /// the backward's scratch and gradients, and what `observer` keeps.
    public func gradientMemoryEstimate<O: GradientObserver>(height: Int, width: Int, recompute: Bool = false,
                                                            observer: O) -> MemoryEstimate {
        var estimate = memoryEstimate(height: height, width: width, observer: NoObserver())
        let n = estimate.tokens
        estimate.forward = Limits.sum(estimate.forward, EncoderTape.bytes(spec: spec, tokens: n, recompute: recompute),
                                      BackwardScratch.bytes(spec: spec, tokens: n),
                                      MemoryEstimate.floats(4, n, spec.hidden)) ?? .max
        let geometry = AttentionGeometry(layers: spec.layers, heads: spec.heads, tokens: n, headDim: spec.headDim,
                                         layout: layout(height: height, width: width))
        estimate.observers = observer.estimatedBytes(for: geometry)
        return estimate
    }
}
