import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensModels

/// The family registry, config errors as ``ModelError``, and the text model's input errors.
@Suite struct ModelRegistryTests {
    @Test func supportedTypesComeFromTheRegistry() {
        #expect(ModelLoader.supportedModelTypes == ["vit", "deit", "dinov2", "dinov2_with_registers", "clip_vision_model", "clip", "bert",
                                                    "siglip_vision_model", "siglip"])
        #expect(ModelLoader.supportedModelTypes == ModelFamilies.all.flatMap { $0.modelTypes })
        for type in ModelLoader.supportedModelTypes { #expect(ModelFamilies.family(for: type) != nil) }
        #expect(ModelFamilies.family(for: "swin") == nil)
        #expect(ModelFamilies.family(for: "siglip2").map { ObjectIdentifier($0) } == ObjectIdentifier(SigLIPVisionFamily.self))
        #expect(CLIPVisionFamily.keyPrefix(for: "clip") == "vision_model.")
        #expect(DINOv2Family.keyPrefix(for: "dinov2_with_registers") == "dinov2_with_registers.")
    }

    @Test func configErrorsReadAsBefore() {
        #expect("\(ModelError.configMissingField(file: "c.json", field: "f"))" == "c.json: missing field 'f'")
        #expect("\(ModelError.configInvalid(file: "c.json", reason: "r"))" == "c.json: invalid config: r")
        #expect("\(ModelError.unknownModelType(file: "c.json", type: "swin"))"
            == "c.json: unknown model_type 'swin' (supported: vit, deit, dinov2, dinov2_with_registers, clip_vision_model, clip, bert, siglip_vision_model, siglip)")
    }

    /// Copies the fixture `model` with `config.json` fields replaced by JSON text, and loads it.
    static func load(_ model: String, _ edits: [(String, String)]) throws -> (config: String, error: String) {
        let copy = try FixtureModelCopy(model)
        defer { copy.remove() }
        for (key, json) in edits {
            // setJSON edits scalars in place; an object value is removed first, then inserted.
            let url = copy.file("config.json")
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            if object[key] is [String: Any] {
                object.removeValue(forKey: key)
                try JSONSerialization.data(withJSONObject: object).write(to: url)
            }
            try copy.setJSON("config.json", key, json)
        }
        do {
            _ = try ModelLoader.load(try ModelFiles(directory: copy.url))
            return (copy.file("config.json").path, "loaded")
        } catch {
            return (copy.file("config.json").path, "\(error)")
        }
    }

    @Test(arguments: [
        ("vit-p16-cls", "model_type", "\"swin\"", "unknown model_type 'swin'"),
        ("vit-p16-cls", "model_type", "3", "invalid config: 'model_type' is not a string"),
        ("vit-p16-cls", "model_type", "null", "missing field 'model_type'"),
        ("vit-p16-cls", "hidden_size", "70000", "invalid config: 'hidden_size' is 70000, above ViTLens's limit of 65536"),
        ("vit-p16-cls", "patch_size", "0", "invalid config: 'patch_size' must be positive, got 0"),
        ("vit-p16-cls", "patch_size", "500", "invalid config: image_size 224 is smaller than patch_size 500"),
        ("vit-p16-cls", "id2label", "{\"x\": \"cat\"}", "invalid config: id2label entry 'x' is not index -> name"),
        ("vit-p16-cls", "hidden_act", "\"swish\"", "invalid config: hidden_act 'swish' is not supported"),
        ("bert-tiny", "position_embedding_type", "\"relative_key\"", "invalid config: position_embedding_type 'relative_key' is not supported"),
        ("bert-tiny", "vocab_size", "true", "invalid config: 'vocab_size' is not an integer"),
        ("dinov2", "mlp_ratio", "0", "invalid config: 'mlp_ratio' is 0.0, expected a number in (0, 64]"),
        ("dinov2", "use_swiglu_ffn", "1", "invalid config: 'use_swiglu_ffn' is not a boolean (true or false)"),
        ("clip-full", "vision_config", "[]", "invalid config: 'vision_config' is not an object"),
        ("clip-full", "vision_config", "null", "missing field 'vision_config'"),
    ])
    func badConfigsAreOneLineModelErrors(_ model: String, _ key: String, _ json: String, _ problem: String) throws {
        let (config, error) = try Self.load(model, [(key, json)])
        #expect(error.hasPrefix("\(config): \(problem)"), "\(error)")
        #expect(!error.contains("\n"))
    }

    /// JSONDecoder keeps the first of two equal keys and Python the last, so neither is guessed.
    @Test func duplicateConfigKeysAreRefused() throws {
        let top = try ConfigFile.decode(ConfigValueTests.Probe.self, from: Data(#"{"hidden_size": 8}"#.utf8), file: "c.json")
        #expect(try top.int("hidden_size") == 8)
        #expect(throws: ModelError.configInvalid(file: "c.json", reason: "key 'hidden_size' appears twice")) {
            try ConfigFile.decode(ConfigValueTests.Probe.self, from: Data(#"{"hidden_size": 8, "hidden_size": 16}"#.utf8), file: "c.json")
        }
        #expect(throws: ModelError.configInvalid(file: "c.json", reason: "key '1' appears twice in 'id2label'")) {
            try ConfigFile.decode(ConfigValueTests.Probe.self, from: Data(#"{"id2label": {"1": "a", "1": "b"}}"#.utf8), file: "c.json")
        }
    }

    @Test func clipVisionConfigFieldsAreCheckedInsideTheNestedObject() throws {
        let (config, error) = try Self.load("clip-full", [("vision_config", #"{"hidden_size": true}"#)])
        #expect(error == "\(config): invalid config: 'hidden_size' is not an integer")
    }

    @Test func textModelNamesEmptyInputAndTypeIDCount() throws {
        guard case .text(let bert) = try ModelLoader.load(try ModelFiles(directory: Fixtures.url("models/bert-tiny"))) else {
            Issue.record("bert-tiny is not a text model")
            return
        }
        var none = NoObserver()
        #expect(throws: ModelInputError.empty) { _ = try bert.forward(ids: [], observer: &none) }
        #expect("\(ModelInputError.empty)" == "the input has no tokens")
        #expect(throws: ModelInputError.typeIDCount(typeIDs: 2, tokens: 3)) {
            _ = try bert.forward(ids: [2, 5, 3], typeIds: [0, 0], observer: &none)
        }
        #expect("\(ModelInputError.typeIDCount(typeIDs: 2, tokens: 3))" == "2 token type ids were given for 3 tokens (one per token is needed)")
        // The checks that were right stay as they were.
        #expect(throws: ModelInputError.badTokenID(id: bert.vocabularySize, vocabularySize: bert.vocabularySize)) {
            _ = try bert.forward(ids: [2, bert.vocabularySize], observer: &none)
        }
    }
}
