import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Hides an observer's row statistics, forcing its whole-layer path.
struct WholeLayerOnly<O: AttentionObserver>: AttentionObserver {
    var inner: O
    var captureOptions: CaptureOptions { inner.captureOptions }
    mutating func begin(_ g: AttentionGeometry) throws { try inner.begin(g) }
    mutating func observe(_ a: LayerAttention) throws { try inner.observe(a) }
    mutating func finish() throws { try inner.finish() }
}

/// Rollout and mean attention distance computed inside the attention pass (row statistics, used for
/// large grids) equal the same analyses computed from the finished layers.
@Suite struct InPassStatisticsTests {
    @Test(arguments: [(0.0, HeadFusion.mean), (0.5, HeadFusion.max), (0.3, HeadFusion.min), (0.2, HeadFusion.head(2)),
                      (0.3, HeadFusion.std)])
    func inPassEqualsWholeLayer(_ discard: Double, _ fusion: HeadFusion) throws {
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/dino-p8").path))
        var rng = UInt64(7)
        let pixels = Tensor(shape: [3, 136, 136], values: (0 ..< 3 * 136 * 136).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(rng >> 40) / Float(1 << 24) * 2 - 1
        })
        let options = Rollout.Options(fusion: fusion, discardRatio: discard, strategy: .storedLayers)
        var fast = ObserverPair(try Rollout(options), MeanAttentionDistance())
        var recorder = AttentionRecorder()
        var pair = ObserverPair(fast, recorder)
        _ = try model.forward(pixels, observer: &pair)
        fast = pair.first
        recorder = pair.second
        // std needs every head at once, so it takes the whole-layer path.
        #expect(fast.first.layersFusedInPass == (fusion == .std ? 0 : 2), "layers fused inside the pass")
        #expect(fast.second.rowStatistics.count == 1, "distance should run inside the pass at 17x17 patches")

        var slow = ObserverPair(WholeLayerOnly(inner: try Rollout(options)), WholeLayerOnly(inner: MeanAttentionDistance()))
        #expect(slow.rowStatistics.isEmpty)
        let replay = try AttentionArrayFile(attentions: recorder.attentions, layout: model.layout(height: 136, width: 136), name: "recorded")
        try replay.replay(into: &slow)

        let a = try #require(fast.first.result), b = try #require(slow.first.inner.result)
        let c = compare(a.map, b.map)
        #expect(c.within(Tolerance(1e-6, name: "in-pass")), "rollout: \(c)")
        let d = compare(try #require(fast.second.result).mean, try #require(slow.second.inner.result).mean)
        #expect(d.within(Tolerance(1e-3, name: "pixels")), "distance: \(d)")
    }
}
