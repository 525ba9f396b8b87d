import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Issue "hostile input", classes 2 and 3: sizes from files and flags are bounded and checked, and a
/// forward pass that would not fit in memory is refused up front with the estimate and the way out.
@Suite(.serialized) struct LimitsCLITests {
    let photo = "photos/rocket.jpg"

    /// Runs and checks: exit status `status`, one stderr line (or ArgumentParser's usage after it)
    /// containing every string in `says`.
    func expectRefusal(_ args: [String], status: Int32 = 1, says: [String], timeout: TimeInterval = 60,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let start = Date()
        let r = try CLI.run(args, timeout: timeout)
        #expect(r.status == status, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let first = r.errorLines.first ?? ""
        for s in says { #expect(first.contains(s), "'\(first)' does not say '\(s)'", sourceLocation: sourceLocation) }
        if status == 1 { #expect(r.errorLines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation) }
        #expect(Date().timeIntervalSince(start) < timeout, sourceLocation: sourceLocation)
    }

    /// A copy of fixture model `name` with `file` (a JSON object) edited.
    func model(_ name: String, _ file: String = "config.json", edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = CLI.temporaryDirectory("lim")
        let source = Fixtures.url("models/\(name)")
        for f in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        let url = dir.appendingPathComponent(file)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return dir
    }

    func out() -> String { CLI.temporaryDirectory("lim-out").appendingPathComponent("o").path }

    // MARK: - Flags

    @Test func hugeSizeIsRefusedInParsing() throws {
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--size", "100000x100000"],
                          status: 64, says: ["--size", "each side must be at most 16384"])
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--size", "99999999999999999999x5"],
                          status: 64, says: ["--size", "two whole numbers"])
    }

    @Test func negativeSizeSaysWhatIsWrong() throws {
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--size", "-5x7"],
                          status: 64, says: ["--size", "height and width must be positive"])
    }

    @Test func hugeThreadCount() throws {
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--threads", "2147483648"],
                          status: 64, says: ["--threads must be from 1 to 1024, got 2147483648"])
    }

    @Test func gridAndPrefixProductsCannotOverflow() throws {
        let npy = CLI.temporaryDirectory("grid").appendingPathComponent("a.npy")
        try NPY.encode(float32: [1], shape: [1, 1, 1, 1]).write(to: npy)
        try expectRefusal(["rollout", "--attentions", npy.path, "--prefix-tokens", "4611686018427387904", "--grid", "4096x4096",
                           "--patch-size", "16", "--out", out()], says: ["at most 4096"])
        try expectRefusal(["rollout", "--attentions", npy.path, "--prefix-tokens", "1", "--grid", "3037000500x3037000500",
                           "--patch-size", "16", "--out", out()], status: 64, says: ["--grid", "at most 16384"])
    }

    @Test func savedArrayLargerThanTheLimit() throws {
        let npy = CLI.temporaryDirectory("big").appendingPathComponent("a.npy")
        let n = 197
        var values = [Float](repeating: 1 / Float(n), count: 2 * 2 * n * n)
        values[0] = 1 / Float(n)
        try NPY.encode(float32: values, shape: [2, 2, n, n]).write(to: npy)
        try expectRefusal(["rollout", "--attentions", npy.path, "--prefix-tokens", "1", "--grid", "14x14", "--patch-size", "16",
                           "--out", out(), "--max-memory", "256K"], says: [npy.path, "needs about 1 MB to load", "--max-memory"])
        #expect(try CLI.run(["rollout", "--attentions", npy.path, "--prefix-tokens", "1", "--grid", "14x14", "--patch-size", "16",
                             "--out", out(), "-q"]).status == 0)
    }

    @Test func maxMemoryNeedsASize() throws {
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--max-memory", "lots"],
                          status: 64, says: ["--max-memory", "512M"])
    }

    // MARK: - config.json and preprocessor_config.json

    @Test(arguments: [("image_size", 1_000_000_000_000, 16_384), ("num_hidden_layers", 100_000_000_000, 1_024),
                      ("hidden_size", 4_611_686_018_427_387_904, 65_536), ("intermediate_size", 1 << 40, 1 << 20),
                      ("num_attention_heads", 1 << 50, 4_096), ("patch_size", 1 << 62, 4_096), ("num_channels", 1 << 33, 64)])
    func hugeConfigSizes(_ field: String, _ value: Int, _ bound: Int) throws {
        let dir = try model("vit-p16-cls") { $0[field] = value }
        try expectRefusal(["heads", photo, "--model", dir.path, "--out", out()],
                          says: [dir.appendingPathComponent("config.json").path, "'\(field)' is \(value), above ViTLens's limit of \(bound)"])
    }

    @Test(arguments: [1e300, -1, 0.0001])
    func absurdMLPRatio(_ ratio: Double) throws {
        let dir = try model("dinov2") { $0["mlp_ratio"] = ratio }
        try expectRefusal(["heads", photo, "--model", dir.path, "--out", out()],
                          says: [dir.appendingPathComponent("config.json").path, "'mlp_ratio'"])
    }

    @Test func hugeRegisterCount() throws {
        let dir = try model("dinov2-reg") { $0["num_register_tokens"] = 1 << 60 }
        try expectRefusal(["heads", photo, "--model", dir.path, "--out", out()],
                          says: [dir.appendingPathComponent("config.json").path, "'num_register_tokens'", "limit of 4096"])
    }

    @Test func hugeProcessorSizes() throws {
        for size: Any in [["height": 4_611_686_018_427_387_904, "width": 224], ["height": 100_000, "width": 100_000], 1 << 40] {
            let dir = try model("vit-p16-cls", "preprocessor_config.json") { $0["size"] = size }
            try expectRefusal(["heads", photo, "--model", dir.path, "--out", out()],
                              says: [dir.appendingPathComponent("preprocessor_config.json").path, "above ViTLens's limit of 16384"])
        }
    }

    @Test func shortestEdgeThatWouldBlowUpTheImage() throws {
        let dir = try model("vit-p16-cls", "preprocessor_config.json") { $0["size"] = ["shortest_edge": 16_000] }
        try expectRefusal(["heads", photo, "--model", dir.path, "--out", out()],
                          says: ["rocket.jpg", "16000x", "above ViTLens's limit of 16384 per side"])
    }

    // MARK: - Memory estimate

    @Test func forwardThatDoesNotFitIsRefusedBeforeAllocating() throws {
        // 1,048,577 tokens: one layer's attention alone would be 8 TB. Refused at once, not by the allocator.
        try expectRefusal(["heads", photo, "--model", Fixtures.url("models/vit-p16-cls").path, "--out", out(), "--size", "16384x16384"],
                          says: ["rocket.jpg", "needs about", "1048577 tokens", "--max-memory", "smaller --size"], timeout: 30)
    }

    @Test func maxMemoryIsHonoured() throws {
        let vit = Fixtures.url("models/vit-p16-cls").path
        try expectRefusal(["dump", photo, "--model", vit, "--out", out(), "--max-memory", "1M"],
                          says: ["rocket.jpg", "needs about", "197 tokens", "above the limit of 1 MB (--max-memory)"])
        #expect(try CLI.run(["dump", photo, "--model", vit, "--out", out(), "--max-memory", "1G", "-q"]).status == 0)
        try expectRefusal(["dump", "--text", "hello world", "--model", Fixtures.url("models/bert-tiny").path, "--out", out(), "--max-memory", "64K"],
                          says: ["--text", "needs about", "4 tokens"])
    }
}
