import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The process-wide recorder around fixture forwards. The only suite that enables it; serialized so
/// that its tests do not switch it under one another. (Other suites' forwards may add to the totals
/// while it is on, so exact flop counts are checked in a process of their own: BenchCLITests.)
@Suite(.serialized) struct OpProfileForwardTests {
    func pixels(_ h: Int, _ w: Int) -> Tensor {
        var rng = UInt64(11)
        return Tensor(shape: [3, h, w], values: (0 ..< 3 * h * w).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(rng >> 40) / Float(1 << 24) * 2 - 1
        })
    }

    func model(_ name: String) throws -> VisionTransformer {
        try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(name)").path))
    }

    /// Disabled (the default), a forward records nothing and `start()` reads no clock.
    @Test func disabledRecordsNothing() throws {
        #expect(!OpProfile.isEnabled)
        OpProfile.reset()
        #expect(OpProfile.start() == 0)
        OpProfile.stop(.softmax, 0)
        OpProfile.stopGEMM(.qkvGEMM, 0, m: 2, n: 3, k: 4)
        var trio = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1, query: .cls)), MeanAttentionDistance())
        _ = try model("vit-p16-cls").forward(pixels(224, 224), observer: &trio)
        #expect(OpProfile.totals().isEmpty, "\(OpProfile.totals().entries)")
    }

    /// Enabled, every instrumented kind that runs has time and calls (SwiGLU's gate and the layer
    /// scale on dinov2-swiglu, GELU and the logits copy on vit-p16-cls), and the outputs are bit for
    /// bit those of a forward with the recorder off.
    @Test(arguments: ["vit-p16-cls", "dinov2-swiglu"])
    func enabledForwardRecordsEveryKindAndChangesNothing(_ name: String) throws {
        let m = try model(name)
        let x = pixels(m.imageSize, m.imageSize)
        var inPass = false
        func run() throws -> (VisionOutput, [Float]) {
            var trio = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1, query: .cls)),
                                    ObserverPair(MeanAttentionDistance(), AttentionRecorder()))
            let out = try m.forward(x, observer: &trio)
            inPass = !trio.rowStatistics.isEmpty
            let rollout = try #require(trio.first.first.result).map.values
            let attentions = trio.second.second.attentions.values
            return (out, rollout + attentions)
        }
        let (plain, plainMaps) = try run()
        OpProfile.reset()
        OpProfile.isEnabled = true
        let profiled: (VisionOutput, [Float])
        do {
            defer { OpProfile.isEnabled = false }
            profiled = try run()
        }
        let totals = OpProfile.totals()
        #expect(profiled.0.hiddenState.values.map(\.bitPattern) == plain.hiddenState.values.map(\.bitPattern))
        #expect(profiled.0.pooled?.values.map(\.bitPattern) == plain.pooled?.values.map(\.bitPattern))
        #expect(profiled.0.logits?.values.map(\.bitPattern) == plain.logits?.values.map(\.bitPattern))
        #expect(profiled.1.map(\.bitPattern) == plainMaps.map(\.bitPattern))
        #expect(!plainMaps.isEmpty)

        var expected: [OpProfile.Kind] = [.qkvGEMM, .attentionOutputGEMM, .mlpUpGEMM, .mlpDownGEMM, .layerNorm, .activation, .residual,
                                          .finiteChecks, .observers, .attention, .attentionScores, .softmax, .attentionValues]
        // The packed Linear kernel adds the biases in its products.
        if LinearKernel.current == .blas { expected.append(.biasAdd) }
        // The packed kernel's softmax scans the scores itself (no bias or mask here).
        if AttentionKernel.current == .blas { expected.append(.attentionFiniteChecks) }
        if name == "vit-p16-cls" { expected.append(.otherGEMM) }  // the classifier
        // That copies, the bias/mask and the logits copy stay unrecorded without a tape, a bias, a mask or
        // logits is checked in a process of its own (BenchCLITests): here other suites' forwards,
        // running at the same time, may add them.
        #expect((totals[.rowStatistics].calls > 0) == inPass, "\(name): row statistics run when an observer has them")
        for kind in expected {
            #expect(totals[kind].calls > 0 && totals[kind].nanoseconds > 0, "\(name): \(kind.name) \(totals[kind])")
            #expect((totals[kind].flops > 0) == kind.isGEMM, "\(name): \(kind.name) \(totals[kind])")
        }
    }
}
