import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The forward-only target evaluator, the curves on fixture models, and the weight-shuffled copies.
@Suite struct FaithfulnessModelTests {
    func files(_ name: String) throws -> ModelFiles { try ModelLocator.resolve(Fixtures.url("models/\(name)").path) }
    func model(_ name: String) throws -> VisionTransformer { try ModelLoader.loadVision(try files(name)) }

    /// A smooth deterministic model input `[3, H, W]` in about [-2, 2].
    func pixels(_ h: Int, _ w: Int) -> Tensor {
        Tensor(shape: [3, h, w], values: (0 ..< 3 * h * w).map { i in
            let (c, y, x) = (i / (h * w), (i / w) % h, i % w)
            return 1.5 * sinf(0.21 * Float(x) + 0.13 * Float(y) + Float(c)) + 0.4 * cosf(0.05 * Float(x * y))
        })
    }

    func vector(_ d: Int) -> [Float] { (0 ..< d).map { sinf(Float($0) * 0.7 + 0.3) } }

    /// The plain forward's target equals the gradient engine's value: the same forward kernels, the
    /// same pooled vector, so only the summation order of the taped forward could differ (measured:
    /// equal to the last bit on these cases; allowed 1e-5 relative).
    @Test(arguments: ["vit-p16-cls", "deit-distilled", "clip-vision", "dinov2", "dinov2-reg"])
    func targetValueMatchesGradientEngine(_ name: String) throws {
        let model = try model(name)
        let p = model.patchSize
        let x = pixels(2 * p, 3 * p)
        var targets: [GradientTarget] = [.pooledCosine(to: vector(model.spec.hidden)), .tokenCosine(token: 0, to: 2)]
        if model.classCount != nil { targets.append(.classLogit(1)) }
        for t in targets {
            var none = NoGradientObserver()
            let expected = try model.gradients(x, target: t, observer: &none).value
            let value = try model.targetValue(t, pixels: x)
            #expect(abs(value - expected) <= 1e-5 * max(1, abs(expected)), "\(name) \(t)")
        }
        #expect(throws: GradientTargetError.self) { try model.targetValue(.meanPooledCosine(to: vector(model.spec.hidden)), pixels: x) }
    }

    /// Deletion starts at the image's value and ends at the baseline image's; insertion the reverse.
    @Test func curveEndpointsOnFixture() throws {
        let model = try model("vit-p16-cls")
        let x = pixels(64, 64)
        let map = Tensor(shape: [4, 4], values: (0 ..< 16).map { Float(($0 * 7) % 16) })
        for baseline in [PerturbationBaseline.channelMean, .boxBlur(radius: 4)] {
            let report = try model.faithfulness(pixels: x, target: .classLogit(0), methods: [("m", map)], steps: 8,
                                                baseline: baseline, randomOrders: 2, seed: 5)
            let base = try baseline.image(for: x)
            let full = Double(try model.targetValue(.classLogit(0), pixels: x))
            let empty = Double(try model.targetValue(.classLogit(0), pixels: base))
            #expect(full != empty)
            let m = report.methods[0].curves
            #expect(m.deletion.values.first == full && m.deletion.values.last == empty)
            #expect(m.insertion.values.first == empty && m.insertion.values.last == full)
            #expect(m.deletion.fractions == (0 ... 8).map { Double($0) / 8 })
            #expect(report.forwards == 2 * 3 * 9 && report.patches == 16 && report.baseline == baseline.name)
            let svg = report.svg(insertion: false)
            #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        }
        #expect(throws: FaithfulnessError.mapShape(found: [2, 8], expected: [4, 4])) {
            try model.faithfulness(pixels: x, target: .classLogit(0), methods: [("m", Tensor(zeros: [2, 8]))])
        }
        #expect(throws: GradientTargetError.classOutOfRange(index: 99, classes: model.classCount ?? 0)) {
            try model.faithfulness(pixels: x, target: .classLogit(99), methods: [("m", map)])
        }
    }

    /// The same seed writes the same weights; the shuffle changes the model; the cascade from the
    /// top leaves the embeddings and lower layers alone.
    @Test func shuffledCopyIsSeededAndScoped() throws {
        let source = try files("vit-p16-cls")
        let folder = try temporaryFolder("faith-shuffle")
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = try ModelRandomization.shuffledCopy(of: source, randomization: .all, seed: 9, into: folder.appendingPathComponent("a"))
        let b = try ModelRandomization.shuffledCopy(of: source, randomization: .all, seed: 9, into: folder.appendingPathComponent("b"))
        let c = try ModelRandomization.shuffledCopy(of: source, randomization: .topLayers(1), seed: 9, into: folder.appendingPathComponent("c"))
        #expect(try Data(contentsOf: a.weights) == Data(contentsOf: b.weights))
        let original = try SafeTensorsArchive(url: source.weights), top = try SafeTensorsArchive(url: c.weights)
        let all = try SafeTensorsArchive(url: a.weights)
        let q0 = "vit.encoder.layer.0.attention.attention.query.weight", q1 = "vit.encoder.layer.1.attention.attention.query.weight"
        #expect(try top.floats(q0) == original.floats(q0))
        #expect(try top.floats(q1) != original.floats(q1))
        #expect(try top.floats(q1).sorted() == original.floats(q1).sorted())
        #expect(try all.floats("vit.embeddings.patch_embeddings.projection.weight") != original.floats("vit.embeddings.patch_embeddings.projection.weight"))
        let x = pixels(32, 32)
        let before = try model("vit-p16-cls").forward(x).logits?.values
        let after = try ModelLoader.loadVision(a).forward(x).logits?.values
        #expect(before != nil && before != after)
        #expect(throws: FaithfulnessError.randomizedLayers(3, layers: 2)) {
            try ModelRandomization.shuffledCopy(of: source, randomization: .topLayers(3), seed: 1, into: folder.appendingPathComponent("d"))
        }
    }
}
