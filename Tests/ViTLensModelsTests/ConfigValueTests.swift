import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// JSON `0`/`1` are numbers and `true`/`false` booleans, never the other way round (Foundation's
/// NSNumber bridging confuses them on Linux): a real one-layer, one-head model loads, and a
/// boolean field holding `1` (or an integer field holding `true`) is refused naming the field.
@Suite struct ConfigValueTests {
    let vit = Fixtures.url("models/vit-p16-cls")

    /// A copy of the fixture ViT with `config` edits and the weights filtered and mapped.
    func vitCopy(config edits: [String: Any], keep: (String) -> Bool = { _ in true },
                 map: (String, Tensor) -> Tensor = { $1 }) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: vit.appendingPathComponent("config.json"))) as? [String: Any])
        for (k, v) in edits { config[k] = v }
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: vit.appendingPathComponent("preprocessor_config.json"),
                                         to: dir.appendingPathComponent("preprocessor_config.json"))
        let source = try SafeTensorsFile(contentsOf: vit.appendingPathComponent("model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in source.names where keep(name) { tensors[name] = map(name, try source.tensor(name)) }
        try SafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    /// Writes `json` as a config file and reads it.
    func reader(_ json: String) throws -> ConfigReader {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-config-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: url)
        return try ConfigReader(contentsOf: url)
    }

    @Test func oneLayerOneHeadModelLoadsAndRuns() throws {
        let dir = try vitCopy(config: ["num_hidden_layers": 1, "num_attention_heads": 1], keep: { !$0.contains("encoder.layer.1.") })
        let pipeline = try VisionPipeline(model: dir.path)
        #expect(pipeline.model.spec.layers == 1)
        let image = try pipeline.prepare(Fixtures.repositoryRoot.appendingPathComponent("photos/rocket.jpg"))
        var heads = HeadMaps(layer: -1)
        _ = try pipeline.run(image, observer: &heads)
        let maps = try #require(heads.result).maps
        #expect(maps.shape == [1, 14, 14])
        // One head's CLS row over the patches: probabilities that sum to at most 1.
        let mass = maps.values.reduce(0, +)
        #expect(mass > 0 && mass <= 1.0001)
    }

    @Test func integersAndBooleansAreExact() throws {
        let c = try reader(#"{"one": 1, "zero": 0, "yes": true, "no": false, "whole": 2.0, "half": 1.5, "big": 12345678901234567890, "neg": -3}"#)
        #expect(try c.int("one") == 1)
        #expect(try c.int("zero") == 0)
        #expect(try c.int("whole") == 2)
        #expect(try c.int("neg") == -3)
        #expect(try c.positiveInt("one") == 1)
        #expect(try c.bool("yes", default: false) == true)
        #expect(try c.bool("no", default: true) == false)
        #expect(try c.double("one", default: 0) == 1)
        for key in ["yes", "no", "half", "big"] {
            #expect(throws: CheckpointError.configInvalid(file: c.file, reason: "'\(key)' is not an integer")) { try c.int(key) }
        }
        for key in ["one", "zero", "whole"] {
            #expect(throws: CheckpointError.configInvalid(file: c.file, reason: "'\(key)' is not a boolean (true or false)")) {
                try c.bool(key, default: false)
            }
        }
        #expect(throws: CheckpointError.configInvalid(file: c.file, reason: "'yes' is not a number")) { try c.double("yes", default: 0) }
    }

    @Test func booleanFieldHoldingOneIsRefused() throws {
        let dir = try vitCopy(config: ["qkv_bias": 1])
        let config = dir.appendingPathComponent("config.json").path
        #expect(throws: CheckpointError.configInvalid(file: config, reason: "'qkv_bias' is not a boolean (true or false)")) {
            try VisionPipeline(model: dir.path)
        }
    }

    @Test func integerFieldHoldingTrueIsRefused() throws {
        let dir = try vitCopy(config: ["num_attention_heads": true])
        let config = dir.appendingPathComponent("config.json").path
        #expect(throws: CheckpointError.configInvalid(file: config, reason: "'num_attention_heads' is not an integer")) {
            try VisionPipeline(model: dir.path)
        }
    }

    /// A one-channel model is refused at load, naming config.json, not on every photo.
    @Test func nonRGBModelIsTheConfigsFault() throws {
        let projection = "vit.embeddings.patch_embeddings.projection.weight"
        let dir = try vitCopy(config: ["num_channels": 1], map: { name, tensor in
            guard name == projection else { return tensor }
            let (out, inner) = (tensor.shape[0], 16 * 16)
            var values: [Float] = []
            for o in 0 ..< out { values += tensor.values[(o * 3 * inner) ..< (o * 3 * inner + inner)] }
            return Tensor(shape: [out, 1, 16, 16], values: values)
        })
        #expect(throws: CheckpointError.configInvalid(file: dir.appendingPathComponent("config.json").path,
                                                      reason: "num_channels is 1; ViTLens feeds RGB images (3 channels)")) {
            try VisionPipeline(model: dir.path)
        }
    }

    /// ImageProcessorConfig decodes with JSONDecoder, which already keeps numbers and booleans apart.
    @Test(arguments: [
        (#"{"do_resize": 1}"#, "do_resize"),
        (#"{"do_normalize": 0}"#, "do_normalize"),
        (#"{"size": {"height": true, "width": 224}}"#, "height"),
        (#"{"crop_size": {"height": 224, "width": false}}"#, "width"),
    ])
    func processorConfigKeepsNumbersAndBooleansApart(_ json: String, _ field: String) throws {
        let error = try #require(throws: ImageError.self) { try ImageProcessorConfig(jsonData: Data(json.utf8), file: "pp.json") }
        #expect(error.description.hasPrefix("pp.json: "))
        #expect(error.description.contains(field), "\(error)")
    }
}
