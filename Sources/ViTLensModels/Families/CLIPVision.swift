import ViTLensCheckpoint
import ViTLensCore

/// The vision tower of Hugging Face CLIP (`model_type` "clip_vision_model", or the `vision_config`
/// half of a "clip" checkpoint): a class embedding and patch embeddings without bias, position
/// embeddings, `pre_layrnorm` (the typo is Hugging Face's key), pre-norm blocks with
/// `hidden_act` (quick_gelu for OpenAI's weights), and `post_layernorm` on the pooled CLS only.
/// Mirrors `transformers/models/clip/modeling_clip.py` at 5.23.0; keys under `vision_model.`.
enum CLIPVisionFamily: ModelFamily {
    /// `CLIPVisionConfig` (no `qkv_bias`, no `id2label`), or for "clip" the `CLIPConfig` whose
    /// required `vision_config` holds it.
    struct Config: Decodable {
        static let defaults = VisionConfig.Defaults(
            encoder: .init(eps: 1e-5, activation: "quick_gelu", qkvBias: nil), patch: 32, imageSize: 224, labels: false)
        enum CodingKeys: String, CodingKey { case visionConfig = "vision_config" }

        /// The vision tower's fields.
        let vision: VisionConfig

        /// Decodes a `CLIPVisionConfig` object.
        private struct Tower: Decodable {
            let vision: VisionConfig
            init(from decoder: any Decoder) throws { vision = try VisionConfig(from: decoder, defaults: Config.defaults) }
        }

        init(from decoder: any Decoder) throws {
            guard decoder.userInfo[.modelType] as? String == "clip" else {
                vision = try Tower(from: decoder).vision
                return
            }
            let c = try ConfigFields(decoder, CodingKeys.self)
            guard let tower = try c.nested(Tower.self, .visionConfig) else {
                throw ModelError.configMissingField(file: c.file, field: "vision_config")
            }
            vision = tower.vision
        }
    }

    static let modelTypes = ["clip_vision_model", "clip"]

    static func keyPrefix(for modelType: String) -> String { "vision_model." }

    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layers.\($0)" })
        k.query = "self_attn.q_proj"
        k.key = "self_attn.k_proj"
        k.value = "self_attn.v_proj"
        k.attentionOutput = "self_attn.out_proj"
        k.norm1 = "layer_norm1"
        k.norm2 = "layer_norm2"
        k.fc1 = "mlp.fc1"
        k.fc2 = "mlp.fc2"
        return k
    }()

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        if modelType == "clip" {
            // The text tower and the projections of a full CLIP checkpoint.
            store.ignore(where: { $0.hasPrefix("text_model.") || $0.hasPrefix("text_projection") || $0.hasPrefix("visual_projection") || $0 == "logit_scale" })
        }
        let c = config.vision
        let d = c.encoder.hidden
        let cls = try store.param("embeddings.class_embedding", [d])
        let spec = c.encoder.spec(norm: .pre)
        let embeddings = try c.embeddings(store, keys: .clip, prefix: [(.cls, cls)],
                                          preNorm: try LayerNorm(store, "pre_layrnorm", dim: d, eps: spec.eps))
        store.ignore(where: { $0.hasSuffix("embeddings.position_ids") })
        return try c.model(modelType, store, spec: spec, keys: keys, embeddings: embeddings, finalNorm: nil,
                           poolNorm: "post_layernorm")
    }
}
