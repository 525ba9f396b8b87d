import ViTLensCheckpoint
import ViTLensCore

/// Hugging Face BERT (`model_type` "bert"; e.g. all-MiniLM-L6-v2): word + position + token-type
/// embeddings, LayerNorm, post-norm blocks (`LN(x + Attention(x))`, `LN(x + MLP(x))`).
/// Mirrors `transformers/models/bert/modeling_bert.py` at 5.23.0; keys under `bert.` or at the root.
enum BERTFamily: ModelFamily {
    /// `BertConfig`: absolute positions only, the shared encoder fields, and the three embedding
    /// tables' sizes.
    struct Config: Decodable {
        enum CodingKeys: String, CodingKey {
            case positionEmbeddingType = "position_embedding_type"
            case vocabSize = "vocab_size"
            case maxPositionEmbeddings = "max_position_embeddings"
            case typeVocabSize = "type_vocab_size"
        }

        let encoder: EncoderConfig
        let vocabulary: Int
        let positions: Int
        let types: Int

        init(from decoder: any Decoder) throws {
            let c = try ConfigFields(decoder, CodingKeys.self)
            let positionType = try c.string(.positionEmbeddingType, default: "absolute")
            guard positionType == "absolute" else {
                throw c.invalid("position_embedding_type '\(positionType)' is not supported (absolute only)")
            }
            encoder = try EncoderConfig(from: decoder, defaults: .init(eps: 1e-12, qkvBias: nil))
            vocabulary = try c.positiveInt(.vocabSize, default: 30522)
            positions = try c.positiveInt(.maxPositionEmbeddings, default: 512)
            types = try c.positiveInt(.typeVocabSize, default: 2)
        }
    }

    static let modelTypes = ["bert"]

    static let keys: EncoderKeys = {
        var k = EncoderKeys(layer: { "encoder.layer.\($0)" })
        k.query = "attention.self.query"
        k.key = "attention.self.key"
        k.value = "attention.self.value"
        k.norm1 = "attention.output.LayerNorm"
        k.norm2 = "output.LayerNorm"
        return k
    }()

    static func load(_ store: WeightStore, config c: Config, modelType: String) throws -> LoadedModel {
        let spec = c.encoder.spec(norm: .post)
        let d = spec.hidden
        return .text(TextTransformer(
            modelType: modelType, spec: spec,
            words: try store.param("embeddings.word_embeddings.weight", [c.vocabulary, d]),
            positions: try store.param("embeddings.position_embeddings.weight", [c.positions, d]),
            tokenTypes: try store.param("embeddings.token_type_embeddings.weight", [c.types, d]),
            embeddingNorm: try LayerNorm(store, "embeddings.LayerNorm", dim: d, eps: spec.eps),
            encoder: try Encoder(store, spec: spec, keys: keys)))
    }
}
