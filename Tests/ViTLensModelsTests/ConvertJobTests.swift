import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `ConvertJob` on the torch fixtures: the written Hugging Face folder loads, runs like its source
/// (attentions within 1e-6; the same float32 weights and config, so in practice equal) and like the
/// Hugging Face fixture the timm files were made from (1e-5: timm's eps is 1e-6, the fixture's 1e-12).
@Suite("ConvertJob")
struct ConvertJobTests {
    static func maxDiff(_ a: [[Float]], _ b: [[Float]]) -> Float {
        guard a.count == b.count, !a.isEmpty, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return .infinity }
        return zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
    }

    /// Converts `source` (below Tests/Fixtures) into a fresh folder; returns the folder and the report.
    static func convert(_ source: String, key: String? = nil) throws -> (URL, ConvertReport) {
        let out = try temporaryFolder("convert").appendingPathComponent("hf")
        let report = try ConvertJob(model: Fixtures.url(source).path, stateDictKey: key).run(into: out.path)
        return (out, report)
    }

    static func config(_ folder: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
    }

    @Test(arguments: [("torch/timm-vit-cls", "models/vit-p16-cls", "ViTForImageClassification", "vit.encoder.layer.1.attention.attention.key.weight"),
                      ("torch/timm-deit-distilled", "models/deit-distilled", "DeiTForImageClassificationWithTeacher", "deit.embeddings.distillation_token"),
                      ("torch/timm-dino-p8/dino-p8.pth", "models/dino-p8", "ViTModel", "encoder.layer.0.attention.attention.query.bias")])
    func timmFixturesConvertToHuggingFaceFolders(_ source: String, _ hf: String, _ architecture: String, _ key: String) throws {
        let (out, report) = try Self.convert(source)
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        #expect(report.fromTimm && report.architecture == architecture)
        #expect(Set(report.files) == ["model.safetensors", "config.json", "preprocessor_config.json"])
        let config = try Self.config(out)
        #expect(config["architectures"] as? [String] == [architecture])
        #expect(config["layer_norm_eps"] as? Double == 1e-6)
        let archive = try SafeTensorsArchive(url: out.appendingPathComponent("model.safetensors"))
        #expect(archive.names.contains(key))
        #expect(!archive.names.contains { $0.contains("qkv") || $0.hasPrefix("blocks.") })
        // Every tensor equals the Hugging Face fixture's (same names for the headed models).
        if architecture != "ViTModel" {
            let original = try SafeTensorsArchive(url: Fixtures.url(hf).appendingPathComponent("model.safetensors"))
            #expect(Set(archive.names) == Set(original.names.filter { !$0.contains("pooler") }))
            for name in archive.names { #expect(try archive.floats(name) == original.floats(name), "\(name)") }
        }
        let converted = try TorchModelLoadTests.run(files: ModelLocator.resolve(out.path), height: 64, width: 64, seed: 11)
        let timm = try TorchModelLoadTests.run(source, height: 64, width: 64, seed: 11)
        let original = try TorchModelLoadTests.run(hf, height: 64, width: 64, seed: 11)
        #expect(Self.maxDiff(converted.attentions, timm.attentions) <= 1e-6)
        #expect(Self.maxDiff(converted.attentions, original.attentions) <= 1e-5)
        #expect(converted.output.logits?.values == timm.output.logits?.values)
        // The processor: timm's eval transform, but with transformers' crop placement.
        let written = try ImageProcessor(contentsOf: out.appendingPathComponent("preprocessor_config.json")).config
        let timmFiles = try ModelLocator.resolve(Fixtures.url(source).path)
        var expected = try VisionPipeline(files: timmFiles).processor.config
        #expect(expected.cropPlacement == .torchvision)
        expected.cropPlacement = .transformers
        // `default_to_square` only reads an integer `size`; the written size is {"shortest_edge": N}.
        expected.defaultToSquare = written.defaultToSquare
        #expect(written == expected)
        #expect(report.notes.count == 1 && report.notes[0].hasPrefix("preprocessor_config.json: transformers' centre crop"))
    }

    @Test func huggingFaceStateDictConvertsUnchanged() throws {
        let (out, report) = try Self.convert("torch/vit-cls")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        #expect(!report.fromTimm && report.notes.isEmpty)
        for name in ["config.json", "preprocessor_config.json"] {
            #expect(try Data(contentsOf: out.appendingPathComponent(name)) == Data(contentsOf: Fixtures.url("torch/vit-cls").appendingPathComponent(name)))
        }
        let converted = try TorchModelLoadTests.run(files: ModelLocator.resolve(out.path))
        let original = try TorchModelLoadTests.run("models/vit-p16-cls")
        #expect(converted.attentions == original.attentions)
        #expect(converted.output.logits?.values == original.output.logits?.values)
    }

    @Test func aSecondConvertReplacesTheFirstButNotForeignFiles() throws {
        let (out, _) = try Self.convert("torch/timm-vit-cls")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        _ = try ConvertJob(model: Fixtures.url("torch/timm-dino-p8/dino-p8.pth").path).run(into: out.path)
        #expect(try Self.config(out)["architectures"] as? [String] == ["ViTModel"])
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        #expect(throws: OutputFolderError.self) {
            _ = try ConvertJob(model: Fixtures.url("torch/timm-vit-cls").path).run(into: out.path)
        }
        #expect(try String(contentsOf: out.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
        #expect(try Self.config(out)["architectures"] as? [String] == ["ViTModel"])
    }
}
