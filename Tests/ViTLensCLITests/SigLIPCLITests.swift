import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The CLI analyses on the SigLIP fixture (no CLS; the pooling head's probe is layer L = 2): the
/// layout written is the grid alone and names the pooling head's layer, the default readout is the
/// probe, also for `explain`.
@Suite("SigLIPCLI") struct SigLIPCLITests {
    let model = Fixtures.url("models/siglip-vision").path

    func out(_ tag: String) -> URL { CLI.temporaryDirectory("siglip-\(tag)") }

    /// The written JSON's layout: no prefix, the 6x6 grid of the 48 px input, pooling head at layer 2.
    func expectLayout(_ json: URL) throws {
        let text = try String(contentsOf: json, encoding: .utf8)
        #expect(text.contains("\"poolingHeadLayer\" : 2") && text.contains("\"tokens\" : 36"), "\(text)")
        #expect(text.contains("\"rows\" : 6") && text.contains("\"columns\" : 6"), "\(text)")
    }

    @Test func rolloutReadsTheProbe() throws {
        let dir = out("rollout")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["rollout", "photos/astronaut.png", "--model", model, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let map = try NPY.read(dir.appendingPathComponent("rollout.npy"))
        #expect(map.shape == [6, 6])
        // No CLS and no prefix: the probe's readout row is a distribution over the patches.
        #expect(abs(map.floats.reduce(0, +) - 1) < 1e-4)
        try expectLayout(dir.appendingPathComponent("rollout.json"))
    }

    @Test func headsAreTheProbesMaps() throws {
        let dir = out("heads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["heads", "photos/astronaut.png", "--model", model, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let maps = try NPY.read(dir.appendingPathComponent("cls_attention.npy"))
        #expect(maps.shape == [2, 6, 6])
        // The CLI resizes with the Swift SiglipImageProcessor: bit-identical pixels, so the probe
        // rows equal the fixture's recorded probe attention.
        let probe = try fixtureTensor("cases/siglip-vision-astronaut-native/probe_attention.npy")
        #expect(compare(maps.tensor, Tensor(shape: [2, 6, 6], values: probe.values)).within(.attention))
        let masks = try NPY.read(dir.appendingPathComponent("masks.npy"))
        #expect(masks.shape == [2, 6, 6])
        try expectLayout(dir.appendingPathComponent("heads.json"))

        // An encoder layer has no CLS row: a patch query works, the default is refused on one line.
        let refused = try CLI.run(["heads", "photos/astronaut.png", "--model", model, "--layer", "0", "--out", out("heads0").path])
        #expect(refused.status != 0 && refused.errorLines.count == 1 && refused.stderr.contains("CLS"), "\(refused.stderr)")
        let patch = out("heads-patch")
        defer { try? FileManager.default.removeItem(at: patch) }
        let q = try CLI.run(["heads", "photos/astronaut.png", "--model", model, "--layer", "0", "--query-patch", "2,3", "--out", patch.path])
        #expect(q.status == 0, "\(q.stderr)")
    }

    /// `analyze` (one pass: rollout, last-layer heads with masks, distance) reads the probe too.
    @Test func analyzeReadsTheProbe() throws {
        let dir = out("analyze")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["analyze", "photos/astronaut.png", "--model", model, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let maps = try NPY.read(dir.appendingPathComponent("cls_attention.npy"))
        let probe = try fixtureTensor("cases/siglip-vision-astronaut-native/probe_attention.npy")
        #expect(compare(maps.tensor, Tensor(shape: [2, 6, 6], values: probe.values)).within(.attention))
        #expect(try NPY.read(dir.appendingPathComponent("rollout.npy")).shape == [6, 6])
        #expect(try NPY.read(dir.appendingPathComponent("mean_attention_distance.npy")).shape == [3, 2])
    }

    @Test func distanceCoversThreeLayers() throws {
        let dir = out("distance")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["distance", "photos/astronaut.png", "photos/rocket.jpg", "--model", model, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let mad = try NPY.read(dir.appendingPathComponent("mean_attention_distance.npy"))
        #expect(mad.shape == [3, 2])
        #expect(mad.floats.allSatisfy { $0 > 0 && $0 < 60 })
    }

    @Test func dumpHasThePoolingLayer() throws {
        let dir = out("dump")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["dump", "photos/astronaut.png", "--model", model, "--with", "logits", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let attentions = try NPY.read(dir.appendingPathComponent("attentions.npy"))
        #expect(attentions.shape == [3, 2, 36, 36])
        let expected = try fixtureTensor("cases/siglip-vision-astronaut-native/attentions.npy")
        let encoder = Tensor(shape: [2, 2, 36, 36], values: Array(attentions.floats[0 ..< 2 * 2 * 36 * 36]))
        #expect(compare(encoder, expected).within(.attention))
        #expect(try NPY.read(dir.appendingPathComponent("attention_logits.npy")).shape == [3, 2, 36, 36])
        try expectLayout(dir.appendingPathComponent("meta.json"))
    }

    /// `stats` gets the pooling head's layer too (its token norms are those of the head's input).
    @Test func statsCoverThreeLayers() throws {
        let dir = out("stats")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["stats", "photos/astronaut.png", "photos/rocket.jpg", "--model", model, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try NPY.read(dir.appendingPathComponent("token_norm_mean.npy")).shape == [3])
        #expect(try NPY.read(dir.appendingPathComponent("sink_share.npy")).shape == [3, 2])
    }

    /// `report` draws every layer; its facts line says the last one is the pooling head.
    @Test func reportNamesThePoolingHead() throws {
        let dir = out("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        let r = try CLI.run(["report", "photos/astronaut.png", "--model", model, "--out", page.path])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.contains("layer 2, the attention pooling head"))
    }

    /// `explain` reads the probe: Chefer's relevance and input x gradient of a `similar:` target
    /// write a 6x6 map with the layout naming the pooling head; attn-grad one map per layer (the
    /// probe's row at the head's layer, the mean of the patch rows below it).
    @Test(arguments: ["chefer", "input-grad", "grad-rollout"])
    func explainWritesMaps(_ method: String) throws {
        let dir = out("explain-\(method)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["explain", "photos/rocket.jpg", "--model", model, "--method", method,
                             "--target", "similar:photos/astronaut.png", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let map = try NPY.read(dir.appendingPathComponent("relevance.npy"))
        #expect(map.shape == [6, 6])
        #expect(map.floats.allSatisfy(\.isFinite) && map.floats.contains { $0 > 0 }, "\(map.floats)")
        if method == "grad-rollout" { #expect(abs(map.floats.reduce(0, +) - 1) < 1e-4) }
        try expectLayout(dir.appendingPathComponent("explain.json"))
    }

    @Test func explainAttentionGradientLayers() throws {
        let dir = out("explain-ag")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["explain", "photos/rocket.jpg", "--model", model, "--method", "attn-grad",
                             "--target", "similar:photos/astronaut.png", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let all = try NPY.read(dir.appendingPathComponent("relevance.npy"))
        #expect(all.shape == [3, 6, 6])
        let head = out("explain-ag-head")
        defer { try? FileManager.default.removeItem(at: head) }
        let h = try CLI.run(["explain", "photos/rocket.jpg", "--model", model, "--method", "attn-grad", "--first-layer=-1",
                             "--target", "similar:photos/astronaut.png", "--out", head.path])
        #expect(h.status == 0, "\(h.stderr)")
        let last = try NPY.read(head.appendingPathComponent("relevance.npy"))
        #expect(last.shape == [1, 6, 6])
        // The head's layer is the same map whatever the range.
        #expect(Array(all.floats[(2 * 36)...]) == last.floats)
    }

    /// Gradient faithfulness runs every method on SigLIP (the gradient ones through the pooling head).
    @Test func faithfulnessRunsEveryMethod() throws {
        let dir = out("faithfulness")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["faithfulness", "photos/rocket.jpg", "--model", model, "--target", "similar:photos/astronaut.png",
                             "--steps", "4", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try String(contentsOf: dir.appendingPathComponent("summary.csv"), encoding: .utf8)
        for method in ["chefer", "grad-rollout", "attn-grad", "input-grad", "attention", "rollout"] {
            #expect(summary.contains("\n\(method),0."), "\(method): \(summary)")
        }
    }
}
