import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The command-line output contract, end to end from the committed photos: file names, shapes,
/// and values equal to Hugging Face's (image preprocessing included).
@Suite(.serialized) struct OutputContractTests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let dino = Fixtures.url("models/dino-p8").path

    func npy(_ dir: URL, _ name: String) throws -> Tensor { try NPY.read(dir.appendingPathComponent(name)).tensor }

    @Test func dumpMatchesHuggingFaceFromTheJPEG() throws {
        let out = CLI.temporaryDirectory("dump")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["dump", "photos/grace_hopper.jpg", "--model", vit, "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let ref = "cases/vit-p16-hopper-native"
        let px = compare(try npy(out, "pixel_values.npy"), try fixtureTensor("\(ref)/pixel_values.npy"))
        #expect(px.within(.pixels), "pixel_values: \(px)")
        let a = compare(try npy(out, "attentions.npy"), try fixtureTensor("\(ref)/attentions.npy"))
        #expect(a.within(.attention), "attentions: \(a)")
        let h = compare(try npy(out, "hidden_state.npy"), try fixtureTensor("\(ref)/hidden_state.npy"))
        #expect(h.within(.hidden), "hidden_state: \(h)")
        let l = compare(try npy(out, "logits.npy"), try fixtureTensor("\(ref)/logits.npy"))
        #expect(l.within(.hidden), "logits: \(l)")
        // Top-5 printed with the checkpoint's labels.
        #expect(r.stdout.split(separator: "\n").filter { $0.contains("%") }.count == 5)
        #expect(r.stdout.contains("teapot") || r.stdout.contains("admiral"))
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("meta.json"))) as? [String: Any]
        #expect((meta?["attentions_shape"] as? [Int]) == [2, 2, 197, 197])
        // Nothing half-written is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".vitlens-partial") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: [("photos/astronaut.png", "160x256", "vit-p16-astronaut-160x256"), ("photos/rocket.jpg", "64x120", "dino-p8-rocket-64x120")])
    func dumpWithSizeOverride(_ photo: String, _ size: String, _ ref: String) throws {
        let out = CLI.temporaryDirectory("size")
        defer { try? FileManager.default.removeItem(at: out) }
        let model = ref.hasPrefix("vit") ? vit : dino
        let r = try CLI.run(["dump", photo, "--model", model, "--out", out.path, "--size", size, "--quiet"])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        let px = compare(try npy(out, "pixel_values.npy"), try fixtureTensor("cases/\(ref)/pixel_values.npy"))
        #expect(px.within(.pixels), "pixel_values: \(px)")
        let a = compare(try npy(out, "attentions.npy"), try fixtureTensor("cases/\(ref)/attentions.npy"))
        #expect(a.within(.attention), "attentions: \(a)")
    }

    @Test func dumpText() throws {
        let out = CLI.temporaryDirectory("text")
        defer { try? FileManager.default.removeItem(at: out) }
        let ref = "cases/bert-tiny-animal"
        let meta = try fixtureMeta(ref)
        let sentence = try #require(meta.sentence)
        let r = try CLI.run(["dump", "--text", sentence, "--model", Fixtures.url("models/bert-tiny").path, "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try NPY.read(out.appendingPathComponent("input_ids.npy")).integers == NPY.read(Fixtures.url("\(ref)/input_ids.npy")).integers)
        let tokens = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("tokens.json"))) as? [String]
        #expect(tokens == meta.tokens)
        let a = compare(try npy(out, "attentions.npy"), try fixtureTensor("\(ref)/attentions.npy"))
        #expect(a.within(.attention), "attentions: \(a)")
    }

    @Test func headsWritesRawCLSRowsAndMasks() throws {
        let out = CLI.temporaryDirectory("heads")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["heads", "photos/grace_hopper.jpg", "--model", vit, "--out", out.path, "--threshold", "0.6"])
        #expect(r.status == 0, "\(r.stderr)")
        let cls = try npy(out, "cls_attention.npy")
        #expect(cls.shape == [2, 14, 14])
        // Equal to the last layer's CLS row over patches in the reference.
        let ref = try fixtureTensor("cases/vit-p16-hopper-native/attentions.npy").slice(1)
        for h in 0 ..< 2 {
            let row = Array(ref.slice(h).slice(0).values[1...])
            let c = compare(cls.slice(h).reshaped([196]), Tensor(shape: [196], values: row))
            #expect(c.within(.attention), "head \(h): \(c)")
            // The mask keeps at least 60% of the head's patch mass.
            let masks = try NPY.read(out.appendingPathComponent("masks.npy"))
            #expect(masks.dtype == "|u1" && masks.shape == [2, 14, 14])
            let m = masks.integers[(h * 196) ..< ((h + 1) * 196)]
            let kept = zip(m, row).reduce(Float(0)) { $0 + ($1.0 == 1 ? $1.1 : 0) }
            #expect(kept / row.reduce(0, +) >= 0.6)
        }
        for f in ["head_00.png", "head_01.png", "mean.png", "heads.png", "masks.png"] {
            let img = try ImageIO.load(out.appendingPathComponent(f))
            #expect(img.width >= 224 && img.height >= 224, "\(f)")
        }
    }

    @Test func analyzeEqualsSeparateCommandsInOneForward() throws {
        let a = CLI.temporaryDirectory("analyze"), b = CLI.temporaryDirectory("rollout"), c = CLI.temporaryDirectory("distance")
        defer { for u in [a, b, c] { try? FileManager.default.removeItem(at: u) } }
        let photo = "photos/astronaut.png"
        #expect(try CLI.run(["analyze", photo, "--model", dino, "--out", a.path]).status == 0)
        #expect(try CLI.run(["rollout", photo, "--model", dino, "--out", b.path]).status == 0)
        #expect(try CLI.run(["distance", photo, "--model", dino, "--out", c.path]).status == 0)
        #expect(try npy(a, "rollout.npy") == npy(b, "rollout.npy"))
        #expect(try npy(a, "rollout.npy").shape == [8, 8])
        #expect(try npy(a, "mean_attention_distance.npy") == npy(c, "mean_attention_distance.npy"))
        #expect(try npy(c, "mean_attention_distance.npy").shape == [2, 3])
        let csv = try String(contentsOf: c.appendingPathComponent("mean_attention_distance.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 2 * 3)
        let svg = try String(contentsOf: c.appendingPathComponent("mean_attention_distance.svg"), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.components(separatedBy: "<circle").count - 1 == 6)
    }

    @Test func bringYourOwnAttentionsMatchesTheModel() throws {
        let fromModel = CLI.temporaryDirectory("model"), fromFile = CLI.temporaryDirectory("file")
        defer { for u in [fromModel, fromFile] { try? FileManager.default.removeItem(at: u) } }
        #expect(try CLI.run(["rollout", "photos/grace_hopper.jpg", "--model", vit, "--out", fromModel.path]).status == 0)
        let r = try CLI.run(["rollout", "--attentions", Fixtures.url("cases/vit-p16-hopper-native/attentions.npy").path,
                             "--prefix-tokens", "1", "--grid", "14x14", "--patch-size", "16", "--out", fromFile.path])
        #expect(r.status == 0, "\(r.stderr)")
        let c = compare(try npy(fromFile, "rollout.npy"), try npy(fromModel, "rollout.npy"))
        #expect(c.within(.attention), "\(c)")
    }

    @Test func queryPatchAndTextQuery() throws {
        let out = CLI.temporaryDirectory("query")
        defer { try? FileManager.default.removeItem(at: out) }
        // Pixel (100, 40) lies in patch row 2, column 6 of a 16-px grid.
        let r = try CLI.run(["heads", "photos/grace_hopper.jpg", "--model", vit, "--out", out.path, "--query", "100,40", "--layer", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let q = try npy(out, "query_attention.npy")
        let ref = try fixtureTensor("cases/vit-p16-hopper-native/attentions.npy").slice(0).slice(1).slice(1 + 2 * 14 + 6)
        #expect(compare(q.slice(1).reshaped([196]), Tensor(shape: [196], values: Array(ref.values[1...]))).within(.attention))
    }

    @Test func dumpWithLogitsQueriesAndKeysIsConsistent() throws {
        let out = CLI.temporaryDirectory("qk")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["dump", "photos/rocket.jpg", "--model", dino, "--out", out.path, "--with", "logits,queries", "keys", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let probs = try npy(out, "attentions.npy"), logits = try npy(out, "attention_logits.npy")
        let q = try npy(out, "queries.npy"), k = try npy(out, "keys.npy")
        #expect(logits.shape == [2, 3, 65, 65] && q.shape == [2, 3, 65, 16] && k.shape == [2, 3, 65, 16])
        var worstSoftmax: Float = 0, worstLogit: Float = 0
        for l in 0 ..< 2 {
            for h in 0 ..< 3 {
                for i in stride(from: 0, to: 65, by: 7) {
                    let row = (0 ..< 65).map { logits[l, h, i, $0] }
                    let m = row.max() ?? 0
                    let e = row.map { exp($0 - m) }
                    let s = e.reduce(0, +)
                    for j in 0 ..< 65 {
                        worstSoftmax = max(worstSoftmax, abs(e[j] / s - probs[l, h, i, j]))
                        var dot: Float = 0
                        for c in 0 ..< 16 { dot += q[l, h, i, c] * k[l, h, j, c] }
                        worstLogit = max(worstLogit, abs(dot / 4 - logits[l, h, i, j]))
                    }
                }
            }
        }
        #expect(worstSoftmax < 1e-6, "softmax(logits) vs probabilities: \(worstSoftmax)")
        #expect(worstLogit < 1e-4, "QK^T/sqrt(d) vs logits: \(worstLogit)")
    }
}
