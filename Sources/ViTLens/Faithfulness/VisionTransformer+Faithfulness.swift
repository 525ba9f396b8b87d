extension VisionTransformer {
    /// Deletion and insertion curves of `methods` (name and map `[gridRows, gridColumns]`) for
    /// `target` on the model input `pixels [channels, H, W]`, each curve point one plain forward
    /// (``targetValue(_:pixels:)``), with `randomOrders` seeded random orders as the baseline
    /// (0: none). See ``PatchPerturbation`` for the perturbation and ``FaithfulnessCurve/auc`` for the AUC.
    /// - Throws: ``FaithfulnessError`` for bad pixels, maps, steps or baseline, ``GradientTargetError``
    ///   for a target that does not fit the model (both checked before any forward), or a forward's error.
    public func faithfulness(pixels: Tensor, target: GradientTarget, methods: [(name: String, map: Tensor)],
                             steps: Int = 16, baseline: PerturbationBaseline = .channelMean,
                             randomOrders: Int = 0, seed: UInt64 = 0) throws -> FaithfulnessReport {
        let perturbation = try PatchPerturbation(pixels: pixels, patchSize: patchSize, steps: steps, baseline: baseline)
        var target = target
        try checkTarget(target, tokens: layout(height: pixels.shape[1], width: pixels.shape[2]).tokenCount)
        if target == .topClassLogit {
            // Every curve point follows the class that is top-1 on the unperturbed image.
            guard let logits = try forward(pixels).logits else { throw GradientTargetError.noClassifier(modelType: modelType) }
            target = .classLogit(Self.topClass(logits.values))
        }
        return try perturbation.report(target: Self.describe(target), methods: methods, randomOrders: randomOrders, seed: seed) {
            try targetValue(target, pixels: $0)
        }
    }

    /// A short description of a target for reports.
    static func describe(_ target: GradientTarget) -> String {
        switch target {
        case .classLogit(let i): return "class \(i) logit"
        case .topClassLogit: return "top-1 class logit"
        case .pooledCosine: return "pooled cosine"
        case .meanPooledCosine: return "mean-pooled cosine"
        case .tokenCosine(let a, let b): return "token \(a) cosine to token \(b)"
        }
    }
}
