import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face DeiT (`model_type` "deit"): `DeiTModel`, `DeiTForImageClassification` and
/// `DeiTForImageClassificationWithTeacher`. Same blocks as ViT; the sequence is CLS, the
/// distillation token, then the patches, and both prefix tokens have position embeddings.
/// Mirrors `transformers/models/deit/modeling_deit.py` at 5.23.0; keys under `deit.`.
enum DeiTFamily {
    static func load(_ store: WeightStore, config c: ConfigReader) throws -> VisionTransformer {
        let spec = try ViTFamily.encoderSpec(c)
        let d = spec.hidden
        let parts = try ViTFamily.patchParts(store, c, spec: spec, prefixCount: 2)
        let cls = Param(try store.take("embeddings.cls_token", shape: [1, 1, d]), shape: [d])
        let dist = Param(try store.take("embeddings.distillation_token", shape: [1, 1, d]), shape: [d])
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, 1, d])
        let embeddings = VisionEmbeddings(
            positioned: [(.cls, cls), (.distillation, dist)], registers: nil, positions: parts.positions,
            positionGrid: parts.grid, patchWeight: parts.weight, patchBias: parts.bias, patchSize: parts.patch,
            channels: parts.channels, preNorm: nil)
        let encoder = try Encoder(store, spec: spec, keys: ViTFamily.keys)
        let finalNorm = try LayerNorm(store, "layernorm", dim: d, eps: spec.eps)
        let pooler = store.has("pooler.dense.weight") ? try Linear(store, "pooler.dense", out: d, in: d) : nil
        var head: VisionHead?
        if let s = store.shape(of: "cls_classifier.weight"), store.has("distillation_classifier.weight") {
            head = .distilled(cls: try Linear(store, "cls_classifier", out: s[0], in: d),
                              distillation: try Linear(store, "distillation_classifier", out: s[0], in: d))
        } else if let s = store.shape(of: "classifier.weight") {
            head = .token(0, try Linear(store, "classifier", out: s[0], in: d))
        }
        return VisionTransformer(modelType: "deit", imageSize: parts.imageSize, labels: head == nil ? [:] : try c.labels(),
                                 embeddings: embeddings, encoder: encoder, finalNorm: finalNorm, poolNorm: nil,
                                 pooler: pooler, head: head)
    }
}
