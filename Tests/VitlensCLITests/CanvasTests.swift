import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Text renderings work for every length the model accepts and stay inside the canvas limit
/// (issue 7, class 7): `rollout`/`flow --text` on 35 words used to fail with "colour bar height =
/// 12", and `heads --text` on a long text drew a gigapixel PNG.
@Suite(.serialized) struct CanvasTests {
    /// 35 words of the fixture vocabulary (37 tokens with [CLS] and [SEP]).
    static let sentence = "the animal did not cross the street because it was too tired and the cat sat on the mat "
        + "with a long word of hyper token pieces that serve a naive cafe in the street"

    /// `count` words that are single tokens of the fixture vocabulary.
    static func words(_ count: Int) -> String {
        let w = "the animal did not cross street because it was too and cat sat on mat with a long word".split(separator: " ")
        return (0 ..< count).map { String(w[$0 % w.count]) }.joined(separator: " ")
    }

    /// The fixture BERT with a 512-position table (rows repeated), as BERT-base has.
    static func bert512() throws -> FixtureModelCopy {
        let copy = try FixtureModelCopy("bert-tiny")
        try copy.editWeights { w in
            guard let p = w["embeddings.position_embeddings.weight"] else { return }
            w["embeddings.position_embeddings.weight"] = Tensor(shape: [512, p.shape[1]], values: Array((0 ..< 8).map { _ in p.values }.joined()))
        }
        try copy.setJSON("config.json", "max_position_embeddings", "512")
        try copy.setJSON("tokenizer_config.json", "model_max_length", "512")
        return copy
    }

    /// Width and height from a PNG's IHDR chunk.
    func pngSize(_ url: URL) throws -> (width: Int, height: Int) {
        let d = try Data(contentsOf: url)
        func be32(_ o: Int) -> Int { d[o ..< o + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Runs `command --text text`, expects success, and returns the sizes of the PNGs written.
    func run(_ command: String, _ text: String, model: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: (width: Int, height: Int)] {
        let out = CLI.temporaryDirectory("canvas")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run([command, "--text", text, "--model", model.path, "--out", out.path, "-q"])
        #expect(r.status == 0, "\(command): \(r.stderr)", sourceLocation: sourceLocation)
        var sizes: [String: (width: Int, height: Int)] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: out.path) where f.hasSuffix(".png") {
            let s = try pngSize(out.appendingPathComponent(f))
            #expect(s.width <= CanvasLimit.maxSide && s.height <= CanvasLimit.maxSide && s.width * s.height <= CanvasLimit.maxPixels,
                    "\(f) is \(s.width) x \(s.height)", sourceLocation: sourceLocation)
            sizes[f] = s
        }
        return sizes
    }

    @Test(arguments: ["rollout", "flow", "heads"])
    func thirtyFiveWords(_ command: String) throws {
        let sizes = try run(command, Self.sentence, model: Fixtures.url("models/bert-tiny"))
        let png = ["rollout": "rollout.png", "flow": "attention_flow.png", "heads": "heads.png"][command] ?? ""
        let s = try #require(sizes[png])
        // One labelled row per token (37 rows of 11 px) or a 37 x 37 matrix per head.
        #expect(s.height >= 37 * (command == "heads" ? 14 : 11), "\(png) is \(s.width) x \(s.height)")
    }

    @Test(arguments: [1, 2])
    func shortestTexts(_ count: Int) throws {
        for command in ["rollout", "heads"] {
            let sizes = try run(command, Self.words(count), model: Fixtures.url("models/bert-tiny"))
            #expect(!sizes.isEmpty)
        }
    }

    /// 512 tokens, the model's maximum.
    @Test func rolloutAtTheMaximumLength() throws {
        let copy = try Self.bert512()
        defer { copy.remove() }
        let s = try #require(try run("rollout", Self.words(510), model: copy.url)["rollout.png"])
        #expect(s.height > 40 * 11 && s.width > 2 * 150, "rollout.png is \(s.width) x \(s.height)")  // wrapped into columns
    }

    /// A long text: the heads mosaic takes most of the canvas limit but stays inside it.
    @Test func headsOnALongText() throws {
        let copy = try Self.bert512()
        defer { copy.remove() }
        let h = try #require(try run("heads", Self.words(200), model: copy.url)["heads.png"])
        #expect(h.width > 2000 && h.height > 2000, "heads.png is \(h.width) x \(h.height)")
    }

    /// Flow's own work limit allows 358 tokens on 2 layers; 100 words keep the test quick.
    @Test func flowOnALongText() throws {
        let copy = try Self.bert512()
        defer { copy.remove() }
        #expect(try run("flow", Self.words(100), model: copy.url)["attention_flow.png"] != nil)
    }
}
