import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The README's "From Swift" example, run as written (fixture model, smaller size), gives the same
/// arrays as `vitlens analyze` on the same input.
@Suite struct ReadmeSessionTests {
    @Test func swiftExampleEqualsTheCLI() throws {
        let model = Fixtures.url("models/dino-p8").path
        let photo = Fixtures.repositoryRoot.appendingPathComponent("photos/grace_hopper.jpg")

        // As in the README.
        let session = try AnalysisSession(model: model)
        let input = try session.image(at: photo, size: (96, 80))
        var analyses = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1)), MeanAttentionDistance())
        try session.run(input, observer: &analyses)
        let rollout = try #require(analyses.first.first.result).map
        let heads = try #require(analyses.first.second.result).maps
        let distance = try #require(analyses.second.result).mean
        #expect(input.layout.grid == PatchGrid(rows: 12, columns: 10, patchSize: 8))
        #expect(session.provenance(for: input).modelType == "vit")

        // The CLI on the same input.
        let out = CLI.temporaryDirectory("readme").appendingPathComponent("o")
        let r = try CLI.run(["analyze", photo.path, "--model", model, "--size", "96x80", "--out", out.path, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        func array(_ name: String) throws -> Tensor { try NPY.read(out.appendingPathComponent(name)).tensor }
        // Bit-identical on the packed AVX-512 kernels (ThreadCountTests). Without AVX-512 the patch
        // embedding and rollout's products go through BLAS, and OpenBLAS 0.3.21's Haswell kernels
        // round differently with another thread count, which other suites set while this one runs:
        // the comparison allows float32 rounding. Mean distances are about
        // 40 pixels, where one float32 ulp is 3.8e-6, so they get 1e-5; the maps (below 1) 1e-6.
        for (name, swift, tolerance) in [("rollout.npy", rollout, Tolerance.pixels), ("cls_attention.npy", heads, .pixels),
                                         ("mean_attention_distance.npy", distance, .attention)] {
            let c = compare(try array(name), swift)
            #expect(c.within(tolerance), "\(name): \(c)")
        }
        #expect(rollout.shape == [12, 10] && heads.shape == [3, 12, 10] && distance.shape == [2, 3])
    }

    @Test func sentencesAndSavedStacksGoThroughTheSameSession() throws {
        let session = try AnalysisSession(model: Fixtures.url("models/bert-tiny").path)
        let input = try session.sentence("The animal didn't cross the street because it was too tired")
        var recorder = AttentionRecorder()
        guard case .text(let output) = try session.run(input, observer: &recorder) else { Issue.record("not a text output"); return }
        let t = try #require(input.encoding).ids.count
        #expect(output.hiddenState.shape[0] == t && recorder.attentions.shape == [2, 2, t, t])
        #expect(throws: SessionError.needsImageModel(model: Fixtures.url("models/bert-tiny/config.json").path)) {
            try session.image(at: Fixtures.repositoryRoot.appendingPathComponent("photos/rocket.jpg"))
        }
        #expect(throws: TextInputError.noTokens) { try session.sentence(" \t ") }
        // Replaying the recorded stack through a model-less session gives the same rollout.
        let file = CLI.temporaryDirectory("replay").appendingPathComponent("a.npy")
        try NPY.encode(float32: recorder.attentions.values, shape: recorder.attentions.shape).write(to: file)
        let saved = try AnalysisSession().savedAttentions(at: file, layout: input.layout)
        let readout = Rollout.Options(readout: .query(.token(0)))
        var a = try Rollout(readout), b = try Rollout(readout)
        try session.run(input, observer: &a)
        try AnalysisSession().run(saved, observer: &b)
        #expect(try #require(a.result).map == (try #require(b.result).map))
        #expect(try saved.layerIndex(-1) == 1)
        #expect(throws: SessionError.layerOutOfRange(option: "--layer", layer: 2, layers: 2)) { try saved.layerIndex(2) }
    }
}
