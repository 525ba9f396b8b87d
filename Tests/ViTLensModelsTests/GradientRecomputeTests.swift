import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Gradient checkpointing (`recompute: true`): the same value, attentions, attention gradients and
/// embedding gradient as the stored-activation path on every gradient fixture (every family with
/// gradients, native and non-square sizes), and the smaller memory estimate the budget checks.
///
/// Tolerance: each recomputed layer runs the same kernels on the same input, so the results are
/// bit-identical when OpenBLAS splits its work the same way; other suites calling BLAS from other
/// threads may change that split, so the test allows `1e-7 * max|reference|` per tensor.
@Suite struct GradientRecomputeTests {
    struct Pass {
        var value: Float
        var embeddingGradient: Tensor
        var recorder: GradientRecorder
    }

    func expectSame(_ name: String, _ a: Pass, _ b: Pass) {
        #expect(a.value == b.value || abs(a.value - b.value) <= 1e-7 * max(1, abs(b.value)), "\(name): value \(a.value) vs \(b.value)")
        #expect(a.recorder.order == b.recorder.order)
        for (label, x, y) in [("attentions", a.recorder.attentions, b.recorder.attentions),
                              ("attention gradients", a.recorder.gradients, b.recorder.gradients),
                              ("embedding gradient", a.embeddingGradient, b.embeddingGradient)] {
            #expect(x.shape == y.shape, "\(name) \(label)")
            let error = relativeError(x, y)
            #expect(error <= 1e-7, "\(name) \(label): max|diff| / max|ref| = \(error)")
        }
    }

    @Test(arguments: GradientParityTests.visionCases)
    func visionMatchesStoredActivations(_ name: String) throws {
        let fixture = try GradientFixture.load(name)
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(fixture.model)").path))
        let pixels = try fixtureTensor(try #require(fixture.pixelValues))
        let target = try fixture.gradientTarget(name)
        func pass(_ recompute: Bool) throws -> Pass {
            var recorder = GradientRecorder()
            let r = try model.gradients(pixels, target: target, recompute: recompute, observer: &recorder)
            return Pass(value: r.value, embeddingGradient: r.embeddingGradient, recorder: recorder)
        }
        expectSame(name, try pass(true), try pass(false))
    }

    @Test(arguments: GradientParityTests.textCases)
    func textMatchesStoredActivations(_ name: String) throws {
        let fixture = try GradientFixture.load(name)
        let (model, ids, types) = try fixture.textInputs()
        let target = try fixture.gradientTarget(name)
        func pass(_ recompute: Bool) throws -> Pass {
            var recorder = GradientRecorder()
            let r = try model.gradients(ids: ids, typeIds: types, target: target, recompute: recompute, observer: &recorder)
            return Pass(value: r.value, embeddingGradient: r.embeddingGradient, recorder: recorder)
        }
        expectSame(name, try pass(true), try pass(false))
    }

    /// The stored activations drop from `4 L (5 N D + heads N^2 + N ff)` to `4 (L N D + 5 N D + heads N^2 + N ff)`
    /// bytes, and that is the number the budget checks.
    @Test func memoryEstimateUsesTheReducedTape() throws {
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/dino-p8").path))
        let s = model.spec
        let stored = model.gradientMemoryEstimate(height: 480, width: 480, observer: NoGradientObserver())
        let recomputed = model.gradientMemoryEstimate(height: 480, width: 480, recompute: true, observer: NoGradientObserver())
        let n = 1 + 60 * 60
        #expect(stored.tokens == n && recomputed.tokens == n)
        let perLayer = 4 * (5 * n * s.hidden + s.heads * n * n + n * 96)
        #expect(stored.forward - recomputed.forward == s.layers * perLayer - 4 * s.layers * n * s.hidden - perLayer)
        #expect(stored.weights == recomputed.weights && stored.observers == recomputed.observers)
        // A budget between the two refuses the stored pass before it runs and lets the recomputed one through.
        let limit = (stored.total + recomputed.total) / 2
        #expect(throws: MemoryLimitError.self) { try stored.check(limit: limit) }
        try recomputed.check(limit: limit)
    }
}
