import Foundation
import Testing
@testable import ViTLensCheckpoint

@Suite("WeightStore")
struct WeightStoreTests {
    let dir: TemporaryDirectory
    let url: URL
    let archive: SafeTensorsArchive

    init() throws {
        dir = try TemporaryDirectory()
        // A classification checkpoint: base weights under "vit.", a head, and an integer buffer.
        let header = "{" + [RawSafeTensors.entry("classifier.bias", "F32", [2], 0, 8),
                            RawSafeTensors.entry("vit.embeddings.cls_token", "F32", [1, 1, 3], 8, 20),
                            RawSafeTensors.entry("vit.embeddings.position_ids", "I64", [1, 2], 20, 36),
                            RawSafeTensors.entry("vit.encoder.layer.0.w", "F16", [2, 3], 36, 48)].joined(separator: ",") + "}"
        let data = RawSafeTensors.le32([0.5, -0.5]) + RawSafeTensors.le32([1, 2, 3]) + RawSafeTensors.le64([0, 1])
            + RawSafeTensors.le16([0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600])
        url = try dir.write("model.safetensors", RawSafeTensors.bytes(header: header, data: data))
        archive = try SafeTensorsArchive(url: url)
    }

    @Test func takesAsWrittenAndWithTheBasePrefix() throws {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(try store.take("classifier.bias", shape: [2]) == [0.5, -0.5])
        #expect(try store.take("embeddings.cls_token", shape: [1, 1, 3]) == [1, 2, 3])
        #expect(try store.take("vit.encoder.layer.0.w", shape: [2, 3]) == [1, 2, 3, 4, 5, 6])
        #expect(store.file == url.path)
        #expect(store.unusedKeys == ["vit.embeddings.position_ids"])
    }

    @Test func withoutPrefixNoFallback() throws {
        let store = WeightStore(archive: archive)
        #expect(!store.has("embeddings.cls_token"))
        #expect(throws: CheckpointError.missingWeight(key: "embeddings.cls_token", file: url.path)) {
            try store.take("embeddings.cls_token", shape: [1, 1, 3])
        }
    }

    @Test func prefixedKeyFindsABaseCheckpoint() throws {
        let base = try writeF32(["embeddings.cls_token": ([1, 1, 2], [7, 8])], to: dir.path("base/model.safetensors"))
        let store = WeightStore(archive: try SafeTensorsArchive(url: base), basePrefix: "vit.")
        #expect(try store.take("vit.embeddings.cls_token", shape: [1, 1, 2]) == [7, 8])
        try store.finish()
    }

    @Test func missingWeight() {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(throws: CheckpointError.missingWeight(key: "pooler.dense.weight", file: url.path)) {
            try store.take("pooler.dense.weight", shape: [3, 3])
        }
        #expect("\(CheckpointError.missingWeight(key: "pooler.dense.weight", file: url.path))" == "\(url.path): missing weight 'pooler.dense.weight'")
    }

    @Test func shapeMismatchNamesTheStoredKey() {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(throws: CheckpointError.shapeMismatch(key: "vit.encoder.layer.0.w", expected: [3, 2], found: [2, 3], file: url.path)) {
            try store.take("encoder.layer.0.w", shape: [3, 2])
        }
        #expect(throws: CheckpointError.shapeMismatch(key: "classifier.bias", expected: [3], found: [2], file: url.path)) {
            try store.takeOptional("classifier.bias", shape: [3])
        }
        // A failed take does not count as used.
        #expect(store.unusedKeys.contains("vit.encoder.layer.0.w"))
    }

    @Test func optionalWeights() throws {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(try store.takeOptional("pooler.dense.bias", shape: [3]) == nil)
        #expect(try store.takeOptional("classifier.bias", shape: [2]) == [0.5, -0.5])
        #expect(!store.unusedKeys.contains("classifier.bias"))
    }

    @Test func hasAndShapeDoNotMark() {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(store.has("embeddings.cls_token"))
        #expect(store.shape(of: "classifier.bias") == [2])
        #expect(store.shape(of: "encoder.layer.0.w") == [2, 3])
        #expect(store.shape(of: "nope") == nil)
        #expect(store.unusedKeys.count == 4)
    }

    @Test func integerBufferCannotBeTakenAsFloats() {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        #expect(throws: CheckpointError.unknownDType(file: url.path, key: "vit.embeddings.position_ids", dtype: "I64")) {
            try store.take("embeddings.position_ids", shape: [1, 2])
        }
    }

    @Test func leftoversAreUnexpectedUntilIgnored() throws {
        let store = WeightStore(archive: archive, basePrefix: "vit.")
        _ = try store.take("embeddings.cls_token", shape: [1, 1, 3])
        _ = try store.take("encoder.layer.0.w", shape: [2, 3])
        #expect(throws: CheckpointError.unexpectedWeights(keys: ["classifier.bias", "vit.embeddings.position_ids"], file: url.path)) {
            try store.finish()
        }
        store.ignore { $0.hasSuffix("position_ids") }
        #expect(throws: CheckpointError.unexpectedWeights(keys: ["classifier.bias"], file: url.path)) { try store.finish() }
        store.ignore { $0.hasPrefix("classifier.") }
        try store.finish()
    }

    @Test func unexpectedMessageListsFiveKeysAndTheCount() {
        let keys = (1 ... 7).map { "k\($0)" }
        let message = "\(CheckpointError.unexpectedWeights(keys: keys, file: "m.safetensors"))"
        #expect(message == "m.safetensors: 7 unexpected weights the model did not use: 'k1', 'k2', 'k3', 'k4', 'k5', ... (2 more)")
        #expect("\(CheckpointError.unexpectedWeights(keys: ["a"], file: "m"))" == "m: 1 unexpected weight the model did not use: 'a'")
    }

    @Test func concurrentTakesAreAllMarked() async throws {
        let names = (0 ..< 64).map { "layer.\($0).w" }
        let big = try writeF32(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, ([2], [Float($0), 1])) }),
                               to: dir.path("big/model.safetensors"))
        let store = WeightStore(archive: try SafeTensorsArchive(url: big))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, name) in names.enumerated() {
                group.addTask {
                    let values = try store.take(name, shape: [2])
                    #expect(values == [Float(i), 1])
                }
            }
            try await group.waitForAll()
        }
        try store.finish()
    }
}
