import Foundation
import Testing
import ViTLens
@testable import ViTLensModels
import ViTLensTestSupport

/// Gradients through BEiT's relative position bias (a constant in the scores), layer scale and the
/// mean-pooling head: central finite differences through the Swift forward, and gradient
/// checkpointing giving the same numbers.
@Suite struct BEiTGradientTests {
    func model(_ name: String) throws -> VisionTransformer {
        try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(name)").path))
    }

    static let targets: [(model: String, pixels: String, target: String)] = [
        ("beit-rel", "beit-rel-astronaut-48x80", "class:2"),
        ("beit-rel", "beit-rel-hopper-native", "pooled"),
        ("data2vec-vision", "data2vec-vision-rocket-80x48", "top1"),
        ("beit-shared", "beit-shared-hopper-64x40", "token:0,5"),
        ("beit-shared", "beit-shared-rocket-native", "pooled"),
    ]

    func target(_ spec: String, _ model: VisionTransformer) -> GradientTarget {
        switch spec {
        case "class:2": return .classLogit(2)
        case "top1": return .topClassLogit
        case "token:0,5": return .tokenCosine(token: 0, to: 5)
        default: return .pooledCosine(to: (0 ..< model.spec.hidden).map { Float($0 % 5) - 1.5 })
        }
    }

    /// GradientCheckTests' check: `h = 1e-2` central differences in Double on the largest and a few
    /// spread entries of dTarget/dEmbeddings, within `1e-3 * max|gradient|`.
    @Test(arguments: 0 ..< 5)
    func finiteDifferences(_ i: Int) throws {
        let c = Self.targets[i]
        let model = try model(c.model)
        let pixels = try fixtureTensor("cases/\(c.pixels)/pixel_values.npy")
        let target = target(c.target, model)
        let analytic = try GradientCheckTests.expectFiniteDifferencesAgree(model, pixels, target)
        // The value is the forward's: the logit, the cosine of the pooled vector.
        let value = try model.targetValue(target, pixels: pixels)
        #expect(abs(value - analytic.value) <= 1e-5, "\(value) vs \(analytic.value)")
    }

    /// torch autograd's gradient of one class logit (tools/make_beit_fixtures.py): every layer's
    /// dLogit/dA_l and dLogit/dEmbeddings, through the resized relative position bias.
    @Test(arguments: [("beit-rel", "beit-rel-astronaut-48x80", 2), ("data2vec-vision", "data2vec-vision-rocket-80x48", 4)])
    func gradientsMatchTorchAutograd(_ name: String, _ ref: String, _ index: Int) throws {
        let model = try model(name)
        let dir = "cases/\(ref)"
        var recorder = GradientRecorder()
        let result = try model.gradients(try fixtureTensor("\(dir)/pixel_values.npy"), target: .classLogit(index), observer: &recorder)
        let logits = try fixtureTensor("\(dir)/logits.npy")
        #expect(abs(result.value - logits.values[index]) <= 1e-4)
        let embeddings = compare(result.embeddings, try fixtureTensor("\(dir)/embeddings.npy"))
        #expect(embeddings.within(.hidden), "embeddings: \(embeddings)")
        let attention = compare(recorder.gradients, try fixtureTensor("\(dir)/attention_gradients.npy"))
        #expect(attention.within(.hidden), "dLogit/dA: \(attention)")
        let input = compare(result.embeddingGradient, try fixtureTensor("\(dir)/embedding_gradient.npy"))
        #expect(input.within(.hidden), "dLogit/dE: \(input)")
    }

    /// Recomputing each layer during the backward resolves the bias again: identical gradients.
    @Test func recomputeGivesTheSameGradients() throws {
        let model = try model("beit-rel")
        let pixels = try fixtureTensor("cases/beit-rel-astronaut-48x80/pixel_values.npy")
        var a = GradientRecorder(), b = GradientRecorder()
        let stored = try model.gradients(pixels, target: .classLogit(1), observer: &a)
        let recomputed = try model.gradients(pixels, target: .classLogit(1), recompute: true, observer: &b)
        #expect(stored.embeddingGradient.values == recomputed.embeddingGradient.values)
        #expect(a.gradients.values == b.gradients.values)
        // The recorded attentions are the forward's (bias included).
        let c = compare(a.attentions, try fixtureTensor("cases/beit-rel-astronaut-48x80/attentions.npy"))
        #expect(c.within(.attention), "\(c)")
    }
}
