import Foundation
import Testing
import ViTLensCheckpoint
@testable import ViTLensModels
import ViTLensTestSupport

/// `config.json` inputs the fuzzer (`Fuzz/Config`) turned up: each is a one-line
/// `ModelError` (config) or `CheckpointError` (weights), never a trap. The folder holds a weight file without tensors, so loading
/// stops at the config or at the first missing weight.
@Suite struct ConfigFuzzRegressionTests {
    /// Loads a folder holding `config` and an empty checkpoint; returns the error thrown.
    static func loadError(_ config: String) throws -> (any Error)? {
        let folder = try temporaryFolder("config-fuzz")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        try Data([2, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8)).write(to: folder.appendingPathComponent("model.safetensors"))
        do {
            _ = try ModelLoader.load(ModelFiles(directory: folder))
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        // Found by the fuzzer: Int(Double) trapped on an infinite product.
        "{\"model_type\": \"dinov2\", \"mlp_ratio\": 1e308}",
        "{\"model_type\": \"dinov2\", \"use_swiglu_ffn\": true, \"mlp_ratio\": -1e300}",
        "{\"model_type\": \"dinov2_with_registers\", \"mlp_ratio\": 0.0001}",
        "{\"model_type\": \"dinov2\", \"hidden_size\": 768, \"mlp_ratio\": 4096}",
    ])
    func mlpRatioThatGivesNoUnitsIsRefused(config: String) throws {
        let error = try #require(try Self.loadError(config))
        guard case ModelError.configInvalid(let file, let reason)? = error as? ModelError else {
            Issue.record("expected configInvalid, got \(error)")
            return
        }
        #expect(file.hasSuffix("config.json"))
        #expect(reason.hasPrefix("'mlp_ratio' is "))
        #expect(reason.hasSuffix("giving a positive MLP width"))
        #expect(!"\(error)".contains("\n"))
    }

    @Test func usualMLPRatioStillReachesTheWeights() throws {
        let error = try #require(try Self.loadError("{\"model_type\": \"dinov2\", \"hidden_size\": 8, \"num_attention_heads\": 2, \"mlp_ratio\": 2.5}"))
        guard case CheckpointError.missingWeight? = error as? CheckpointError else {
            Issue.record("expected missingWeight, got \(error)")
            return
        }
    }
}
