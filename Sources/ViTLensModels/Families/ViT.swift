import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face `ViTModel` / `ViTForImageClassification` (`model_type` "vit"): google/vit-*,
/// facebook/dino-vit* and other ViT checkpoints. Mirrors `transformers/models/vit/modeling_vit.py`
/// at 5.23.0. Keys under `vit.` (classification checkpoints) or at the root (`ViTModel`).
enum ViTFamily {
    static func encoderSpec(_ c: ConfigReader) throws -> EncoderSpec {
        let spec = EncoderSpec(
            hidden: try c.positiveInt("hidden_size", default: 768),
            heads: try c.positiveInt("num_attention_heads", default: 12),
            layers: try c.positiveInt("num_hidden_layers", default: 12),
            eps: Float(try c.double("layer_norm_eps", default: 1e-12)),
            activation: try Activation(huggingFace: c.string("hidden_act", default: "gelu"), file: c.file),
            norm: .pre,
            feedForward: .mlp(intermediate: try c.positiveInt("intermediate_size", default: 3072)),
            qkvBias: try c.bool("qkv_bias", default: true))
        try spec.validate(file: c.file)
        return spec
    }

    /// ViT's block key table (`encoder.layer.N.attention.attention.query`, ...).
    static let keys = EncoderKeys(layer: { "encoder.layer.\($0)" })

    /// Patch projection and position table shared by ViT and DeiT.
    static func patchParts(_ store: WeightStore, _ c: ConfigReader, spec: EncoderSpec, prefixCount: Int)
        throws -> (weight: Param, bias: Param, positions: Param, grid: Int, patch: Int, channels: Int, imageSize: Int)
    {
        let patch = try c.positiveInt("patch_size", default: 16)
        let channels = try c.positiveInt("num_channels", default: 3)
        let imageSize = try c.positiveInt("image_size", default: 224)
        let grid = imageSize / patch
        guard grid > 0 else { throw CheckpointError.configInvalid(file: c.file, reason: "image_size \(imageSize) is smaller than patch_size \(patch)") }
        let d = spec.hidden
        let w = try store.take("embeddings.patch_embeddings.projection.weight", shape: [d, channels, patch, patch])
        return (Param(w, shape: [d, channels * patch * patch]),
                try store.param("embeddings.patch_embeddings.projection.bias", [d]),
                Param(try store.take("embeddings.position_embeddings", shape: [1, prefixCount + grid * grid, d]), shape: [prefixCount + grid * grid, d]),
                grid, patch, channels, imageSize)
    }

    static func load(_ store: WeightStore, config c: ConfigReader) throws -> VisionTransformer {
        let spec = try encoderSpec(c)
        let d = spec.hidden
        let parts = try patchParts(store, c, spec: spec, prefixCount: 1)
        let cls = Param(try store.take("embeddings.cls_token", shape: [1, 1, d]), shape: [d])
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, 1, d])
        let embeddings = VisionEmbeddings(
            positioned: [(.cls, cls)], registers: nil, positions: parts.positions, positionGrid: parts.grid,
            patchWeight: parts.weight, patchBias: parts.bias, patchSize: parts.patch, channels: parts.channels, preNorm: nil)
        let encoder = try Encoder(store, spec: spec, keys: keys)
        let finalNorm = try LayerNorm(store, "layernorm", dim: d, eps: spec.eps)
        let pooler = store.has("pooler.dense.weight") ? try Linear(store, "pooler.dense", out: d, in: d) : nil
        var head: VisionHead?
        let labels = try c.labels()
        if let shape = store.shape(of: "classifier.weight") {
            head = .token(0, try Linear(store, "classifier", out: shape.first ?? 0, in: d))
        }
        return VisionTransformer(modelType: "vit", imageSize: parts.imageSize, labels: head == nil ? [:] : labels,
                                 embeddings: embeddings, encoder: encoder, finalNorm: finalNorm, poolNorm: nil,
                                 pooler: pooler, head: head)
    }
}
