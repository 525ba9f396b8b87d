import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The fields of a gradient fixture's `meta.json` (tools/make_gradient_fixtures.py) the tests read.
struct GradientFixture: Decodable {
    /// The fixture's text model and its token ids and type ids.
    func textInputs() throws -> (model: TextTransformer, ids: [Int], types: [Int]) {
        guard case .text(let model) = try ModelLoader.load(try ModelLocator.resolve(Fixtures.url("models/\(self.model)").path)) else {
            throw ModelFixtureError(what: "\(self.model) is not a text model")
        }
        let ids = try NPY.read(Fixtures.url(try #require(inputIds))).integers.map(Int.init)
        let types = try NPY.read(Fixtures.url(try #require(tokenTypeIds))).integers.map(Int.init)
        return (model, ids, types)
    }

    struct ModelFixtureError: Error { var what: String }

    struct Target: Decodable {
        var kind: String
        var resolved: Int?
        var token: Int?
        var to: Int?
        var reference: String?
    }

    var model: String
    var kind: String
    var target: Target
    var value: Float
    var pixelValues: String?
    var inputIds: String?
    var tokenTypeIds: String?

    enum CodingKeys: String, CodingKey {
        case model, kind, target, value
        case pixelValues = "pixel_values", inputIds = "input_ids", tokenTypeIds = "token_type_ids"
    }

    static func load(_ name: String) throws -> GradientFixture {
        try JSONDecoder().decode(GradientFixture.self, from: Data(contentsOf: Fixtures.url("gradients/\(name)/meta.json")))
    }

    /// The target the fixture differentiated.
    func gradientTarget(_ name: String) throws -> GradientTarget {
        switch target.kind {
        case "classLogit": return .classLogit(try #require(target.resolved))
        case "tokenCosine": return .tokenCosine(token: try #require(target.token), to: try #require(target.to))
        case "pooledCosine": return .pooledCosine(to: try fixtureTensor("gradients/\(name)/reference.npy").values)
        case "meanPooledCosine": return .meanPooledCosine(to: try fixtureTensor("gradients/\(name)/reference.npy").values)
        default: throw GradientTargetError.unsupported("fixture target \(target.kind)")
        }
    }
}

/// `max |a - b| / max |b|` over `b`'s slice `[start, start + count)` (the per-layer relative error).
func relativeError(_ a: Tensor, _ b: Tensor, start: Int = 0, count: Int? = nil) -> Float {
    let count = count ?? b.values.count
    var diff: Float = 0, scale: Float = 0
    for i in start ..< start + count {
        diff = max(diff, abs(a.values[i] - b.values[i]))
        scale = max(scale, abs(b.values[i]))
    }
    return scale > 0 ? diff / scale : diff
}

/// Gradients equal torch autograd on the committed fixtures (tools/make_gradient_fixtures.py).
///
/// Tolerances: attention gradients and embedding gradients within `1e-5 * max|reference|` per layer
/// (the fixtures' float32-vs-float64 reruns differ by at most 2.7e-6 relative, so 1e-5 leaves a
/// margin of about 4 for the port's own float32 rounding); target value and attentions within 1e-5
/// absolute (cosines and logits are O(1)).
@Suite struct GradientParityTests {
    static let visionCases = [
        "vit-p16-cls-hopper-32x48", "vit-p16-cls-astronaut-64x64",
        "dinov2-reg-astronaut-native", "dinov2-reg-rocket-42x70",
        "clip-vision-astronaut-native", "clip-vision-rocket-32x64",
        "deit-distilled-hopper-native", "deit-distilled-rocket-32x48",
        "dinov2-swiglu-hopper-native", "dinov2-swiglu-rocket-42x56",
    ]
    static let textCases = ["bert-tiny-animal", "bert-tiny-wordpiece"]

    @Test(arguments: visionCases)
    func vision(_ name: String) throws {
        let fixture = try GradientFixture.load(name)
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(fixture.model)").path))
        let pixels = try fixtureTensor(try #require(fixture.pixelValues))
        var recorder = GradientRecorder()
        let result = try model.gradients(pixels, target: try fixture.gradientTarget(name), observer: &recorder)
        try check(name, fixture: fixture, result.value, result.embeddingGradient, recorder, layers: model.spec.layers)
    }

    @Test(arguments: textCases)
    func text(_ name: String) throws {
        let fixture = try GradientFixture.load(name)
        let (model, ids, types) = try fixture.textInputs()
        var recorder = GradientRecorder()
        let result = try model.gradients(ids: ids, typeIds: types, target: try fixture.gradientTarget(name), observer: &recorder)
        try check(name, fixture: fixture, result.value, result.embeddingGradient, recorder, layers: model.spec.layers)
    }

    func check(_ name: String, fixture: GradientFixture, _ value: Float, _ embeddingGradient: Tensor,
               _ recorder: GradientRecorder, layers: Int) throws {
        let dir = "gradients/\(name)"
        #expect(abs(value - fixture.value) <= 1e-5, "value \(value) vs \(fixture.value)")
        #expect(recorder.order == Array((0 ..< layers).reversed()), "layers arrive last first")
        let attentions = compare(recorder.attentions, try fixtureTensor("\(dir)/attentions.npy"))
        #expect(attentions.within(.attention), "attentions: \(attentions)")
        let reference = try fixtureTensor("\(dir)/attention_grads.npy")
        #expect(reference.shape == recorder.gradients.shape)
        let perLayer = reference.values.count / layers
        for layer in 0 ..< layers {
            let error = relativeError(recorder.gradients, reference, start: layer * perLayer, count: perLayer)
            #expect(error <= 1e-5, "layer \(layer) dA: max|diff| / max|dA| = \(error)")
        }
        let embedding = try fixtureTensor("\(dir)/embedding_grads.npy")
        #expect(embedding.shape == embeddingGradient.shape)
        let error = relativeError(embeddingGradient, embedding)
        #expect(error <= 1e-5, "embedding gradient: max|diff| / max|grad| = \(error)")
    }
}
