import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face DeiT (`model_type` "deit"): `DeiTModel`, `DeiTForImageClassification` and
/// `DeiTForImageClassificationWithTeacher`. Same config and blocks as ViT; the sequence is CLS,
/// the distillation token, then the patches, and both prefix tokens have position embeddings.
/// Mirrors `transformers/models/deit/modeling_deit.py` at 5.23.0; keys under `deit.`.
enum DeiTFamily: ModelFamily {
    typealias Config = ViTFamily.Config

    static let modelTypes = ["deit"]

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        let c = config.vision
        let d = c.encoder.hidden
        let cls = try store.token("embeddings.cls_token", hidden: d)
        let dist = try store.token("embeddings.distillation_token", hidden: d)
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, 1, d])
        let embeddings = try c.embeddings(store, keys: .vit, prefix: [(.cls, cls), (.distillation, dist)])
        return try c.model(modelType, store, spec: c.encoder.spec(norm: .pre), keys: ViTFamily.keys, embeddings: embeddings,
                           pooler: true) { s in
            if let shape = s.shape(of: "cls_classifier.weight"), s.has("distillation_classifier.weight") {
                return .distilled(cls: try Linear(s, "cls_classifier", out: shape.first ?? 0, in: d),
                                  distillation: try Linear(s, "distillation_classifier", out: shape.first ?? 0, in: d))
            }
            guard let shape = s.shape(of: "classifier.weight") else { return nil }
            return .token(0, try Linear(s, "classifier", out: shape.first ?? 0, in: d))
        }
    }
}
