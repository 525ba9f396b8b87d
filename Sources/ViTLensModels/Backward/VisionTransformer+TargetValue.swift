import ViTLensCore

extension VisionTransformer {
    /// The value of `target` on a plain forward's `output`, without a backward pass: the same
    /// number ``gradients(_:target:observer:)`` returns as ``GradientResult/value`` (the pooled
    /// cosine uses the same pooled vector: ``VisionOutput/pooled`` where the family has one,
    /// otherwise the first token's final hidden state).
    /// - Throws: ``GradientTargetError`` for a target that does not fit the model or the output.
    public func targetValue(_ target: GradientTarget, output: VisionOutput) throws -> Float {
        let h = output.hiddenState.values, d = spec.hidden
        try checkTarget(target, tokens: h.count / d)
        switch target {
        case .classLogit(let i):
            guard let logits = output.logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            return logits.values[i]
        case .topClassLogit:
            // This output's largest logit. Curves over perturbed images should follow one class:
            // resolve the top class on the original image first (``topClass(_:)``) and pass `.classLogit`.
            guard let logits = output.logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            return logits.values[Self.topClass(logits.values)]
        case .pooledCosine(let v):
            return try Cosine.value(pooledEmbedding(output), v).value
        case .meanPooledCosine(let v):
            return try HiddenTarget.meanCosine(h, to: v, width: d).0
        case .tokenCosine(let a, let b):
            return try Cosine.value(HiddenTarget.row(h, a, width: d), HiddenTarget.row(h, b, width: d)).value
        }
    }

    /// The value of `target` after a plain forward of `pixels [channels, H, W]`.
    /// - Throws: what ``forward(_:)`` and ``targetValue(_:output:)`` throw.
    public func targetValue(_ target: GradientTarget, pixels: Tensor) throws -> Float {
        let (height, width) = try inputSize(pixels)
        try checkTarget(target, tokens: layout(height: height, width: width).tokenCount)
        return try targetValue(target, output: try forward(pixels))
    }

    /// The vector ``GradientTarget/pooledCosine(to:)`` compares: ``VisionOutput/pooled`` where the
    /// family pools (CLIP's post-layernorm, ViT's pooler), otherwise the first token's final
    /// hidden state (DINOv2's `pooler_output`).
    public func pooledEmbedding(_ output: VisionOutput) -> [Float] {
        if let pooled = output.pooled { return pooled.values }
        return HiddenTarget.row(output.hiddenState.values, 0, width: spec.hidden)
    }
}
