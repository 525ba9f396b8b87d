import Foundation
import Testing
import ViTLens
@testable import ViTLensModels
import ViTLensTestSupport

/// Independent checks of the analytic gradients: central finite differences through the Swift
/// forward, bad targets, and the memory estimate.
@Suite struct GradientCheckTests {
    func model(_ name: String) throws -> VisionTransformer {
        try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(name)").path))
    }

    /// `(f(x + h e_i) - f(x - h e_i)) / 2h` in Double on the largest-gradient entries and a few
    /// spread ones, through `gradients(embeddings:...)`'s Float32 forward. With `h = 1e-2`, the
    /// truncation error (`h^2 f''' / 6`) and the rounding error (`~1e-7 |f| / h`) are both about
    /// 1e-5 (measured: at most 1.2e-4 of max|gradient| on these cases), so the difference must agree
    /// with the analytic entry to `1e-3 * max|gradient|`.
    @Test(arguments: [
        ("vit-p16-cls", "gradients/vit-p16-cls-hopper-32x48"), ("dinov2-reg", "gradients/dinov2-reg-rocket-42x70"),
        ("clip-vision", "gradients/clip-vision-rocket-32x64"), ("deit-distilled", "gradients/deit-distilled-rocket-32x48"),
        ("dinov2-swiglu", "gradients/dinov2-swiglu-rocket-42x56"),
    ])
    func finiteDifferences(_ modelName: String, _ dir: String) throws {
        let model = try model(modelName)
        let name = String(dir.split(separator: "/").last ?? "")
        let fixture = try GradientFixture.load(name)
        let target = try fixture.gradientTarget(name)
        let pixels = try fixtureTensor(try #require(fixture.pixelValues))
        try Self.expectFiniteDifferencesAgree(model, pixels, target)
    }

    /// The check of ``finiteDifferences(_:_:)`` for `target` on `pixels` (shared with the BEiT tests).
    /// - Returns: the analytic result.
    @discardableResult
    static func expectFiniteDifferencesAgree(_ model: VisionTransformer, _ pixels: Tensor, _ target: GradientTarget,
                                             sourceLocation: SourceLocation = #_sourceLocation) throws -> GradientResult<VisionOutput> {
        var none = NoGradientObserver()
        let analytic = try model.gradients(pixels, target: target, observer: &none)
        let layout = analytic.output.layout
        let g = analytic.embeddingGradient.values
        let scale = g.map(abs).max() ?? 0
        #expect(scale > 0, sourceLocation: sourceLocation)
        let largest = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(4)
        let entries = Array(largest) + [0, g.count / 3, g.count / 2, g.count - 1]
        let h: Float = 1e-2
        for i in entries {
            var plus = analytic.embeddings.values, minus = plus
            plus[i] += h
            minus[i] -= h
            let fp = try model.gradients(embeddings: plus, layout: layout, target: target, observer: &none).value
            let fm = try model.gradients(embeddings: minus, layout: layout, target: target, observer: &none).value
            let fd = (Double(fp) - Double(fm)) / (Double(plus[i]) - Double(minus[i]))
            #expect(abs(fd - Double(g[i])) <= 1e-3 * Double(scale), "entry \(i): finite difference \(fd), analytic \(g[i]), max \(scale)",
                    sourceLocation: sourceLocation)
        }
        return analytic
    }

    @Test func badVisionTargets() throws {
        let vit = try model("vit-p16-cls")
        let pixels = Tensor(zeros: [3, 32, 48])
        var none = NoGradientObserver()
        let cases: [(GradientTarget, GradientTargetError)] = [
            (.classLogit(5), .classOutOfRange(index: 5, classes: 5)),
            (.classLogit(-1), .classOutOfRange(index: -1, classes: 5)),
            (.pooledCosine(to: [1, 2, 3]), .vectorLength(found: 3, expected: 32)),
            (.pooledCosine(to: [Float](repeating: 0, count: 32)), .badVector),
            (.pooledCosine(to: [Float](repeating: .nan, count: 32)), .badVector),
            (.tokenCosine(token: 0, to: 7), .tokenOutOfRange(token: 7, tokens: 7)),
            (.meanPooledCosine(to: [Float](repeating: 1, count: 32)),
             .unsupported("mean-pooled cosine is a text target: use the pooled cosine for image models")),
        ]
        for (target, expected) in cases {
            #expect(throws: expected) { try vit.gradients(pixels, target: target, observer: &none) }
            #expect(!expected.description.contains("\n") && !expected.description.isEmpty)
        }
        let dino = try model("dinov2-reg")
        #expect(throws: GradientTargetError.noClassifier(modelType: dino.modelType)) {
            try dino.gradients(Tensor(zeros: [3, 28, 28]), target: .classLogit(0), observer: &none)
        }
        #expect(throws: ModelInputError.self) { try vit.gradients(Tensor(zeros: [3, 8, 8]), target: .classLogit(0), observer: &none) }
    }

    @Test func badTextTargets() throws {
        guard case .text(let bert) = try ModelLoader.load(try ModelLocator.resolve(Fixtures.url("models/bert-tiny").path)) else {
            Issue.record("bert-tiny is not a text model")
            return
        }
        var none = NoGradientObserver()
        let ids = [2, 5, 6, 3]
        #expect(throws: GradientTargetError.noClassifier(modelType: bert.modelType)) {
            try bert.gradients(ids: ids, target: .classLogit(0), observer: &none)
        }
        #expect(throws: GradientTargetError.vectorLength(found: 2, expected: 32)) {
            try bert.gradients(ids: ids, target: .meanPooledCosine(to: [1, 2]), observer: &none)
        }
        #expect(throws: GradientTargetError.tokenOutOfRange(token: 4, tokens: 4)) {
            try bert.gradients(ids: ids, target: .tokenCosine(token: 4, to: 0), observer: &none)
        }
        #expect(throws: GradientTargetError.self) {
            try bert.gradients(ids: ids, target: .pooledCosine(to: [Float](repeating: 1, count: 32)), observer: &none)
        }
    }

    /// The estimate adds exactly the tape, the backward scratch and four `[N, D]` arrays to the
    /// forward's, counts the recorder, and a limit below it refuses.
    @Test func memoryEstimate() throws {
        let vit = try model("vit-p16-cls")
        let spec = vit.spec
        let n = 7, d = spec.hidden, ff = 64
        let forward = vit.memoryEstimate(height: 32, width: 48, observer: NoObserver())
        let backward = vit.gradientMemoryEstimate(height: 32, width: 48, observer: GradientRecorder())
        let tape = 4 * spec.layers * (5 * n * d + spec.heads * n * n + n * ff)
        let scratch = 4 * (7 * n * d + n * ff + n + spec.heads * n * n)
        #expect(backward.forward - forward.forward == tape + scratch + 4 * 4 * n * d)
        #expect(backward.observers == 4 * 2 * spec.layers * spec.heads * n * n)
        #expect(throws: MemoryLimitError.self) { try backward.check(limit: backward.total - 1) }
    }
}
