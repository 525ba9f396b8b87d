import Foundation
import Testing
import ViTLensCheckpoint
import ViTLensCore
import ViTLensTestSupport
@testable import ViTLensModels

/// Hugging Face fixture models rewritten in timm's naming by tools/make_torch_fixtures.py
/// (`Tests/Fixtures/torch/timm-*`, timm Hub `config.json`) load through the timm mapping to the same
/// model: attentions and logits within 1e-5 of the Hugging Face fixture (timm's layer-norm eps is
/// 1e-6, the fixtures' 1e-12).
@Suite("TimmModelLoad")
struct TimmModelLoadTests {
    static func run(_ spec: String, height: Int = 64, width: Int = 64) throws -> (attentions: [[Float]], output: VisionOutput, model: VisionTransformer) {
        try TorchModelLoadTests.run(spec, height: height, width: width, seed: 11)
    }

    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: [("torch/timm-vit-cls", "models/vit-p16-cls", "vit", 5),
                      ("torch/timm-deit-distilled", "models/deit-distilled", "deit", 5),
                      ("torch/timm-dino-p8/dino-p8.pth", "models/dino-p8", "vit", 0)])
    func timmLoadsLikeHuggingFace(_ timm: String, _ hf: String, _ modelType: String, _ classes: Int) throws {
        let t = try Self.run(timm), h = try Self.run(hf)
        #expect(t.model.modelType == modelType)
        // A non-square size too (position embeddings interpolated the same way).
        let tn = try Self.run(timm, height: 48, width: 96), hn = try Self.run(hf, height: 48, width: 96)
        #expect(tn.attentions.count == hn.attentions.count && !hn.attentions.isEmpty)
        for (a, b) in zip(tn.attentions, hn.attentions) { #expect(a.count == b.count && Self.maxDiff(a, b) <= 1e-5, "\(timm) 48x96") }
        #expect(t.attentions.count == h.attentions.count && !h.attentions.isEmpty)
        for (a, b) in zip(t.attentions, h.attentions) {
            #expect(a.count == b.count)
            #expect(Self.maxDiff(a, b) <= 1e-5, "\(timm)")
        }
        #expect((t.output.logits?.count ?? 0) == classes)
        if let tl = t.output.logits, let hl = h.output.logits {
            #expect(Self.maxDiff(Array(tl.values), Array(hl.values)) <= 1e-5, "\(timm)")
        }
    }

    /// A copy of `timm-vit-cls` with `config.json` edited, loaded; returns the error's text.
    static func refusal(config edit: (String) -> String, weights: ((inout [String: Tensor]) throws -> Void)? = nil) throws -> String {
        let dir = try temporaryFolder("timm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = Fixtures.url("torch/timm-vit-cls")
        for f in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        let config = dir.appendingPathComponent("config.json")
        try edit(try String(contentsOf: config, encoding: .utf8)).write(to: config, atomically: true, encoding: .utf8)
        if let weights {
            let archive = try SafeTensorsArchive(url: dir.appendingPathComponent("model.safetensors"))
            var tensors: [String: Tensor] = [:]
            for n in archive.names { tensors[n] = Tensor(shape: archive.info(n)?.shape ?? [], values: try archive.floats(n)) }
            try weights(&tensors)
            try SafeTensorsWriter.write(tensors, metadata: [:], to: dir.appendingPathComponent("model.safetensors"))
        }
        do {
            _ = try ModelLoader.load(try ModelLocator.resolve(dir.path))
            return "loaded"
        } catch {
            let text = "\(error)"
            #expect(!text.contains("\n"))
            #expect(text.hasPrefix(dir.path))
            return String(text.dropFirst(dir.path.count + 1))
        }
    }

    @Test func unsupportedTimmModelsAreRefusedInOneLine() throws {
        #expect(try Self.refusal(config: { $0.replacingOccurrences(of: "vit_tiny_patch16_224", with: "vit_small_patch14_dinov2") })
            == "config.json: invalid config: timm architecture 'vit_small_patch14_dinov2' is not supported (ViTLens maps vit_/deit_{tiny,small,base,large,huge}[_distilled]_patchN models)")
        #expect(try Self.refusal(config: { $0.replacingOccurrences(of: "\"embed_dim\": 32,", with: "") })
            == "config.json: invalid config: timm architecture 'vit_tiny_patch16_224' is 192 wide but 'cls_token' is 32 wide (give model_args embed_dim and num_heads)")
        #expect(try Self.refusal(config: { $0.replacingOccurrences(of: "\"depth\": 2", with: "\"depth\": 3") })
            == "config.json: invalid config: timm model_args depth is 3 but the weights have 2 blocks")
        #expect(try Self.refusal(config: { $0.replacingOccurrences(of: "\"global_pool\": \"token\"", with: "\"global_pool\": \"avg\"") })
            == "config.json: invalid config: timm global_pool 'avg' is not supported (only 'token')")
        #expect(try Self.refusal(config: { $0 }, weights: { $0["reg_token"] = Tensor(shape: [1, 4, 32], values: [Float](repeating: 0, count: 128)) })
            == "config.json: invalid config: the timm checkpoint has 'reg_token' (register tokens), which ViTLens's timm mapping does not cover")
        let leftover = try Self.refusal(config: { $0 }, weights: { $0["blocks.0.attn.extra"] = Tensor(shape: [2], values: [1, 2]) })
        #expect(leftover.contains("blocks.0.attn.extra"), "\(leftover)")
    }

    @Test func qkvIsSplitByRows() throws {
        let source = try TensorSources.open(Fixtures.url("torch/timm-vit-cls/model.safetensors"))
        let mapped = TimmStateDict(source, layers: 2, distilled: false)
        let qkv = try source.floats("blocks.1.attn.qkv.weight")
        #expect(mapped.shape(of: "encoder.layer.1.attention.attention.key.weight") == [32, 32])
        #expect(try mapped.floats("encoder.layer.1.attention.attention.key.weight") == Array(qkv[1024 ..< 2048]))
        #expect(try mapped.floats("encoder.layer.1.attention.attention.value.bias") == Array(try source.floats("blocks.1.attn.qkv.bias")[64 ..< 96]))
        #expect(mapped.shape(of: "blocks.1.attn.qkv.weight") == nil)
        #expect(mapped.names.contains("classifier.weight") && !mapped.names.contains("head.weight"))
    }
}
