import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face DINOv2 (`model_type` "dinov2" and "dinov2_with_registers"): layer scale, optional
/// SwiGLU feed-forward, optional register tokens inserted after CLS *after* the position embeddings
/// are added (registers get none). Mirrors `modeling_dinov2.py` and
/// `modular_dinov2_with_registers.py` at transformers 5.23.0; keys under `dinov2.` or at the root.
enum DINOv2Family: ModelFamily {
    /// `Dinov2Config`: the shared vision fields (no `intermediate_size`: the MLP width comes from
    /// `mlp_ratio`) plus `mlp_ratio`, `use_swiglu_ffn` and `num_register_tokens`.
    struct Config: Decodable {
        static let defaults = VisionConfig.Defaults(encoder: .init(eps: 1e-6, intermediate: nil), patch: 14, imageSize: 518)
        enum CodingKeys: String, CodingKey {
            case mlpRatio = "mlp_ratio"
            case useSwiGLUFFN = "use_swiglu_ffn"
            case numRegisterTokens = "num_register_tokens"
        }

        let vision: VisionConfig
        let feedForward: FeedForward
        /// `num_register_tokens` (default 4; read for "dinov2_with_registers" only).
        let registers: Int?

        init(from decoder: any Decoder) throws {
            vision = try VisionConfig(from: decoder, defaults: Self.defaults)
            let c = try ConfigFields(decoder, CodingKeys.self)
            let d = vision.encoder.hidden
            let mlpRatio = try c.double(.mlpRatio, default: 4)
            guard mlpRatio.isFinite, mlpRatio > 0, mlpRatio <= Limits.maxMLPRatio, Int(Double(d) * mlpRatio) > 0 else {
                throw c.invalid("'mlp_ratio' is \(mlpRatio), expected a number in (0, \(Int(Limits.maxMLPRatio))] giving a positive MLP width")
            }
            // Dinov2SwiGLUFFN: hidden = int(d * mlp_ratio); hidden = (int(hidden * 2 / 3) + 7) // 8 * 8 (one rule, shared with ONNX import).
            let swiGLU = try c.bool(.useSwiGLUFFN, default: false)
            let width = PublicKeyTables.dinov2FeedForwardWidth(hidden: d, mlpRatio: mlpRatio, swiGLU: swiGLU)
            feedForward = swiGLU ? .swiGLU(hidden: width) : .mlp(intermediate: width)
            let modelType = decoder.userInfo[.modelType] as? String
            registers = modelType == "dinov2_with_registers" ? try c.countInt(.numRegisterTokens, default: 4) : nil
        }
    }

    static let modelTypes = ["dinov2", "dinov2_with_registers"]

    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layer.\($0)" })
        k.norm1 = "norm1"
        k.norm2 = "norm2"
        k.fc1 = "mlp.fc1"
        k.fc2 = "mlp.fc2"
        return k
    }()

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        let c = config.vision
        let d = c.encoder.hidden
        let cls = try store.token("embeddings.cls_token", hidden: d)
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, d])
        var registers: Param?
        if let r = config.registers, r > 0 {
            registers = Param(try store.take("embeddings.register_tokens", shape: [1, r, d]), shape: [r, d])
        }
        var embeddings = try c.embeddings(store, keys: .vit, prefix: [(.cls, cls)], registers: registers)
        // transformers 5.23: Dinov2WithRegistersEmbeddings passes antialias=True, Dinov2Embeddings does not.
        embeddings.antialiasedPositions = config.registers != nil
        let spec = c.encoder.spec(norm: .pre, feedForward: config.feedForward, layerScale: true)
        return try c.model(modelType, store, spec: spec, keys: keys, embeddings: embeddings) { s in
            guard let shape = s.shape(of: "classifier.weight") else { return nil }
            return .clsAndPatchMean(try Linear(s, "classifier", out: shape.first ?? 0, in: 2 * d))
        }
    }
}
