import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face DINOv2 (`model_type` "dinov2" and "dinov2_with_registers"): layer scale, optional
/// SwiGLU feed-forward, optional register tokens inserted after CLS *after* the position embeddings
/// are added (registers get none). Mirrors `modeling_dinov2.py` and
/// `modular_dinov2_with_registers.py` at transformers 5.23.0; keys under `dinov2.` or at the root.
enum DINOv2Family {
    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layer.\($0)" })
        k.norm1 = "norm1"
        k.norm2 = "norm2"
        k.fc1 = "mlp.fc1"
        k.fc2 = "mlp.fc2"
        return k
    }()

    static func load(_ store: WeightStore, config c: ConfigReader, registers: Bool) throws -> VisionTransformer {
        let d = try c.positiveInt("hidden_size", default: 768)
        let mlpRatio = try c.double("mlp_ratio", default: 4)
        guard mlpRatio.isFinite, mlpRatio > 0, mlpRatio <= Limits.maxMLPRatio, Int(Double(d) * mlpRatio) > 0 else {
            throw CheckpointError.configInvalid(file: c.file, reason: "'mlp_ratio' is \(mlpRatio), expected a number in (0, \(Int(Limits.maxMLPRatio))] giving a positive MLP width")
        }
        let swiglu = try c.bool("use_swiglu_ffn", default: false)
        let feedForward: FeedForward
        if swiglu {
            // Dinov2SwiGLUFFN: hidden = int(d * mlp_ratio); hidden = (int(hidden * 2 / 3) + 7) // 8 * 8.
            let h0 = Int(Double(d) * mlpRatio)
            feedForward = .swiGLU(hidden: (Int(Double(h0) * 2 / 3) + 7) / 8 * 8)
        } else {
            feedForward = .mlp(intermediate: Int(Double(d) * mlpRatio))
        }
        let spec = EncoderSpec(
            hidden: d,
            heads: try c.positiveInt("num_attention_heads", default: 12),
            layers: try c.positiveInt("num_hidden_layers", default: 12),
            eps: Float(try c.double("layer_norm_eps", default: 1e-6)),
            activation: try Activation(huggingFace: c.string("hidden_act", default: "gelu"), file: c.file),
            norm: .pre, feedForward: feedForward, layerScale: true,
            qkvBias: try c.bool("qkv_bias", default: true))
        try spec.validate(file: c.file)
        let patch = try c.positiveInt("patch_size", default: 14)
        let channels = try c.positiveInt("num_channels", default: 3)
        let imageSize = try c.positiveInt("image_size", default: 518)
        let grid = imageSize / patch
        guard grid > 0 else { throw CheckpointError.configInvalid(file: c.file, reason: "image_size \(imageSize) is smaller than patch_size \(patch)") }
        let w = try store.take("embeddings.patch_embeddings.projection.weight", shape: [d, channels, patch, patch])
        let cls = Param(try store.take("embeddings.cls_token", shape: [1, 1, d]), shape: [d])
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, d])
        var regs: Param?
        if registers {
            let r = try c.countInt("num_register_tokens", default: 4)
            if r > 0 { regs = Param(try store.take("embeddings.register_tokens", shape: [1, r, d]), shape: [r, d]) }
        }
        var embeddings = VisionEmbeddings(
            positioned: [(.cls, cls)], registers: regs,
            positions: Param(try store.take("embeddings.position_embeddings", shape: [1, 1 + grid * grid, d]), shape: [1 + grid * grid, d]),
            positionGrid: grid, patchWeight: Param(w, shape: [d, channels * patch * patch]),
            patchBias: try store.param("embeddings.patch_embeddings.projection.bias", [d]),
            patchSize: patch, channels: channels, preNorm: nil)
        // transformers 5.23: Dinov2WithRegistersEmbeddings passes antialias=True, Dinov2Embeddings does not.
        embeddings.antialiasedPositions = registers
        let encoder = try Encoder(store, spec: spec, keys: keys)
        let finalNorm = try LayerNorm(store, "layernorm", dim: d, eps: spec.eps)
        var head: VisionHead?
        if let s = store.shape(of: "classifier.weight") {
            head = .clsAndPatchMean(try Linear(store, "classifier", out: s[0], in: 2 * d))
        }
        return VisionTransformer(modelType: registers ? "dinov2_with_registers" : "dinov2", imageSize: imageSize,
                                 labels: head == nil ? [:] : try c.labels(), embeddings: embeddings, encoder: encoder,
                                 finalNorm: finalNorm, poolNorm: nil, pooler: nil, head: head)
    }
}
