import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Every bad input gets a one-line error naming the file and the problem, and a non-zero exit.
@Suite(.serialized) struct BadInputTests {
    let vit = Fixtures.url("models/vit-p16-cls")

    /// Runs the command and checks: non-zero exit, the first stderr line names `mention` and holds `problem`.
    func expectFailure(_ args: [String], mentions: String, problem: String, environment: [String: String] = [:],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args, environment: environment)
        #expect(r.status != 0, "exit status was 0 for \(args)", sourceLocation: sourceLocation)
        let first = r.errorLines.first ?? ""
        #expect(first.contains(mentions), "'\(first)' does not name \(mentions)", sourceLocation: sourceLocation)
        #expect(first.lowercased().contains(problem.lowercased()), "'\(first)' does not say '\(problem)'", sourceLocation: sourceLocation)
        // Runtime errors are exactly one line; argument errors add ArgumentParser's usage hint.
        if r.status == 1 { #expect(r.errorLines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation) }
    }

    /// A copy of the fixture model folder with `edit` applied, in a temporary directory.
    func modelCopy(_ tag: String, _ edit: (URL) throws -> Void) throws -> URL {
        let dir = CLI.temporaryDirectory(tag)
        for f in ["config.json", "model.safetensors", "preprocessor_config.json"] {
            try FileManager.default.copyItem(at: vit.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        try edit(dir)
        return dir
    }

    func heads(_ image: String, model: String, extra: [String] = []) -> [String] {
        ["heads", image, "--model", model, "--out", FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-bad-out").path] + extra
    }

    // MARK: - Images

    /// A BLAS library that cannot be loaded is one line naming it, not a crash at the first product.
    @Test func missingBLASLibrary() throws {
        let out = CLI.temporaryDirectory("noblas")
        try expectFailure(["heads", "photos/grace_hopper.jpg", "--model", vit.path, "--out", out.appendingPathComponent("o").path],
                          mentions: "libvitlens-missing-blas.so", problem: "cannot load the BLAS library",
                          environment: ["VITLENS_BLAS_LIBRARY": "libvitlens-missing-blas.so"])
    }

    @Test func missingImage() throws {
        try expectFailure(heads("/no/such/photo.jpg", model: vit.path), mentions: "/no/such/photo.jpg", problem: "no such file")
    }

    @Test func notAnImage() throws {
        let f = CLI.temporaryDirectory("txt").appendingPathComponent("notes.jpg")
        try Data("just some text\n".utf8).write(to: f)
        try expectFailure(heads(f.path, model: vit.path), mentions: f.path, problem: "not an image")
    }

    @Test(arguments: ["photos/grace_hopper.jpg", "photos/astronaut.png"])
    func truncatedImage(_ photo: String) throws {
        let data = try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(photo))
        let f = CLI.temporaryDirectory("trunc").appendingPathComponent("cut-" + (photo as NSString).lastPathComponent)
        try data.prefix(data.count / 3).write(to: f)
        try expectFailure(heads(f.path, model: vit.path), mentions: f.path, problem: "truncated")
    }

    @Test func imageSmallerThanOnePatch() throws {
        try expectFailure(heads("photos/rocket.jpg", model: vit.path, extra: ["--size", "8x8"]), mentions: "rocket.jpg", problem: "smaller than one 16x16 patch")
    }

    // MARK: - Checkpoints

    /// Rewrites the safetensors header with `mutate` applied to the JSON text.
    func corruptHeader(_ dir: URL, _ mutate: (inout [String: Any]) -> Void, rawTail: Data? = nil) throws {
        let url = dir.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< (8 + n))) as? [String: Any] ?? [:]
        mutate(&header)
        var json = try JSONSerialization.data(withJSONObject: header, options: .sortedKeys)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(rawTail ?? data.subdata(in: (8 + n) ..< data.count))
        try out.write(to: url)
    }

    func weights(_ dir: URL) -> String { dir.appendingPathComponent("model.safetensors").path }

    @Test func headerLengthPastTheEnd() throws {
        let dir = try modelCopy("hdr") { d in
            var bytes = Data(count: 8)
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(1 << 40).littleEndian, as: UInt64.self) }
            try (bytes + Data(repeating: 0, count: 64)).write(to: d.appendingPathComponent("model.safetensors"))
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: weights(dir), problem: "header")
    }

    @Test func overlappingOffsets() throws {
        let dir = try modelCopy("overlap") { d in
            try corruptHeader(d) { h in
                guard var e = h["vit.layernorm.bias"] as? [String: Any], let other = h["vit.layernorm.weight"] as? [String: Any] else { return }
                e["data_offsets"] = other["data_offsets"]
                h["vit.layernorm.bias"] = e
            }
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: weights(dir), problem: "overlap")
    }

    @Test func outOfRangeOffsets() throws {
        let dir = try modelCopy("range") { d in
            try corruptHeader(d) { h in
                guard var e = h["vit.layernorm.bias"] as? [String: Any] else { return }
                e["data_offsets"] = [10_000_000, 10_000_128]
                h["vit.layernorm.bias"] = e
            }
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: weights(dir), problem: "vit.layernorm.bias")
    }

    @Test func unknownDType() throws {
        let dir = try modelCopy("dtype") { d in
            try corruptHeader(d) { h in
                guard var e = h["vit.layernorm.bias"] as? [String: Any] else { return }
                e["dtype"] = "F8_E9M9"
                h["vit.layernorm.bias"] = e
            }
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: weights(dir), problem: "F8_E9M9")
    }

    @Test func byteCountNotMatchingShape() throws {
        let dir = try modelCopy("bytes") { d in
            try corruptHeader(d) { h in
                guard var e = h["vit.layernorm.bias"] as? [String: Any] else { return }
                e["shape"] = [33]
                h["vit.layernorm.bias"] = e
            }
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: weights(dir), problem: "vit.layernorm.bias")
    }

    @Test func missingWeight() throws {
        let dir = try modelCopy("missing") { d in
            try corruptHeader(d) { h in h.removeValue(forKey: "vit.layernorm.weight"); h.removeValue(forKey: "layernorm.weight") }
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: "layernorm.weight", problem: "missing")
    }

    @Test func configMissingModelType() throws {
        let dir = try modelCopy("config") { d in
            let url = d.appendingPathComponent("config.json")
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            c.removeValue(forKey: "model_type")
            try JSONSerialization.data(withJSONObject: c).write(to: url)
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: dir.appendingPathComponent("config.json").path, problem: "model_type")
    }

    @Test func unknownModelType() throws {
        let dir = try modelCopy("type") { d in
            let url = d.appendingPathComponent("config.json")
            var c = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            c["model_type"] = "swin"
            try JSONSerialization.data(withJSONObject: c).write(to: url)
        }
        try expectFailure(heads("photos/rocket.jpg", model: dir.path), mentions: "config.json", problem: "swin")
    }

    @Test func hubIDNotCachedWhileOffline() throws {
        let home = CLI.temporaryDirectory("hf")
        try expectFailure(heads("photos/rocket.jpg", model: "facebook/dino-vits8"), mentions: "facebook/dino-vits8", problem: "not in the Hugging Face cache",
                          environment: ["HF_HOME": home.path, "HF_HUB_OFFLINE": "1"])
    }

    // MARK: - ONNX and tokenizer

    @Test func truncatedONNX() throws {
        let src = Fixtures.url("onnx/dinov2_tiny/model.onnx")
        let data = try Data(contentsOf: src)
        let f = CLI.temporaryDirectory("onnx").appendingPathComponent("cut.onnx")
        try data.prefix(data.count / 2).write(to: f)
        try expectFailure(["import-onnx", f.path, "--out", CLI.temporaryDirectory("onnx-out").appendingPathComponent("m").path],
                          mentions: f.path, problem: "truncated")
    }

    @Test func onnxThatIsNotAViT() throws {
        let f = Fixtures.url("onnx/not_vit/model.onnx")
        try expectFailure(["import-onnx", f.path, "--out", CLI.temporaryDirectory("onnx-out").appendingPathComponent("m").path],
                          mentions: f.path, problem: "unsupported graph:")
    }

    @Test func tokenizerFilesMissing() throws {
        let dir = CLI.temporaryDirectory("bert")
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: Fixtures.url("models/bert-tiny/\(f)"), to: dir.appendingPathComponent(f))
        }
        try expectFailure(["heads", "--text", "hello", "--model", dir.path, "--out", CLI.temporaryDirectory("o").path],
                          mentions: dir.path, problem: "no tokenizer.json or vocab.txt")
    }

    // MARK: - Analysis arguments

    @Test func argumentRanges() throws {
        let out = CLI.temporaryDirectory("args").path
        try expectFailure(["rollout", "photos/rocket.jpg", "--model", vit.path, "--out", out, "--discard-ratio", "1"], mentions: "--discard-ratio", problem: "[0, 1)")
        try expectFailure(["heads", "photos/rocket.jpg", "--model", vit.path, "--out", out, "--threshold", "0"], mentions: "--threshold", problem: "(0, 1]")
        try expectFailure(["heads", "photos/rocket.jpg", "--model", vit.path, "--out", out, "--layer", "7"], mentions: "--layer 7", problem: "out of range")
        try expectFailure(["heads", "photos/rocket.jpg", "--model", vit.path, "--out", out, "--query", "300,10"], mentions: "rocket.jpg", problem: "outside")
        try expectFailure(["heads", "photos/rocket.jpg", "--model", vit.path, "--out", out, "--query-patch", "14,0"], mentions: "(14, 0)", problem: "outside the 14x14 patch grid")
    }

    @Test func attentionsFileThatDoesNotFitTheLayout() throws {
        let f = Fixtures.url("cases/vit-p16-hopper-native/attentions.npy").path
        try expectFailure(["rollout", "--attentions", f, "--prefix-tokens", "1", "--grid", "13x14", "--patch-size", "16",
                           "--out", CLI.temporaryDirectory("a").path], mentions: f, problem: "expected [layers, heads, 183, 183]")
    }

    @Test(arguments: [Float.nan, -0.5])
    func attentionsThatAreNotProbabilities(_ bad: Float) throws {
        var t = try fixtureTensor("cases/dino-p8-hopper-native/attentions.npy")
        t.values[65 * 3 + 7] = bad
        let f = CLI.temporaryDirectory("nan").appendingPathComponent("bad.npy")
        try NPY.write(t, to: f)
        try expectFailure(["heads", "--attentions", f.path, "--prefix-tokens", "1", "--grid", "8x8", "--patch-size", "8",
                           "--out", CLI.temporaryDirectory("a").path], mentions: f.path, problem: "not a probability")
    }
}
