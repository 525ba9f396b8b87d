import Foundation
import Testing
import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// One case of `Tests/Fixtures/explanations` (written by `tools/make_explain_fixtures.py`): torch
/// autograd's `A`, `dA`, `E`, `dE` and the NumPy reference maps.
struct ExplanationFixture {
    static let formatVersion = 1
    static let cases = ["vit-p16-hopper-64x80", "dinov2-reg-hopper-42x70", "bert-tiny-animal"]
    /// The fixtures' stated tolerance: maps of magnitude ≤ 1 (meta `max_abs_value`) agree to 1e-5
    /// absolute; the reference is float64, ViTLens fuses in float32 and propagates rows in double.
    static let tolerance = Tolerance(1e-5, name: "explanation")

    struct Meta: Decodable {
        struct Shape: Decodable { var layers: Int; var heads: Int; var tokens: Int; var width: Int }
        var formatVersion: Int
        var shape: Shape
        var tokenLayout: TokenLayout
        var readouts: [String: String]
        struct WrongPairing: Decodable { var required: Bool; var margin: Double }
        var maxAbsValue: [String: Double]
        /// Whether the script required the wrong pairing to move the map by at least `margin`.
        var wrongPairing: WrongPairing
    }

    let name: String
    let meta: Meta
    var attentions: Tensor
    var gradients: Tensor
    var embeddings: Tensor
    var embeddingGradients: Tensor

    /// A copy of `f` with some inputs replaced (for invariants and refusals).
    init(copying f: ExplanationFixture, attentions: Tensor? = nil, gradients: Tensor? = nil) {
        self = f
        if let attentions { self.attentions = attentions }
        if let gradients { self.gradients = gradients }
    }

    init(_ name: String) throws {
        self.name = name
        let data = try Data(contentsOf: Fixtures.url("explanations/\(name)/meta.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        // TokenLayout's own keys are camelCase already; convertFromSnakeCase leaves them alone.
        meta = try decoder.decode(Meta.self, from: data)
        try #require(meta.formatVersion == Self.formatVersion, "stale fixtures: re-run tools/make_explain_fixtures.py")
        attentions = try Self.tensor(name, "attentions")
        gradients = try Self.tensor(name, "attention_grads")
        embeddings = try Self.tensor(name, "embeddings")
        embeddingGradients = try Self.tensor(name, "embedding_grads")
    }

    static func tensor(_ name: String, _ file: String) throws -> Tensor { try fixtureTensor("explanations/\(name)/\(file).npy") }
    /// One of the case's reference arrays.
    func tensor(_ file: String) throws -> Tensor { try Self.tensor(name, file) }

    var layout: TokenLayout { meta.tokenLayout }
    var geometry: AttentionGeometry {
        AttentionGeometry(layers: meta.shape.layers, heads: meta.shape.heads, tokens: meta.shape.tokens, headDim: 1, layout: layout)
    }

    /// The readout named `name` in the fixture ("token:0" or "mean_of_patches").
    func readout(_ name: String) throws -> Readout {
        Parse.readout(try #require(meta.readouts[name], "no readout \(name)"))
    }

    /// Feeds the accumulator layer by layer in `order`; `gradientLayer` picks which layer's
    /// gradient goes with each layer's attention (the identity for the correct pairing).
    func accumulate(
        _ options: AttentionGradientAccumulator.Options = .init(), order: [Int]? = nil,
        gradientLayer: (Int) -> Int = { $0 }
    ) throws -> FusedAttentionGradients {
        var acc = AttentionGradientAccumulator(options)
        try feed(&acc, order: order, gradientLayer: gradientLayer)
        return try #require(acc.result)
    }

    /// Runs a whole pass into any consumer: begin, every layer in `order`, the embeddings, finish.
    func feed<C: LayerGradientConsumer>(_ consumer: inout C, order: [Int]? = nil, gradientLayer: (Int) -> Int = { $0 }) throws {
        let s = meta.shape
        let per = s.heads * s.tokens * s.tokens
        try consumer.begin(geometry)
        for l in order ?? Array(0 ..< s.layers) {
            let g = gradientLayer(l)
            try attentions.values.withUnsafeBufferPointer { a in
                try gradients.values.withUnsafeBufferPointer { d in
                    try consumer.consume(
                        layer: l, heads: s.heads, tokens: s.tokens, layout: layout,
                        attention: UnsafeBufferPointer(rebasing: a[l * per ..< (l + 1) * per]),
                        gradient: UnsafeBufferPointer(rebasing: d[g * per ..< (g + 1) * per]))
                }
            }
        }
        try embeddings.values.withUnsafeBufferPointer { e in
            try embeddingGradients.values.withUnsafeBufferPointer { d in
                try consumer.consumeEmbeddings(tokens: s.tokens, width: s.width, layout: layout, embeddings: e, gradient: d)
            }
        }
        try consumer.finish()
    }
}

/// `#expect` that two tensors agree within `tolerance`, with the comparison in the message.
func expectMatch(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let c = compare(actual, expected)
    #expect(c.within(tolerance), "\(label): \(c)", sourceLocation: sourceLocation)
}
