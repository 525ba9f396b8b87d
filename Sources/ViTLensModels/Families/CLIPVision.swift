import ViTLensCheckpoint
import ViTLensCore

/// The vision tower of Hugging Face CLIP (`model_type` "clip_vision_model", or the `vision_config`
/// half of a "clip" checkpoint): a class embedding and patch embeddings without bias, position
/// embeddings, `pre_layrnorm` (the typo is Hugging Face's key), pre-norm blocks with
/// `hidden_act` (quick_gelu for OpenAI's weights), and `post_layernorm` on the pooled CLS only.
/// Mirrors `transformers/models/clip/modeling_clip.py` at 5.23.0; keys under `vision_model.`.
enum CLIPVisionFamily {
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

    static func load(_ store: WeightStore, config c: ConfigReader, modelType: String) throws -> VisionTransformer {
        let spec = EncoderSpec(
            hidden: try c.positiveInt("hidden_size", default: 768),
            heads: try c.positiveInt("num_attention_heads", default: 12),
            layers: try c.positiveInt("num_hidden_layers", default: 12),
            eps: Float(try c.double("layer_norm_eps", default: 1e-5)),
            activation: try Activation(huggingFace: c.string("hidden_act", default: "quick_gelu"), file: c.file),
            norm: .pre, feedForward: .mlp(intermediate: try c.positiveInt("intermediate_size", default: 3072)))
        try spec.validate(file: c.file)
        let d = spec.hidden
        let patch = try c.positiveInt("patch_size", default: 32)
        let channels = try c.positiveInt("num_channels", default: 3)
        let imageSize = try c.positiveInt("image_size", default: 224)
        let grid = imageSize / patch
        guard grid > 0 else { throw CheckpointError.configInvalid(file: c.file, reason: "image_size \(imageSize) is smaller than patch_size \(patch)") }
        let w = try store.take("embeddings.patch_embedding.weight", shape: [d, channels, patch, patch])
        let embeddings = VisionEmbeddings(
            positioned: [(.cls, try store.param("embeddings.class_embedding", [d]))], registers: nil,
            positions: try store.param("embeddings.position_embedding.weight", [1 + grid * grid, d]),
            positionGrid: grid, patchWeight: Param(w, shape: [d, channels * patch * patch]), patchBias: nil,
            patchSize: patch, channels: channels,
            preNorm: try LayerNorm(store, "pre_layrnorm", dim: d, eps: spec.eps))
        store.ignore(where: { $0.hasSuffix("embeddings.position_ids") })
        let encoder = try Encoder(store, spec: spec, keys: keys)
        let post = try LayerNorm(store, "post_layernorm", dim: d, eps: spec.eps)
        return VisionTransformer(modelType: modelType, imageSize: imageSize, labels: [:], embeddings: embeddings,
                                 encoder: encoder, finalNorm: nil, poolNorm: post, pooler: nil, head: nil)
    }
}
