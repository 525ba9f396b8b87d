import Foundation
import Testing
@testable import ViTLensCheckpoint

@Suite("SafeTensorsArchive")
struct SafeTensorsArchiveTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    /// Two shards and an index: `a.*` in shard 1, `b.*` in shard 2.
    func makeSharded(weightMap: [String: String]? = nil, extraInShard2: Bool = false) throws -> URL {
        try writeF32(["a.weight": ([2, 2], ramp(4)), "a.bias": ([2], [5, 6])], to: dir.path("m/model-00001-of-00002.safetensors"))
        var shard2: [String: ([Int], [Float])] = ["b.weight": ([3], [-1, -2, -3])]
        if extraInShard2 { shard2["stray"] = ([1], [0]) }
        try writeF32(shard2, to: dir.path("m/model-00002-of-00002.safetensors"))
        let map = weightMap ?? ["a.weight": "model-00001-of-00002.safetensors", "a.bias": "model-00001-of-00002.safetensors",
                                "b.weight": "model-00002-of-00002.safetensors"]
        let json = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 36], "weight_map": map], options: [.sortedKeys])
        return try dir.write("m/model.safetensors.index.json", json)
    }

    @Test func singleFileAndItsFolder() throws {
        let url = try writeF32(["x": ([2], [1, 2])], to: dir.path("m/model.safetensors"))
        for target in [url, dir.path("m")] {
            let archive = try SafeTensorsArchive(url: target)
            #expect(archive.names == ["x"])
            #expect(try archive.floats("x") == [1, 2])
            #expect(archive.fileName(for: "x") == url.path)
            #expect(archive.fileName(for: "y") == nil)
            #expect(archive.description == url.path)
        }
    }

    @Test func folderWithOneOtherSafetensorsFile() throws {
        let url = try writeF32(["x": ([1], [3])], to: dir.path("m/weights.safetensors"))
        #expect(try SafeTensorsArchive(url: dir.path("m")).description == url.path)
    }

    @Test func folderWithoutWeights() throws {
        try dir.write("m/config.json", text: "{}")
        #expect(throws: CheckpointError.fileNotFound(file: dir.path("m/model.safetensors").path)) { try SafeTensorsArchive(url: dir.path("m")) }
        #expect(throws: CheckpointError.fileNotFound(file: dir.path("none.safetensors").path)) { try SafeTensorsArchive(url: dir.path("none.safetensors")) }
    }

    @Test func shardedIndexJoinsShards() throws {
        let index = try makeSharded()
        for target in [index, dir.path("m")] {
            let archive = try SafeTensorsArchive(url: target)
            #expect(archive.names == ["a.bias", "a.weight", "b.weight"])
            #expect(try archive.floats("a.weight") == [0, 0.25, 0.5, 0.75])
            #expect(try archive.floats("b.weight") == [-1, -2, -3])
            #expect(archive.info("b.weight")?.shape == [3])
            #expect(archive.fileName(for: "b.weight") == dir.path("m/model-00002-of-00002.safetensors").path)
            #expect(archive.fileName(for: "a.bias") == dir.path("m/model-00001-of-00002.safetensors").path)
            #expect(archive.description == index.path)
            #expect(throws: CheckpointError.missingWeight(key: "c", file: index.path)) { try archive.floats("c") }
        }
    }

    @Test func missingShardNamesTheIndex() throws {
        let index = try makeSharded()
        try FileManager.default.removeItem(at: dir.path("m/model-00002-of-00002.safetensors"))
        #expect(throws: CheckpointError.badIndex(file: index.path, reason: "shard 'model-00002-of-00002.safetensors' (listed for 'b.weight') does not exist")) {
            try SafeTensorsArchive(url: index)
        }
    }

    @Test func keyMappedToAShardThatLacksIt() throws {
        let index = try makeSharded(weightMap: ["a.weight": "model-00001-of-00002.safetensors", "a.bias": "model-00002-of-00002.safetensors",
                                                "b.weight": "model-00002-of-00002.safetensors"])
        #expect(throws: CheckpointError.badIndex(file: index.path, reason: "'a.bias' is mapped to shard 'model-00002-of-00002.safetensors', which does not hold it")) {
            try SafeTensorsArchive(url: index)
        }
    }

    @Test func shardKeyMissingFromTheWeightMap() throws {
        let index = try makeSharded(extraInShard2: true)
        #expect(throws: CheckpointError.badIndex(file: index.path, reason: "shard 'model-00002-of-00002.safetensors' holds 'stray', which the weight_map does not list")) {
            try SafeTensorsArchive(url: index)
        }
    }

    @Test func brokenShardIsReportedWithItsOwnName() throws {
        let index = try makeSharded()
        let shard = try dir.write("m/model-00002-of-00002.safetensors", RawSafeTensors.bytes(header: "{}", headerLength: 99))
        #expect(throws: CheckpointError.headerPastEnd(file: shard.path, headerLength: 99, fileSize: 10)) { try SafeTensorsArchive(url: index) }
    }

    @Test(arguments: [
        ("{\"weight_map\": 3}", "no \"weight_map\" object"),
        ("{\"metadata\": {}}", "no \"weight_map\" object"),
        ("[]", "not a JSON object"),
        ("{\"weight_map\": {\"a\": 1}}", "weight_map entry 'a' is not a file name"),
        ("{\"weight_map\": {\"a\": \"../x.safetensors\"}}", "shard name '../x.safetensors' for 'a' leaves the index's folder"),
        ("{\"weight_map\": {\"a\": \"/etc/x.safetensors\"}}", "shard name '/etc/x.safetensors' for 'a' leaves the index's folder"),
        ("{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}", "key 'a' appears twice in the object of 'weight_map'"),
    ])
    func malformedIndex(json: String, reason: String) throws {
        let index = try dir.write("m/model.safetensors.index.json", text: json)
        #expect(throws: CheckpointError.badIndex(file: index.path, reason: reason)) { try SafeTensorsArchive(url: index) }
    }

    @Test func indexThatIsNotJSON() throws {
        let index = try dir.write("m/model.safetensors.index.json", text: "{\"weight_map\": ")
        let error = thrownError { try SafeTensorsArchive(url: index) }
        guard case .badIndex(let file, let reason)? = error as? CheckpointError else {
            Issue.record("expected badIndex, got \(String(describing: error))")
            return
        }
        #expect(file == index.path)
        #expect(reason.hasPrefix("file is not valid JSON"))
    }
}
