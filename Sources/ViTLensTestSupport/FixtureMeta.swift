/// The fields of a fixture case's `meta.json` that tests read (the generator writes more).
public struct FixtureMeta: Decodable, Sendable {
    /// The reference's token layout.
    public struct Layout: Decodable, Sendable {
        /// Prefix token kinds ("cls", "register", "distillation").
        public var prefix: [String]?
        /// Patch grid `[rows, columns]`; `nil` for text.
        public var grid: [Int]?
    }

    /// Full attention rows saved for a real model.
    public struct Rows: Decodable, Sendable {
        /// `[layer, head, query]` of each saved row.
        public var triplesLayerHeadQuery: [[Int]]?

        enum CodingKeys: String, CodingKey { case triplesLayerHeadQuery = "triples_layer_head_query" }
    }

    /// The fixture model folder's name under `Tests/Fixtures/models`.
    public var model: String?
    /// The input sentence of a text case.
    public var sentence: String?
    /// The reference tokens of a text case.
    public var tokens: [String]?
    /// The reference's token layout.
    public var layout: Layout?
    /// Saved full attention rows.
    public var rows: Rows?
}
