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

/// Records whether each layer's probabilities were delivered, and asks for none.
struct ProbabilitiesSeen: AttentionObserver {
    var delivered: [Bool] = []
    func needsProbabilities(layer: Int) -> Bool { false }
    mutating func observe(_ a: LayerAttention) throws { delivered.append(a.hasProbabilities) }
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

    /// When no observer reads a layer's probabilities (rollout's stored layers, head maps and
    /// distance all work inside the pass), the pass keeps one block of rows per thread instead of
    /// `[heads, N, N]`, and every result is bit for bit what it is when the layer is kept.
    @Test func passWithoutKeptLayersEqualsPassWithThem() throws {
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/dino-p8").path))
        var rng = UInt64(11)
        let pixels = Tensor(shape: [3, 136, 136], values: (0 ..< 3 * 136 * 136).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(rng >> 40) / Float(1 << 24) * 2 - 1
        })
        func analyses() throws -> ObserverPair<ObserverPair<Rollout, HeadMaps>, MeanAttentionDistance> {
            ObserverPair(ObserverPair(try Rollout(.init(strategy: .storedLayers)), HeadMaps(layer: -1, query: .cls)), MeanAttentionDistance())
        }
        var lean = ObserverPair(try analyses(), ProbabilitiesSeen())
        #expect(lean.first.needsProbabilities(layer: 0), "before begin nothing is known: rollout's kernel is made in begin")
        _ = try model.forward(pixels, observer: &lean)
        #expect(lean.second.delivered == [false, false], "no layer should be kept when nobody reads it")

        var kept = ObserverPair(try analyses(), ObserverPair(ProbabilitiesSeen(), AttentionRecorder()))
        _ = try model.forward(pixels, observer: &kept)
        #expect(kept.second.first.delivered == [true, true])

        let (a, b) = (lean.first, kept.first)
        #expect(try #require(a.first.first.result).row == (try #require(b.first.first.result).row))
        #expect(a.first.first.layersFusedInPass == 2)
        #expect(try #require(a.first.second.result).rows == (try #require(b.first.second.result).rows))
        #expect(try #require(a.second.result).mean == (try #require(b.second.result).mean))
        // The head maps equal the recorded last layer's CLS rows.
        let recorded = kept.second.second.attentions
        let n = recorded.shape[3], heads = recorded.shape[1]
        let rows = try #require(a.first.second.result).rows.values
        for h in 0 ..< heads {
            let start = ((1 * heads + h) * n + 0) * n
            #expect(Array(rows[h * n ..< (h + 1) * n]) == Array(recorded.values[start ..< start + n]), "head \(h)")
        }
    }
}
