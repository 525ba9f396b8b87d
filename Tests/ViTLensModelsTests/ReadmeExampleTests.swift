import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The README's "From Swift" example, run as written on a fixture model.
@Suite struct ReadmeExampleTests {
    @Test func oneForwardFeedsThreeAnalyses() throws {
        let pipeline = try VisionPipeline(model: Fixtures.url("models/dino-p8").path)
        let image = try pipeline.prepare(Fixtures.repositoryRoot.appendingPathComponent("photos/grace_hopper.jpg"), size: (96, 80))
        var analyses = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1)), MeanAttentionDistance())
        let output = try pipeline.run(image, observer: &analyses)
        let rollout = try #require(analyses.first.first.result).map
        let heads = try #require(analyses.first.second.result).maps
        let distance = try #require(analyses.second.result).mean
        #expect(output.layout.grid == PatchGrid(rows: 12, columns: 10, patchSize: 8))
        #expect(rollout.shape == [12, 10] && heads.shape == [3, 12, 10] && distance.shape == [2, 3])
        // CLS rows over patches sum to at most 1, and rollout's patch mass is positive.
        for h in 0 ..< 3 { #expect(heads.slice(h).values.reduce(0, +) <= 1.0001) }
        #expect(rollout.values.reduce(0, +) > 0)
    }
}
