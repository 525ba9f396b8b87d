/// Which of an attention block's query, key and value projections have a bias: all three for
/// `qkv_bias: true` (ViT, DeiT, DINOv2, CLIP, BERT), none for `qkv_bias: false`, and query and
/// value only for BEiT and Data2Vec-vision.
public struct ProjectionBiases: Sendable, Equatable {
    /// The query projection has a bias.
    public var query: Bool
    /// The key projection has a bias.
    public var key: Bool
    /// The value projection has a bias.
    public var value: Bool

    /// Sets each projection's flag.
    public init(query: Bool, key: Bool, value: Bool) {
        self.query = query
        self.key = key
        self.value = value
    }

    /// All three or none, as Hugging Face's `qkv_bias`.
    public init(qkv: Bool) { self.init(query: qkv, key: qkv, value: qkv) }

    /// Biases on query, key and value.
    public static let all = ProjectionBiases(qkv: true)
    /// No query, key or value bias.
    public static let none = ProjectionBiases(qkv: false)

    /// Whether any of the three has a bias.
    public var any: Bool { query || key || value }
}
