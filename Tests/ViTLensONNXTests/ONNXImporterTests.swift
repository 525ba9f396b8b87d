import Foundation
import Testing
import ViTLensCore
import ViTLensTestSupport
@testable import ViTLensONNX

/// A fresh scratch folder, removed when the test's `defer` runs.
func scratchDirectory() throws -> URL { try temporaryFolder("onnx-tests") }

/// Imports the tiny exports of `tools/make_onnx_fixtures.py` and compares the written folders with
/// the Hugging Face `save_pretrained` references (names, shapes, every value, config).
@Suite struct ONNXImporterTests {
    struct Expected: Decodable {
        var family: String
        var layers: Int, heads: Int, hidden: Int, intermediate: Int, patch: Int
        var image_size: Int, channels: Int
        var layer_norm_eps: Double
        var hidden_act: String
        var layer_scale: Bool, qkv_bias: Bool, swiglu: Bool, pooler: Bool
        var input_size: [Int]
        var prefix: String
        var mask_token_synthesized: Bool
        var nodes: Int, dropped_nodes: Int, weights: Int
    }

    static let cases = ["dinov2_tiny", "vit_tiny", "dinov2_swiglu_tiny"]

    func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Fixtures.url("onnx/\(name)/expected.json")))
    }

    @Test(arguments: cases)
    func weightsMatchTheHuggingFaceStateDict(_ name: String) throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent(name)
        _ = try ONNXImporter.importHuggingFace(from: Fixtures.url("onnx/\(name)/model.onnx"), to: out)
        let written = try SafeTensorsTestReader.read(out.appendingPathComponent("model.safetensors"))
        let reference = try SafeTensorsTestReader.read(Fixtures.url("onnx/\(name)/reference/model.safetensors"))
        #expect(written.tensors.keys.sorted() == reference.tensors.keys.sorted())
        for (key, ref) in reference.tensors {
            guard let got = written.tensors[key] else { continue }
            #expect(got.shape == ref.shape, "\(key)")
            // Exact: the importer only moves and transposes float32 values.
            #expect(got.values == ref.values, "\(key) differs")
        }
        #expect(written.metadata["format"] == "pt")
    }

    @Test(arguments: cases)
    func configMatchesTheHuggingFaceConfig(_ name: String) throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent(name)
        _ = try ONNXImporter.importHuggingFace(from: Fixtures.url("onnx/\(name)/model.onnx"), to: out)
        let configText = try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8)
        let config = try #require(try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any])
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("onnx/\(name)/reference/config.json"))) as? [String: Any])
        var keys = ["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "hidden_act", "layer_norm_eps",
                    "image_size", "patch_size", "num_channels", "qkv_bias", "architectures"]
        keys += reference["model_type"] as? String == "dinov2" ? ["mlp_ratio", "use_swiglu_ffn", "layerscale_value"] : ["intermediate_size", "pooler_act", "pooler_output_size"]
        for key in keys {
            #expect(config[key] != nil, "\(key) missing")
            #expect("\(config[key] ?? "nil")" == "\(reference[key] ?? "nil")", "\(key): \(config[key] ?? "nil") vs \(reference[key] ?? "nil")")
        }
        // transformers 5 validates types strictly: floats keep their decimal point.
        #expect(configText.contains("\"hidden_dropout_prob\": 0.0"))
        if reference["model_type"] as? String == "dinov2" {
            #expect(configText.contains("\"layerscale_value\": 1.0"))
            #expect(configText.contains("\"mlp_ratio\": 4,"))
        }
    }

    @Test(arguments: cases)
    func reportMatchesTheExport(_ name: String) throws {
        let e = try expected(name)
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let r = try ONNXImporter.importHuggingFace(from: Fixtures.url("onnx/\(name)/model.onnx"), to: scratch.appendingPathComponent("m"))
        #expect(r.family == e.family)
        #expect(r.layers == e.layers)
        #expect(r.heads == e.heads)
        #expect(r.hidden == e.hidden)
        #expect(r.intermediateSize == e.intermediate)
        #expect(r.patchSize == e.patch)
        #expect(r.imageSize == e.image_size)
        #expect(r.numChannels == e.channels)
        #expect(r.layerNormEps == e.layer_norm_eps)
        #expect(r.hiddenAct == e.hidden_act)
        #expect(r.layerScale == e.layer_scale)
        #expect(r.qkvBias == e.qkv_bias)
        #expect(r.useSwiGLU == e.swiglu)
        #expect(r.pooler == e.pooler)
        #expect(r.inputSize == e.input_size)
        #expect(r.wrapperPrefix == e.prefix)
        #expect(r.totalNodes == e.nodes)
        #expect(r.droppedNodes == e.dropped_nodes)
        #expect(r.weightsWritten == e.weights)
        #expect(r.synthesizedWeights == (e.mask_token_synthesized ? ["embeddings.mask_token"] : []))
        #expect(r.mlpRatio == (e.family == "dinov2" ? 4 : nil))
        #expect(!r.summary.isEmpty && r.summary.contains("nodes dropped: \(e.dropped_nodes) of \(e.nodes)"))
    }

    @Test func preprocessorConfigs() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        func processor(_ name: String) throws -> [String: Any] {
            let out = scratch.appendingPathComponent(name)
            _ = try ONNXImporter.importHuggingFace(from: Fixtures.url("onnx/\(name)/model.onnx"), to: out)
            let data = try Data(contentsOf: out.appendingPathComponent("preprocessor_config.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        // DINOv2: BitImageProcessor at the graph's fixed 32x32 input, ImageNet statistics, bicubic.
        let d = try processor("dinov2_tiny")
        #expect(d["image_processor_type"] as? String == "BitImageProcessor")
        #expect(d["size"] as? [String: Int] == ["shortest_edge": 32])
        #expect(d["crop_size"] as? [String: Int] == ["height": 32, "width": 32])
        #expect(d["resample"] as? Int == 3)
        #expect(d["image_mean"] as? [Double] == [0.485, 0.456, 0.406])
        #expect(d["image_std"] as? [Double] == [0.229, 0.224, 0.225])
        #expect(d["do_center_crop"] as? Bool == true)
        // ViT: ViTImageProcessor defaults at the input size.
        let v = try processor("vit_tiny")
        #expect(v["image_processor_type"] as? String == "ViTImageProcessor")
        #expect(v["size"] as? [String: Int] == ["height": 32, "width": 32])
        #expect(v["image_mean"] as? [Double] == [0.5, 0.5, 0.5])
        #expect(v["resample"] as? Int == 2)
    }

    // MARK: - Refusals

    /// The `unsupportedGraph` reason of an import, or nil when it did not fail that way.
    func refusal(_ url: URL, _ out: URL) -> String? {
        do {
            _ = try ONNXImporter.importHuggingFace(from: url, to: out)
        } catch let ONNXError.unsupportedGraph(_, reason) {
            return reason
        } catch {
            return "other error: \(error)"
        }
        return nil
    }

    @Test func nonViTGraphIsRefused() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("m")
        let reason = refusal(Fixtures.url("onnx/not_vit/model.onnx"), out)
        #expect(reason?.hasPrefix("unsupported graph: no patch-embedding Conv") == true, "\(reason ?? "nil")")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let ext = refusal(Fixtures.url("onnx/external_data/model.onnx"), out)
        #expect(ext?.hasPrefix("unsupported graph: initializer 'w' keeps its values in the external file") == true, "\(ext ?? "nil")")
    }

    /// Writes a copy of a fixture with every occurrence of `from` replaced by the same-length `to`
    /// (names are length-prefixed strings, so the protobuf stays valid).
    func patched(_ name: String, _ from: String, _ to: String, in dir: URL) throws -> URL {
        precondition(from.utf8.count == to.utf8.count)
        var data = try Data(contentsOf: Fixtures.url("onnx/\(name)/model.onnx"))
        let needle = Data(from.utf8), replacement = Data(to.utf8)
        var count = 0
        var searchFrom = data.startIndex
        while let r = data.range(of: needle, in: searchFrom ..< data.endIndex) {
            data.replaceSubrange(r, with: replacement)
            searchFrom = r.upperBound
            count += 1
        }
        #expect(count > 0, "'\(from)' not found in \(name)")
        let url = dir.appendingPathComponent("\(name)-patched.onnx")
        try data.write(to: url)
        return url
    }

    @Test func missingPartsAreNamed() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("m")
        // Layer 1's key projection renamed to a module the table does not know.
        let noKey = try patched("dinov2_tiny", "layer.1/attention/k_proj", "layer.1/attention/k_prxj", in: scratch)
        #expect(refusal(noKey, out) == "unsupported graph: layer 1 has no key MatMul")
        // The exact GELU (Erf) replaced by another operator everywhere: not a GELU any more.
        let noGelu = try patched("dinov2_tiny", "Erf", "Elu", in: scratch)
        #expect(refusal(noGelu, out)?.hasPrefix("unsupported graph: layer 0 has no GELU activation") == true)
        // The final layernorm renamed: no backbone output.
        let noFinal = try patched("vit_tiny", "/layernorm/", "/layerxorm/", in: scratch)
        #expect(refusal(noFinal, out)?.hasPrefix("unsupported graph: no final layernorm") == true)
        // A renamed pooler is no longer part of the backbone: dropped, and the import succeeds.
        let noPooler = try patched("vit_tiny", "/pooler/", "/poolex/", in: scratch)
        let r = try ONNXImporter.importHuggingFace(from: noPooler, to: out)
        #expect(!r.pooler && r.weightsWritten == 45 && r.droppedNodes > 0)
        // Failed imports left nothing behind (no output, no temporary folders).
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(left == ["dinov2_tiny-patched.onnx", "m", "vit_tiny-patched.onnx"])
    }

    // MARK: - Files and folders

    @Test func missingFile() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let missing = scratch.appendingPathComponent("nope.onnx")
        #expect(throws: ONNXError.fileNotFound(file: missing.path)) {
            try ONNXImporter.importHuggingFace(from: missing, to: scratch.appendingPathComponent("m"))
        }
    }

    @Test func truncatedModelLeavesNoFolder() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = try Data(contentsOf: Fixtures.url("onnx/dinov2_tiny/model.onnx"))
        let cut = scratch.appendingPathComponent("cut.onnx")
        try data.prefix(data.count / 2).write(to: cut)
        let out = scratch.appendingPathComponent("m")
        do {
            _ = try ONNXImporter.importHuggingFace(from: cut, to: out)
            Issue.record("a truncated model was imported")
        } catch let ONNXError.truncated(file, offset) {
            #expect(file == cut.path)
            #expect(offset < data.count / 2)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["cut.onnx"])
    }

    @Test func existingOutputNeedsOverwrite() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let model = Fixtures.url("onnx/vit_tiny/model.onnx")
        let out = scratch.appendingPathComponent("m")
        _ = try ONNXImporter.importHuggingFace(from: model, to: out)
        #expect(throws: ONNXError.outputExists(directory: out.path)) {
            try ONNXImporter.importHuggingFace(from: model, to: out)
        }
        // overwrite replaces an earlier import whole, and leaves no temporary folders beside it.
        _ = try ONNXImporter.importHuggingFace(from: model, to: out, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            == [OutputFolder.manifestName, "config.json", "model.safetensors", "preprocessor_config.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["m"])
        // A folder holding a file ViTLens did not write is never replaced, with or without overwrite.
        let keep = out.appendingPathComponent("keep.txt")
        try Data("mine".utf8).write(to: keep)
        for overwrite in [false, true] {
            #expect(throws: OutputFolderError.refused(path: out.path, reason: "holds keep.txt, which ViTLens did not write: name a new or empty folder, or one ViTLens wrote")) {
                try ONNXImporter.importHuggingFace(from: model, to: out, overwrite: overwrite)
            }
        }
        #expect(try String(contentsOf: keep, encoding: .utf8) == "mine")
        // An existing empty folder is fine without overwrite.
        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try ONNXImporter.importHuggingFace(from: model, to: empty)
        #expect(r.weightsWritten == 47)
    }

    @Test func transposeIsCorrect() {
        let v: [Float] = (0 ..< 70 * 45).map(Float.init)
        let t = WeightSource.transposed(v, rows: 70, columns: 45)
        for r in [0, 1, 33, 69] {
            for c in [0, 7, 32, 44] { #expect(t[c * 70 + r] == v[r * 45 + c]) }
        }
    }

    @Test func wholeMLPRatios() {
        #expect(ImportedConfig.mlpRatio(hidden: 384, width: 1536, swiGLU: false) == 4)
        #expect(ImportedConfig.mlpRatio(hidden: 32, width: 88, swiGLU: true) == 4)
        // facebook/dinov2-giant: hidden 1536, SwiGLU, 4096 hidden features.
        #expect(ImportedConfig.mlpRatio(hidden: 1536, width: 4096, swiGLU: true) == 4)
        #expect(ImportedConfig.mlpRatio(hidden: 32, width: 37, swiGLU: false) == nil)
    }
}

/// The analysis on graphs edited in memory: other exporter generations and fallbacks.
@Suite struct BackboneAnalyzerTests {
    func load(_ name: String) throws -> ONNXModel {
        try ONNXModel(contentsOf: Fixtures.url("onnx/\(name)/model.onnx"))
    }

    func referenceKeys(_ name: String) throws -> [String: Tensor] {
        try SafeTensorsTestReader.read(Fixtures.url("onnx/\(name)/reference/model.safetensors")).tensors
    }

    @Test(arguments: [("dinov2_tiny", 4), ("vit_tiny", 2)])
    func headsFromTheScaleConstantWhenNoReshapeSaysSo(_ name: String, _ heads: Int) throws {
        // Without Reshape nodes the head count comes from the attention scale: SDPA's two Muls by
        // d^(-1/4) (dinov2_tiny, d = 8) or eager attention's one Mul by d^(-1/2) (vit_tiny, d = 16).
        var model = try load(name)
        for i in model.graph.nodes.indices where model.graph.nodes[i].opType == "Reshape" {
            model.graph.nodes[i].opType = "ReshapeHidden"
        }
        #expect(try BackboneAnalyzer(model).analyze().heads == heads)
    }

    @Test func transformers4NamesForViT() throws {
        // transformers 4.x exports carry the Hub module names; rename vit_tiny's 5.x node names the
        // way a 4.x export of ViTForImageClassification (`vit.` prefix) would have them.
        var model = try load("vit_tiny")
        let renames = [
            ("/attention/q_proj/", "/attention/attention/query/"), ("/attention/k_proj/", "/attention/attention/key/"),
            ("/attention/v_proj/", "/attention/attention/value/"), ("/attention/o_proj/", "/attention/output/dense/"),
            ("/mlp/fc1/", "/intermediate/dense/"), ("/mlp/fc2/", "/output/dense/"),
        ]
        for i in model.graph.nodes.indices {
            var name = model.graph.nodes[i].name
            guard name.hasPrefix("/") else { continue }
            for (a, b) in renames { name = name.replacingOccurrences(of: a, with: b) }
            if let r = name.range(of: #"^/layers\.(\d+)/"#, options: .regularExpression) {
                let n = name[r].dropFirst(8).dropLast()
                name.replaceSubrange(r, with: "/encoder/layer.\(n)/")
            }
            model.graph.nodes[i].name = "/vit" + name
        }
        let plan = try BackboneAnalyzer(model).analyze()
        #expect(plan.prefix == ["vit"])
        let reference = try referenceKeys("vit_tiny")
        #expect(plan.weights.keys.sorted() == reference.keys.sorted())
        for (key, ref) in reference {
            #expect(try plan.weights[key]?.materialize() == ref, "\(key)")
        }
    }

    @Test func unnamedWeightIsAnError() throws {
        // A backbone node whose module the table does not know, consuming a weight: refused by name.
        var model = try load("dinov2_tiny")
        let i = try #require(model.graph.nodes.firstIndex { $0.name == "/backbone/encoder/layer.0/layer_scale1/Mul" })
        model.graph.nodes[i].name = "/backbone/encoder/layer.0/gamma1/Mul"
        do {
            _ = try BackboneAnalyzer(model).analyze()
            Issue.record("imported")
        } catch let ONNXError.unsupportedGraph(_, reason) {
            #expect(reason == "unsupported graph: layer 0 has no layer_scale1 Mul with 32 values")
        }
        // With layer 0's scale present again but a stray extra consumer of a weight:
        var model2 = try load("dinov2_tiny")
        let j = try #require(model2.graph.nodes.firstIndex { $0.name == "/backbone/encoder/layer.1/Add" })
        model2.graph.nodes[j].name = "/backbone/encoder/layer.1/residual/Add"
        let conv = try #require(model2.graph.nodes.first { $0.opType == "Conv" && $0.name.contains("patch") })
        model2.graph.nodes[j].inputs[1] = conv.inputs[2]  // now adds the patch bias: an unnamed use
        do {
            _ = try BackboneAnalyzer(model2).analyze()
            Issue.record("imported")
        } catch let ONNXError.unsupportedGraph(_, reason) {
            #expect(reason.hasPrefix("unsupported graph: weight 'backbone.embeddings.patch_embeddings.projection.bias' [32] consumed by node '/backbone/encoder/layer.1/residual/Add'"), "\(reason)")
        }
    }
}
