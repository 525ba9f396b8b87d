import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face BERT (`model_type` "bert"; e.g. all-MiniLM-L6-v2): word + position + token-type
/// embeddings, LayerNorm, post-norm blocks (`LN(x + Attention(x))`, `LN(x + MLP(x))`).
/// Mirrors `transformers/models/bert/modeling_bert.py` at 5.23.0; keys under `bert.` or at the root.
enum BERTFamily {
    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layer.\($0)" })
        k.query = "attention.self.query"
        k.key = "attention.self.key"
        k.value = "attention.self.value"
        k.norm1 = "attention.output.LayerNorm"
        k.norm2 = "output.LayerNorm"
        return k
    }()

    static func load(_ store: WeightStore, config c: ConfigReader) throws -> TextTransformer {
        let positionType = try c.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw CheckpointError.configInvalid(file: c.file, reason: "position_embedding_type '\(positionType)' is not supported (absolute only)")
        }
        let spec = EncoderSpec(
            hidden: try c.positiveInt("hidden_size", default: 768),
            heads: try c.positiveInt("num_attention_heads", default: 12),
            layers: try c.positiveInt("num_hidden_layers", default: 12),
            eps: Float(try c.double("layer_norm_eps", default: 1e-12)),
            activation: try Activation(huggingFace: c.string("hidden_act", default: "gelu"), file: c.file),
            norm: .post, feedForward: .mlp(intermediate: try c.positiveInt("intermediate_size", default: 3072)))
        try spec.validate(file: c.file)
        let d = spec.hidden
        let vocab = try c.positiveInt("vocab_size", default: 30522)
        let positions = try c.positiveInt("max_position_embeddings", default: 512)
        let types = try c.positiveInt("type_vocab_size", default: 2)
        return TextTransformer(
            modelType: "bert", spec: spec,
            words: try store.param("embeddings.word_embeddings.weight", [vocab, d]),
            positions: try store.param("embeddings.position_embeddings.weight", [positions, d]),
            tokenTypes: try store.param("embeddings.token_type_embeddings.weight", [types, d]),
            embeddingNorm: try LayerNorm(store, "embeddings.LayerNorm", dim: d, eps: spec.eps),
            encoder: try Encoder(store, spec: spec, keys: keys))
    }
}
