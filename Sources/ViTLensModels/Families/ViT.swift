import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face `ViTModel` / `ViTForImageClassification` (`model_type` "vit"): google/vit-*,
/// facebook/dino-vit* and other ViT checkpoints. Mirrors `transformers/models/vit/modeling_vit.py`
/// at 5.23.0. Keys under `vit.` (classification checkpoints) or at the root (`ViTModel`).
enum ViTFamily: ModelFamily {
    /// `ViTConfig`: the shared vision fields with ViT's defaults (DeiT's are the same).
    struct Config: Decodable {
        static let defaults = VisionConfig.Defaults(encoder: .init(eps: 1e-12), patch: 16, imageSize: 224)
        let vision: VisionConfig
        init(from decoder: any Decoder) throws { vision = try VisionConfig(from: decoder, defaults: Self.defaults) }
    }

    static let modelTypes = ["vit"]

    /// ViT's block key table (`encoder.layer.N.attention.attention.query`, ...), shared with DeiT.
    static let keys = EncoderKeys(layer: { "encoder.layer.\($0)" })

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        let c = config.vision
        let d = c.encoder.hidden
        let cls = try store.token("embeddings.cls_token", hidden: d)
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, 1, d])
        let embeddings = try c.embeddings(store, keys: .vit, prefix: [(.cls, cls)])
        return try c.model(modelType, store, spec: c.encoder.spec(norm: .pre), keys: keys, embeddings: embeddings, pooler: true) { s in
            guard let shape = s.shape(of: "classifier.weight") else { return nil }
            return .token(0, try Linear(s, "classifier", out: shape.first ?? 0, in: d))
        }
    }
}
