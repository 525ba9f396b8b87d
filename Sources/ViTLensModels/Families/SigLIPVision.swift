import ViTLensCheckpoint
import ViTLensCore

/// The vision tower of Hugging Face SigLIP (`model_type` "siglip_vision_model", or the
/// `vision_config` half of a "siglip" checkpoint, whose text tower is ignored): no prefix tokens, a
/// patch Conv2d with bias, learned position embeddings for the patches only, pre-norm blocks with
/// `gelu_pytorch_tanh`, `post_layernorm` on every token (it is part of `last_hidden_state`), and,
/// with `vision_use_head` (the default), the multihead attention pooling head whose probe attention
/// observers receive as one more layer (``AttentionPoolingHead``). Mirrors
/// `transformers/models/siglip/modeling_siglip.py` at 5.23.0; keys under `vision_model.` or at the
/// root.
///
/// SigLIP 2 ("siglip2", "siglip2_vision_model") is refused: its NaFlex tower embeds a variable
/// number of patches with a Linear layer and resizes its position table per image (bilinear,
/// antialiased) under a padding mask, which this family does not implement.
enum SigLIPVisionFamily: ModelFamily {
    /// `SiglipVisionConfig` (no `qkv_bias`, no `id2label`) plus `vision_use_head`, or for "siglip"
    /// the `SiglipConfig` whose required `vision_config` holds it.
    struct Config: Decodable {
        static let defaults = VisionConfig.Defaults(
            encoder: .init(eps: 1e-6, activation: "gelu_pytorch_tanh", qkvBias: nil), patch: 16, imageSize: 224, labels: false)
        enum CodingKeys: String, CodingKey {
            case visionConfig = "vision_config"
            case visionUseHead = "vision_use_head"
        }

        /// The vision tower's fields.
        let vision: VisionConfig
        /// `vision_use_head` (default true): whether the attention pooling head exists.
        let useHead: Bool

        /// Decodes a `SiglipVisionConfig` object.
        private struct Tower: Decodable {
            let vision: VisionConfig
            let useHead: Bool
            init(from decoder: any Decoder) throws {
                vision = try VisionConfig(from: decoder, defaults: Config.defaults)
                useHead = try ConfigFields(decoder, Config.CodingKeys.self).bool(.visionUseHead, default: true)
            }
        }

        init(from decoder: any Decoder) throws {
            let c = try ConfigFields(decoder, CodingKeys.self)
            let modelType = decoder.userInfo[.modelType] as? String
            if let modelType, modelType.hasPrefix("siglip2") {
                throw c.invalid("model_type '\(modelType)' (SigLIP 2) is not supported: its NaFlex vision tower embeds a variable number of patches with a Linear layer and resizes position embeddings per image under a padding mask; SigLIP ('siglip', 'siglip_vision_model') is")
            }
            let tower: Tower
            if modelType == "siglip" {
                guard let nested = try c.nested(Tower.self, .visionConfig) else {
                    throw ModelError.configMissingField(file: c.file, field: "vision_config")
                }
                tower = nested
            } else {
                tower = try Tower(from: decoder)
            }
            (vision, useHead) = (tower.vision, tower.useHead)
        }
    }

    static let modelTypes = ["siglip_vision_model", "siglip"]
    /// SigLIP 2, refused by ``Config`` naming what differs.
    static let refusedModelTypes = ["siglip2_vision_model", "siglip2"]

    static func keyPrefix(for modelType: String) -> String { "vision_model." }

    /// The block keys are CLIP's (`encoder.layers.N.self_attn.q_proj`, `layer_norm1`, `mlp.fc1`, ...).
    static var keys: EncoderKeys { CLIPVisionFamily.keys }

    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel {
        if modelType == "siglip" {
            // The text tower and the contrastive scale and bias of a full SigLIP checkpoint.
            store.ignore(where: { $0.hasPrefix("text_model.") || $0 == "logit_scale" || $0 == "logit_bias" })
        }
        let c = config.vision
        let spec = c.encoder.spec(norm: .pre)
        let embeddings = try c.embeddings(store, keys: .siglip, prefix: [])
        let head = config.useHead
            ? try AttentionPoolingHead(store, "head", spec: spec, intermediate: c.encoder.intermediate ?? 4 * spec.hidden) : nil
        return try c.model(modelType, store, spec: spec, keys: keys, embeddings: embeddings, finalNorm: "post_layernorm",
                           poolingHead: head)
    }
}
