/// The encoder fields every family reads from `config.json` (`hidden_size`, `num_attention_heads`,
/// `num_hidden_layers`, `layer_norm_eps`, `hidden_act`, `intermediate_size`, `qkv_bias`), decoded
/// once with the family's Hugging Face defaults and checked as an ``EncoderSpec`` would be.
struct EncoderConfig: Sendable {
    /// A family's Hugging Face defaults; a `nil` field is one the family does not read.
    struct Defaults: Sendable {
        var eps: Double
        var activation = "gelu"
        var intermediate: Int? = 3072
        var qkvBias: Bool? = true
    }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case numAttentionHeads = "num_attention_heads"
        case numHiddenLayers = "num_hidden_layers"
        case layerNormEps = "layer_norm_eps"
        case hiddenAct = "hidden_act"
        case intermediateSize = "intermediate_size"
        case qkvBias = "qkv_bias"
    }

    /// The file the values came from.
    let file: String
    let hidden: Int
    let heads: Int
    let layers: Int
    let eps: Float
    let activation: Activation
    /// `intermediate_size` (nil for families that derive the MLP width otherwise, as DINOv2).
    let intermediate: Int?
    /// `qkv_bias` (true for families without the field).
    let qkvBias: Bool

    /// Decodes the fields at `decoder` and checks them (``EncoderSpec/validate(file:)``).
    init(from decoder: any Decoder, defaults: Defaults) throws {
        let c = try ConfigFields(decoder, CodingKeys.self)
        file = c.file
        hidden = try c.positiveInt(.hiddenSize, default: 768)
        heads = try c.positiveInt(.numAttentionHeads, default: 12)
        layers = try c.positiveInt(.numHiddenLayers, default: 12)
        eps = Float(try c.double(.layerNormEps, default: defaults.eps))
        activation = try Activation(huggingFace: c.string(.hiddenAct, default: defaults.activation), file: c.file)
        intermediate = try defaults.intermediate.map { try c.positiveInt(.intermediateSize, default: $0) }
        qkvBias = try defaults.qkvBias.map { try c.bool(.qkvBias, default: $0) } ?? true
        try spec(norm: .pre, feedForward: .mlp(intermediate: 1)).validate(file: file)
    }

    /// The encoder's shape; `feedForward` defaults to an MLP of `intermediate_size`.
    func spec(norm: NormPlacement, feedForward: FeedForward? = nil, layerScale: Bool = false) -> EncoderSpec {
        EncoderSpec(hidden: hidden, heads: heads, layers: layers, eps: eps, activation: activation, norm: norm,
                    feedForward: feedForward ?? .mlp(intermediate: intermediate ?? 4 * hidden),
                    layerScale: layerScale, biases: ProjectionBiases(qkv: qkvBias))
    }
}
