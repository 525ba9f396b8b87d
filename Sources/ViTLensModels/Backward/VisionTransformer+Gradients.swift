import ViTLensCheckpoint
import ViTLensCore

extension VisionTransformer {
    /// Runs the model on `pixels [channels, H, W]` recording its activations, then reverse mode
    /// from `target` back to the token embeddings, handing every layer's attention and
    /// `dTarget/dA_l` to `observer`, last layer first.
    ///
    /// A model with an attention pooling head (SigLIP) has ``observedLayers`` layers here as in
    /// the forward: the head's layer `L = spec.layers` (`TokenLayout.poolingHeadLayer`) arrives
    /// first, laid out like the forward's layer `L`: `[heads, N, N]` with every row `i` of head `h`
    /// equal, the attention row holding the probe's attention `p_h` and the gradient row holding
    /// `dTarget/dp_h` (the gradient with respect to the probe's attention, not divided among the
    /// rows), so that reading any one row of the pair, as the forward's readers do, gives the probe's
    /// attention and its gradient. A target that does not read the pooled vector (a token cosine)
    /// has a zero gradient there.
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
        var headPass: AttentionPoolingHead.Result?
        try hidden.withUnsafeMutableBufferPointer { hb in
            let x = hb.baseAddress!
            var none = NoObserver()
            try encoder.forward(x, tokens: n, layout: layout, tape: tape, observer: &none)
            encoderOutput = Array(hb)
            if let finalNorm {
                finalNorm(x, rows: n, into: x)
                try encoder.requireFinite(x, count: n * d, stage: "the final layernorm")
            }
            headPass = try runPoolingHead(x, tokens: n)
        }
        let output = try outputs(hidden: hidden, layout: layout, pooled: headPass?.pooled)
        let (value, dHidden, dProbe) = try targetGradient(target, hidden: hidden, output: output, head: headPass)
        var dx = dHidden
        if let finalNorm {
            encoderOutput.withUnsafeBufferPointer { e in
                dHidden.withUnsafeBufferPointer { g in
                    dx.withUnsafeMutableBufferPointer { finalNorm.backward(input: e.baseAddress!, gradient: g.baseAddress!, rows: n, into: $0.baseAddress!) }
                }
            }
        }
        try dx.withUnsafeMutableBufferPointer {
            try encoder.backward($0.baseAddress!, tape: tape, layout: layout, readoutLayers: observedLayers - spec.layers,
                                 readout: { observer in
                                     guard let headPass else { return }
                                     try deliverPoolingHead(headPass, gradient: dProbe, layout: layout, observer: &observer)
                                 }, observer: &observer)
        }
        return GradientResult(value: value, embeddings: Tensor(shape: [n, d], values: embeddings),
                              embeddingGradient: Tensor(shape: [n, d], values: dx), output: output)
    }

    /// The number of classes of the classifier, `nil` without one.
    public var classCount: Int? {
        switch head {
        case .token(_, let l)?: return l.outFeatures
        case .distilled(let c, _)?: return c.outFeatures
        case .clsAndPatchMean(let l)?: return l.outFeatures
        case .pooled(let l)?: return l.outFeatures
        case nil: return nil
        }
    }

    /// Checks `target` against the model and an input of `tokens` tokens.
    /// - Throws: ``GradientTargetError``.
    public func checkTarget(_ target: GradientTarget, tokens: Int) throws {
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

    /// The target's value, `dTarget/d(final hidden states)` `[tokens, hidden]` (after the final
    /// LayerNorm where the family has one) and, for a model with an attention pooling head (whose
    /// forward is `head`), `dTarget/dp` over the probe's attention `[heads, tokens]`.
    private func targetGradient(_ target: GradientTarget, hidden h: [Float], output: VisionOutput,
                                head: AttentionPoolingHead.Result?) throws -> (Float, [Float], [Float]?) {
        let d = spec.hidden
        let dProbe = head.map { [Float](repeating: 0, count: $0.probabilities.count) }
        if case .pooledCosine(let v) = target, let poolingHead, let head {
            let (c, dp) = try Cosine.value(head.pooled, v)
            let g = poolingHead.backward(head, dPooled: dp, tokens: h.count / d)
            return (c, g.input, g.attention)
        }
        let (value, dh) = try hiddenGradient(target, hidden: h, output: output)
        return (value, dh, dProbe)
    }

    /// The target's value and `dTarget/d(final hidden states)` for targets that do not go through
    /// an attention pooling head.
    private func hiddenGradient(_ target: GradientTarget, hidden h: [Float], output: VisionOutput) throws -> (Float, [Float]) {
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
            case .pooled(let linear)?:
                try addPooledGradient(linear.weightRow(i), hidden: h, layout: output.layout, into: &dh)
            case nil:
                throw GradientTargetError.noClassifier(modelType: modelType)
            }
            guard let logits = output.logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            return (logits.values[i], dh)
        case .pooledCosine(let v):
            if poolNorm != nil, let pooled = output.pooled {
                let (c, dp) = try Cosine.value(pooled.values, v)
                try addPooledGradient(dp, hidden: h, layout: output.layout, into: &dh)
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

    /// Adds to `dh` `[tokens, hidden]` the gradient reaching the final hidden states from `dPooled`
    /// at the pooled vector `poolNorm(input)`: back through the pooling LayerNorm to its input, then
    /// to the CLS row or, for a patch mean, `1 / patches` of it to every patch row.
    private func addPooledGradient(_ dPooled: [Float], hidden h: [Float], layout: TokenLayout, into dh: inout [Float]) throws {
        let d = spec.hidden
        guard let poolNorm else { throw GradientTargetError.unsupported("the model has no pooling LayerNorm") }
        let input = poolNormInput(hidden: h, layout: layout)
        var dInput = [Float](repeating: 0, count: d)
        input.withUnsafeBufferPointer { x in
            dPooled.withUnsafeBufferPointer { g in
                dInput.withUnsafeMutableBufferPointer { poolNorm.backward(input: x.baseAddress!, gradient: g.baseAddress!, rows: 1, into: $0.baseAddress!) }
            }
        }
        switch poolInput {
        case .cls:
            HiddenTarget.add(dInput, toRow: 0, of: &dh, width: d)
        case .patchMean:
            let patches = layout.patchRange
            for t in patches { HiddenTarget.add(dInput, scaled: 1 / Float(patches.count), toRow: t, of: &dh, width: d) }
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
    /// the backward's scratch and gradients, an attention pooling head's record and delivered layer,
    /// and what `observer` keeps.
    public func gradientMemoryEstimate<O: GradientObserver>(height: Int, width: Int, recompute: Bool = false,
                                                            observer: O) -> MemoryEstimate {
        var estimate = memoryEstimate(height: height, width: width, observer: NoObserver())
        let n = estimate.tokens
        estimate.forward = Limits.sum(estimate.forward, EncoderTape.bytes(spec: spec, tokens: n, recompute: recompute),
                                      BackwardScratch.bytes(spec: spec, tokens: n),
                                      MemoryEstimate.floats(4, n, spec.hidden)) ?? .max
        if poolingHead != nil {
            // The head's record and its delivered pair of broadcast [heads, N, N] layers.
            estimate.forward = Limits.sum(estimate.forward, poolingHeadBytes(tokens: n, options: []), MemoryEstimate.floats(spec.heads, n, n),
                                          MemoryEstimate.floats(2, n, spec.hidden)) ?? .max
        }
        let geometry = AttentionGeometry(layers: observedLayers, heads: spec.heads, tokens: n, headDim: spec.headDim,
                                         layout: layout(height: height, width: width))
        estimate.observers = observer.estimatedBytes(for: geometry)
        return estimate
    }
}
