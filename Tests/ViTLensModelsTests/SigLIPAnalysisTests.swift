import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The attention analyses on SigLIP (no CLS, the pooling head's probe delivered as layer `L`):
/// rollout reads the probe, head maps of the last layer are the probe's per-head attention, DINO
/// masks and mean attention distance cover all `L + 1` layers.
@Suite struct SigLIPAnalysisTests {
    static let caseName = "siglip-vision-rocket-40x64"

    /// The probe's attention `[heads, N]` from the fixture.
    static func probe() throws -> Tensor { try fixtureTensor("cases/\(caseName)/probe_attention.npy") }

    /// Default rollout = mean-over-heads probe row times the rollout of the encoder layers.
    @Test func rolloutReadsTheProbe() throws {
        let (model, pixels, _) = try SigLIPVisionTests.model(Self.caseName)
        let l = model.spec.layers
        var rollout = try Rollout()
        _ = try model.forward(pixels, observer: &rollout)
        let result = try #require(rollout.result)
        #expect(result.layers == 0 ... l)

        var encoderOnly = try Rollout(.init(lastLayer: l - 1, readout: .query(.token(0)), strategy: .fullProduct))
        _ = try model.forward(pixels, observer: &encoderOnly)
        let r = try #require(encoderOnly.result?.matrix)
        let probe = try Self.probe()
        let (h, n) = (probe.shape[0], probe.shape[1])
        let u = (0 ..< n).map { j in (0 ..< h).reduce(Float(0)) { $0 + probe.values[$1 * n + j] } / Float(h) }
        let expected = (0 ..< n).map { j in (0 ..< n).reduce(Float(0)) { $0 + u[$1] * r.values[$1 * n + j] } }
        let c = compare(Tensor(shape: [n], values: result.row), Tensor(shape: [n], values: expected))
        #expect(c.within(.attention), "\(c)")
        #expect(abs(result.row.reduce(0, +) - 1) < 1e-5)
        #expect(result.clsMass == nil && result.map.shape == [5, 8])

        // The stored-layers strategy gives the same row.
        var stored = try Rollout(.init(strategy: .storedLayers))
        _ = try model.forward(pixels, observer: &stored)
        #expect(compare(Tensor(shape: [n], values: try #require(stored.result).row), Tensor(shape: [n], values: result.row)).within(.attention))

        // Only the pooling head's layer: the readout is the probe itself.
        var last = try Rollout(.init(firstLayer: -1))
        _ = try model.forward(pixels, observer: &last)
        #expect(compare(Tensor(shape: [n], values: try #require(last.result).row), Tensor(shape: [n], values: u)).within(.attention))
    }

    /// Head maps of the last layer are the probe's attention per head; at an encoder layer the
    /// layout has no CLS row.
    @Test func headMapsAndMasks() throws {
        let (model, pixels, _) = try SigLIPVisionTests.model(Self.caseName)
        var maps = HeadMaps()
        _ = try model.forward(pixels, observer: &maps)
        let result = try #require(maps.result)
        #expect(result.layer == model.spec.layers)
        let c = compare(result.rows, try Self.probe())
        #expect(c.within(.attention), "\(c)")
        #expect(result.maps.shape == [2, 5, 8])
        let masks = try result.masks(threshold: 0.6)
        #expect(masks.shape == [2, 5, 8])
        #expect(masks.keptMass.allSatisfy { $0 >= 0.6 && $0 <= 1 })

        var first = HeadMaps(layer: 0)
        #expect(throws: AnalysisError.self) { _ = try model.forward(pixels, observer: &first) }
    }

    /// Mean attention distance covers the encoder layers and the pooling head's layer.
    @Test func distanceCoversThePoolingLayer() throws {
        let (model, pixels, _) = try SigLIPVisionTests.model(Self.caseName)
        var distance = MeanAttentionDistance()
        _ = try model.forward(pixels, observer: &distance)
        let result = try #require(distance.result)
        #expect(result.layers == model.spec.layers + 1)
        // Layer L: the probe's attention weighted by patch distances, averaged over the patches.
        let probe = try Self.probe()
        let grid = PatchGrid(rows: 5, columns: 8, patchSize: 8)
        let d = MeanAttentionDistance.distanceMatrix(grid).values
        let n = grid.count
        for h in 0 ..< 2 {
            var sum: Float = 0
            for i in 0 ..< n { for j in 0 ..< n { sum += probe.values[h * n + j] * d[i * n + j] } }
            #expect(abs(result.value(layer: model.spec.layers, head: h) - sum / Float(n)) < 1e-3)
        }
    }
}
