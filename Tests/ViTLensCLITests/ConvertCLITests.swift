import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens convert` and the DINO preset flags on the command line: success, and one-line errors
/// for a refused pickle global, a missing config, a foreign file in `--out` and a preset mismatch.
@Suite("ConvertCLI")
struct ConvertCLITests {
    /// A fresh folder holding copies of `files` (below Tests/Fixtures), renamed as given.
    static func folder(_ files: [(String, String)]) throws -> URL {
        let dir = CLI.temporaryDirectory("convert-in")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (from, to) in files { try FileManager.default.copyItem(at: Fixtures.url(from), to: dir.appendingPathComponent(to)) }
        return dir
    }

    @Test func convertWritesAFolderThatHeadsReads() throws {
        let out = CLI.temporaryDirectory("convert-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["convert", "Tests/Fixtures/torch/timm-deit-distilled", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(timm) to model_type deit (DeiTForImageClassificationWithTeacher)"), "\(r.stdout)")
        #expect(r.errorLines.count == 1 && r.errorLines[0].hasPrefix("note: preprocessor_config.json: transformers' centre crop"))
        let heads = CLI.temporaryDirectory("convert-heads")
        defer { try? FileManager.default.removeItem(at: heads) }
        let h = try CLI.run(["heads", "photos/grace_hopper.jpg", "--model", out.path, "--out", heads.path])
        #expect(h.status == 0, "\(h.stderr)")
        #expect(try NPY.read(heads.appendingPathComponent("cls_attention.npy")).shape == [2, 4, 4])
    }

    @Test func badInputsGiveOneLine() throws {
        let hostile = try Self.folder([("torch/timm-vit-cls/config.json", "config.json"), ("torch/hostile/os-system.pth", "model.pth")])
        let bare = try Self.folder([("torch/timm-dino-p8/dino-p8.pth", "dino-p8.pth")])
        let out = CLI.temporaryDirectory("convert-out")
        defer { for d in [hostile, bare, out] { try? FileManager.default.removeItem(at: d) } }
        let cases: [([String], String)] = [
            (["convert", hostile.appendingPathComponent("model.pth").path, "--out", out.path], "refuses pickle global os.system"),
            (["convert", bare.appendingPathComponent("dino-p8.pth").path, "--out", out.path], "config.json"),
            (["heads", "photos/grace_hopper.jpg", "--model", bare.appendingPathComponent("dino-p8.pth").path, "--arch", "vit_small", "--patch", "8", "--out", out.path],
             "--arch vit_small --patch 8: 'cls_token' has shape [1, 1, 48], expected [1, 1, 384]"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 1)
            #expect(r.errorLines.count == 1 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        // Flags that do not fit together: a usage error, its first line saying why.
        let flags = try CLI.run(["heads", "photos/grace_hopper.jpg", "--model", bare.appendingPathComponent("dino-p8.pth").path, "--arch", "custom", "--out", out.path])
        #expect(flags.status == 64)
        #expect(flags.errorLines.first == "Error: invalid architecture flags: --arch custom needs --heads N (the weights do not record it)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/vitlens-pwned"))
        // A file ViTLens did not write stays, and nothing is converted into its folder.
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        let r = try CLI.run(["convert", "Tests/Fixtures/torch/timm-vit-cls", "--out", out.path])
        #expect(r.status != 0 && r.errorLines.count == 1, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["notes.txt"])
    }

    @Test func dinoPresetWithVisualisationPreprocessing() throws {
        let bare = try Self.folder([("torch/dino-full/dino-p8_full_checkpoint.pth", "dino_full_checkpoint.pth")])
        let out = CLI.temporaryDirectory("dino-heads")
        defer { for d in [bare, out] { try? FileManager.default.removeItem(at: d) } }
        // source.png is 83 x 61: shorter side 60 -> 81 x 60 -> cropped to 80 x 56 -> a 7 x 10 grid of 8-pixel patches.
        let r = try CLI.run(["heads", "Tests/Fixtures/torch/timm-preprocess/source.png", "--model", bare.appendingPathComponent("dino_full_checkpoint.pth").path,
                             "--key", "student", "--arch", "custom", "--heads", "3", "--preprocess", "dino-vis", "--image-size", "60", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try NPY.read(out.appendingPathComponent("cls_attention.npy")).shape == [3, 7, 10])
    }

    /// A preset's config exists only in memory: the sanity check's shuffled copy and the stats
    /// checkpoint's identity use it, not the weights file in its place.
    @Test func presetModelsRunFaithfulnessAndStats() throws {
        let bare = try Self.folder([("torch/timm-dino-p8/dino-p8.pth", "dino-p8.pth")])
        let out = CLI.temporaryDirectory("preset-faith")
        defer { for d in [bare, out] { try? FileManager.default.removeItem(at: d) } }
        let model = bare.appendingPathComponent("dino-p8.pth").path
        let f = try CLI.run(["faithfulness", "photos/grace_hopper.jpg", "--model", model, "--arch", "custom", "--heads", "3",
                             "--target", "similar:photos/astronaut.png", "--steps", "4", "--methods", "attention,input-grad",
                             "--out", out.appendingPathComponent("faith").path, "-q"])
        #expect(f.status == 0, "\(f.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("faith/faithfulness.json"))) as? [String: Any]
        #expect(json?["sanity"] != nil, "\(json?.keys.sorted() ?? [])")
        let s = try CLI.run(["stats", "photos", "--model", model, "--arch", "custom", "--heads", "3", "--out", out.appendingPathComponent("stats").path, "-q"])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bare.path) == ["dino-p8.pth"])
    }
}
