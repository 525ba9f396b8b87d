import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The analyses on the BEiT and Data2Vec-vision fixtures (one CLS token, then the patch grid; a
/// relative position bias in every attention), `dump --with logits` against transformers' softmax
/// input, and hostile configs and checkpoints as one-line errors naming the file.
@Suite(.serialized) struct BEiTCLITests {
    /// Fixture model, its heads and layers, and the patch grid of the photo at its native size.
    static let models: [(name: String, heads: Int, layers: Int, grid: [Int], target: String)] = [
        ("beit-rel", 2, 2, [4, 4], "top1"), ("beit-shared", 3, 2, [6, 6], "token:0,5"),
        ("data2vec-vision", 2, 2, [4, 4], "class:2"),
    ]

    func model(_ name: String) -> String { Fixtures.url("models/\(name)").path }
    func npy(_ dir: URL, _ name: String) throws -> NPYArray { try NPY.read(dir.appendingPathComponent(name)) }

    func run(_ args: [String], _ out: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args + ["--out", out.path, "--quiet"])
        #expect(r.status == 0, "\(args.first ?? ""): \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test(arguments: 0 ..< 3)
    func everyAnalysisRuns(_ i: Int) throws {
        let m = Self.models[i]
        let out = CLI.temporaryDirectory("beit-\(m.name)")
        defer { try? FileManager.default.removeItem(at: out) }
        let photo = "photos/grace_hopper.jpg"
        let (gh, gw) = (m.grid[0], m.grid[1])

        try run(["rollout", photo, "--model", model(m.name)], out.appendingPathComponent("rollout"))
        let rollout = try npy(out.appendingPathComponent("rollout"), "rollout.npy")
        #expect(rollout.shape == [gh, gw])
        #expect(rollout.floats.allSatisfy { $0.isFinite && $0 >= 0 } && rollout.floats.contains { $0 > 0 })

        try run(["heads", photo, "--model", model(m.name)], out.appendingPathComponent("heads"))
        let cls = try npy(out.appendingPathComponent("heads"), "cls_attention.npy")
        #expect(cls.shape == [m.heads, gh, gw])
        for h in 0 ..< m.heads {
            let row = cls.floats[h * gh * gw ..< (h + 1) * gh * gw]
            #expect(row.allSatisfy { $0 > 0 } && row.reduce(0, +) < 1.0001)
        }
        let masks = try npy(out.appendingPathComponent("heads"), "masks.npy")
        #expect(masks.shape == [m.heads, gh, gw])

        try run(["distance", photo, "photos/rocket.jpg", "--model", model(m.name)], out.appendingPathComponent("distance"))
        let distance = try npy(out.appendingPathComponent("distance"), "mean_attention_distance.npy")
        #expect(distance.shape == [m.layers, m.heads])
        #expect(distance.floats.allSatisfy { $0 > 0 && $0.isFinite })

        for method in ["chefer", "attn-grad"] {
            let dir = out.appendingPathComponent("explain-\(method)")
            try run(["explain", photo, "--model", model(m.name), "--target", m.target, "--method", method], dir)
            let relevance = try npy(dir, "relevance.npy")
            #expect(relevance.shape == (method == "attn-grad" ? [m.layers, gh, gw] : [gh, gw]))
            #expect(relevance.floats.contains { $0 != 0 } && relevance.floats.allSatisfy(\.isFinite))
        }
    }

    /// A non-square size: the relative position tables are resized to the grid, the layout follows.
    @Test func rolloutAtANonSquareSize() throws {
        let out = CLI.temporaryDirectory("beit-size")
        defer { try? FileManager.default.removeItem(at: out) }
        try run(["rollout", "photos/astronaut.png", "--model", model("beit-rel"), "--size", "48x80"], out)
        #expect(try npy(out, "rollout.npy").shape == [3, 5])
    }

    /// `dump --with logits` from the photo equals transformers' softmax input, bias included.
    @Test(arguments: ["beit-rel-hopper-native", "beit-shared-hopper-64x40", "data2vec-vision-rocket-80x48"])
    func dumpLogitsIncludeTheBias(_ ref: String) throws {
        let meta = try fixtureMeta("cases/\(ref)")
        let modelName = try #require(meta.model)
        let out = CLI.temporaryDirectory("beit-dump")
        defer { try? FileManager.default.removeItem(at: out) }
        let data = try Data(contentsOf: Fixtures.url("cases/\(ref)/meta.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let photo = try #require(json["photo"] as? String)
        var args = ["dump", photo, "--model", model(modelName), "--with", "logits"]
        if let size = json["requested_size"] as? [Int] { args += ["--size", "\(size[0])x\(size[1])"] }
        try run(args, out)
        let logits = compare(try npy(out, "attention_logits.npy").tensor, try fixtureTensor("cases/\(ref)/attention_logits.npy"))
        #expect(logits.within(.hidden), "attention logits: \(logits)")
        let attentions = compare(try npy(out, "attentions.npy").tensor, try fixtureTensor("cases/\(ref)/attentions.npy"))
        #expect(attentions.within(.attention), "attentions: \(attentions)")
    }

    func expectOneLineError(_ copy: FixtureModelCopy, naming file: String, _ problem: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let out = CLI.temporaryDirectory("beit-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["heads", "photos/rocket.jpg", "--model", copy.url.path, "--out", out.path])
        #expect(r.status == 1, "exit \(r.status)", sourceLocation: sourceLocation)
        #expect(r.errorLines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        let line = r.errorLines.first ?? ""
        #expect(line.contains(copy.file(file).lastPathComponent) && line.contains(problem), "\(line)", sourceLocation: sourceLocation)
    }

    @Test func hostileConfigsAndTablesAreOneLineErrors() throws {
        // image_size says a 3 x 3 grid: the 4 x 4 grid's tables have the wrong number of rows.
        var copy = try FixtureModelCopy("beit-rel")
        try copy.setJSON("config.json", "image_size", "48")
        try expectOneLineError(copy, naming: "model.safetensors", "relative_position_bias_table")
        copy.remove()

        // A shared table the checkpoint does not have.
        copy = try FixtureModelCopy("beit-rel")
        try copy.setJSON("config.json", "use_relative_position_bias", "false")
        try copy.setJSON("config.json", "use_shared_relative_position_bias", "true")
        try expectOneLineError(copy, naming: "model.safetensors", "encoder.relative_position_bias.relative_position_bias_table")
        copy.remove()

        // Both kinds at once (transformers adds them; ViTLens keeps one bias per layer).
        copy = try FixtureModelCopy("beit-rel")
        try copy.setJSON("config.json", "use_shared_relative_position_bias", "true")
        try expectOneLineError(copy, naming: "config.json", "use_shared_relative_position_bias")
        copy.remove()

        // A table with a head too many, and one of the wrong rank.
        for shape in [[52, 3], [52]] {
            copy = try FixtureModelCopy("beit-rel")
            try copy.editWeights { t in
                t["beit.encoder.layer.1.attention.attention.relative_position_bias.relative_position_bias_table"] =
                    Tensor(shape: shape, values: [Float](repeating: 0.5, count: shape.reduce(1, *)))
            }
            try expectOneLineError(copy, naming: "model.safetensors", "relative_position_bias_table")
            copy.remove()
        }

        // A layer scale that is not a number, and a classifier without the pooler's LayerNorm.
        copy = try FixtureModelCopy("data2vec-vision")
        try copy.setJSON("config.json", "layer_scale_init_value", "\"big\"")
        try expectOneLineError(copy, naming: "config.json", "layer_scale_init_value")
        copy.remove()
        copy = try FixtureModelCopy("data2vec-vision")
        try copy.editWeights { t in
            t["data2vec_vision.pooler.layernorm.weight"] = nil
            t["data2vec_vision.pooler.layernorm.bias"] = nil
        }
        try expectOneLineError(copy, naming: "model.safetensors", "pooler.layernorm.weight")
        copy.remove()
    }
}
