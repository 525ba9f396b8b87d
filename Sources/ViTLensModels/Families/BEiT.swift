import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face BEiT (`model_type` "beit") and Data2Vec-vision ("data2vec-vision"), which share
/// one architecture and one checkpoint layout: `BeitModel`, `BeitForImageClassification`,
/// `BeitForMaskedImageModeling` (backbone only), `Data2VecVisionModel` and
/// `Data2VecVisionForImageClassification`. Mirrors `modeling_beit.py` and
/// `modeling_data2vec_vision.py` at transformers 5.23.0.
///
/// Pre-norm ViT blocks whose query and value projections have biases and whose key projection has
/// none; layer scale (`lambda_1`, `lambda_2`) when `layer_scale_init_value > 0`; a relative position
/// bias added to every layer's attention scores, per layer (`use_relative_position_bias`) or one for
/// all layers (`use_shared_relative_position_bias`), resized to each input's patch grid
/// (``RelativePositionBias``); absolute position embeddings only with
/// `use_absolute_position_embeddings`. With `use_mean_pooling` (the default) there is no final
/// LayerNorm: the pooled vector is `pooler.layernorm(mean of the patch tokens)` and the classifier
/// reads it; otherwise `layernorm` normalises every token and the classifier reads CLS. Keys under
/// `beit.` / `data2vec_vision.` or at the root; the checkpoints' `relative_position_index` buffers
/// are ignored (recomputed, as transformers does).
enum BEiTFamily: ModelFamily {
    /// `BeitConfig` / `Data2VecVisionConfig`: the shared vision fields (no `qkv_bias`) and BEiT's flags.
    struct Config: Decodable {
        static let defaults = VisionConfig.Defaults(encoder: .init(eps: 1e-12, qkvBias: nil), patch: 16, imageSize: 224)
        enum CodingKeys: String, CodingKey {
            case absolutePositions = "use_absolute_position_embeddings"
            case relativeBias = "use_relative_position_bias"
            case sharedRelativeBias = "use_shared_relative_position_bias"
            case layerScaleInit = "layer_scale_init_value"
            case meanPooling = "use_mean_pooling"
        }

        let vision: VisionConfig
        let absolutePositions: Bool
        /// One relative position table per layer.
        let relativeBias: Bool
        /// One relative position table for all layers.
        let sharedRelativeBias: Bool
        /// `layer_scale_init_value > 0`: the blocks have `lambda_1` and `lambda_2`.
        let layerScale: Bool
        let meanPooling: Bool

        init(from decoder: any Decoder) throws {
            vision = try VisionConfig(from: decoder, defaults: Self.defaults)
            let c = try ConfigFields(decoder, CodingKeys.self)
            absolutePositions = try c.bool(.absolutePositions, default: false)
            relativeBias = try c.bool(.relativeBias, default: false)
            sharedRelativeBias = try c.bool(.sharedRelativeBias, default: false)
            let scale = try c.double(.layerScaleInit, default: 0.1)
            guard scale.isFinite else { throw c.invalid("'layer_scale_init_value' is \(scale), not a finite number") }
            layerScale = scale > 0
            meanPooling = try c.bool(.meanPooling, default: true)
            if relativeBias && sharedRelativeBias {
                throw c.invalid("'use_relative_position_bias' and 'use_shared_relative_position_bias' are both true (not supported: one relative position bias per layer)")
            }
        }
    }

    static let modelTypes = ["beit", "data2vec-vision"]

    static func keyPrefix(for modelType: String) -> String { modelType == "beit" ? "beit." : "data2vec_vision." }

    /// The block keys: ViT's, with BEiT's layer scales.
    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layer.\($0)" })
        k.layerScale1 = "lambda_1"
        k.layerScale2 = "lambda_2"
        return k
    }()

    /// Query and value projections have biases, the key projection none.
    static let biases = ProjectionBiases(query: true, key: false, value: true)

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        let c = config.vision
        let d = c.encoder.hidden
        store.ignore(where: { $0.hasSuffix("relative_position_index") })
        let cls = try store.token("embeddings.cls_token", hidden: d)
        _ = try store.takeOptional("embeddings.mask_token", shape: [1, 1, d])
        let embeddings = try c.embeddings(store, keys: .vit, prefix: [(.cls, cls)], positions: config.absolutePositions)
        var spec = c.encoder.spec(norm: .pre, layerScale: config.layerScale)
        spec.biases = biases

        let tableShape = [RelativePositionBias.entries(window: c.grid) ?? 0, spec.heads]
        func table(_ key: String) throws -> RelativePositionBias {
            try RelativePositionBias(table: Tensor(shape: tableShape, values: store.take(key, shape: tableShape)), window: c.grid, file: store.file)
        }
        var biases: [AttentionBiasSource?] = []
        if config.sharedRelativeBias {
            let shared = try table("encoder.relative_position_bias.relative_position_bias_table")
            biases = Array(repeating: .relativePosition(shared), count: spec.layers)
        } else if config.relativeBias {
            biases = try (0 ..< spec.layers).map {
                .relativePosition(try table("\(keys.layer($0)).attention.attention.relative_position_bias.relative_position_bias_table"))
            }
        }

        // BeitForMaskedImageModeling: its own `layernorm` and `lm_head` sit at the root, beside the backbone's.
        let maskedImageModeling = store.has("lm_head.weight")
        let prefix = keyPrefix(for: modelType)
        if maskedImageModeling { store.ignore(where: { $0.hasPrefix("lm_head.") || $0.hasPrefix("layernorm.") }) }
        let finalNorm = config.meanPooling ? nil : maskedImageModeling ? "\(prefix)layernorm" : "layernorm"
        let poolNorm = config.meanPooling && store.has("pooler.layernorm.weight") ? "pooler.layernorm" : nil
        return try c.model(modelType, store, spec: spec, keys: keys, embeddings: embeddings, attentionBiases: biases,
                           finalNorm: finalNorm, poolNorm: poolNorm, poolInput: .patchMean) { s in
            guard let shape = s.shape(of: "classifier.weight") else { return nil }
            let classifier = try Linear(s, "classifier", out: shape.first ?? 0, in: d)
            guard config.meanPooling else { return .token(0, classifier) }
            guard poolNorm != nil else { throw CheckpointError.missingWeight(key: "pooler.layernorm.weight", file: s.file) }
            return .pooled(classifier)
        }
    }
}
