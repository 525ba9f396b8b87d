import Foundation
import Testing
@testable import ViTLensCheckpoint

@Suite("ModelLocator")
struct ModelLocatorTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    /// An environment with only what the test sets (never the process's own HF variables).
    func environment(_ values: [String: String] = [:]) -> [String: String] {
        ["HOME": dir.path("home").path].merging(values) { $1 }
    }

    /// A model folder with config, weights and some extra files.
    @discardableResult
    func makeFolder(_ relative: String, preprocessor: Bool = true) throws -> URL {
        try dir.write("\(relative)/config.json", text: "{\"model_type\": \"vit\"}")
        try writeF32(["w": ([2], [1, 2])], to: dir.path("\(relative)/model.safetensors"))
        if preprocessor { try dir.write("\(relative)/preprocessor_config.json", text: "{}") }
        try dir.write("\(relative)/vocab.txt", text: "[PAD]\n")
        return dir.path(relative)
    }

    @Test func folder() throws {
        let folder = try makeFolder("m")
        let files = try ModelLocator.resolve(folder.path, environment: environment())
        #expect(files.directory.path == folder.path)
        #expect(files.config.path == folder.appendingPathComponent("config.json").path)
        #expect(files.weights.path == folder.appendingPathComponent("model.safetensors").path)
        #expect(files.preprocessorConfig?.path == folder.appendingPathComponent("preprocessor_config.json").path)
        #expect(files.file("vocab.txt")?.path == folder.appendingPathComponent("vocab.txt").path)
        #expect(files.file("tokenizer.json") == nil)
        #expect(files.file("../m/vocab.txt") == nil)
        #expect(try SafeTensorsArchive(url: files.weights).floats("w") == [1, 2])
    }

    @Test func folderWithShardedWeightsAndNoPreprocessor() throws {
        try dir.write("m/config.json", text: "{}")
        try writeF32(["w": ([1], [4])], to: dir.path("m/model-00001-of-00001.safetensors"))
        try dir.write("m/model.safetensors.index.json", text: "{\"weight_map\": {\"w\": \"model-00001-of-00001.safetensors\"}}")
        let files = try ModelLocator.resolve(dir.path("m").path, environment: environment())
        #expect(files.weights.lastPathComponent == "model.safetensors.index.json")
        #expect(files.preprocessorConfig == nil)
        #expect(try SafeTensorsArchive(url: files.weights).floats("w") == [4])
    }

    @Test func folderMissingConfigOrWeights() throws {
        try writeF32(["w": ([1], [4])], to: dir.path("noconfig/model.safetensors"))
        #expect(throws: CheckpointError.fileNotFound(file: dir.path("noconfig/config.json").path)) {
            try ModelLocator.resolve(dir.path("noconfig").path, environment: environment())
        }
        try dir.write("noweights/config.json", text: "{}")
        #expect(throws: CheckpointError.fileNotFound(file: dir.path("noweights/model.safetensors").path)) {
            try ModelLocator.resolve(dir.path("noweights").path, environment: environment())
        }
    }

    @Test func safetensorsFileOrConfigPath() throws {
        let folder = try makeFolder("m")
        let other = try writeF32(["v": ([1], [9])], to: folder.appendingPathComponent("other.safetensors"))
        let files = try ModelLocator.resolve(other.path, environment: environment())
        #expect(files.weights.path == other.path)
        #expect(files.directory.path == folder.path)
        #expect(files.config.path == folder.appendingPathComponent("config.json").path)
        let viaConfig = try ModelLocator.resolve(folder.appendingPathComponent("config.json").path, environment: environment())
        #expect(viaConfig.weights.lastPathComponent == "model.safetensors")
    }

    @Test func safetensorsFileWithoutConfigBeside() throws {
        let lone = try writeF32(["v": ([1], [9])], to: dir.path("lone/w.safetensors"))
        #expect(throws: CheckpointError.fileNotFound(file: dir.path("lone/config.json").path)) {
            try ModelLocator.resolve(lone.path, environment: environment())
        }
    }

    @Test func tildeIsExpandedWithHOME() throws {
        try makeFolder("home/models/m")
        let files = try ModelLocator.resolve("~/models/m", environment: environment())
        #expect(files.directory.path == dir.path("home/models/m").path)
    }

    @Test(arguments: ["/no/such/folder", "./missing", "../x/y/z", "missing.safetensors/", "a/b/c", "-bad", "org/name--x", "org/..", "", "modle.safetensors",
                       "org/model.onnx", "x/config.json"])
    func missingPathThatIsNoHubID(spec: String) {
        #expect(throws: CheckpointError.modelNotFound(spec: spec)) {
            try ModelLocator.resolve(spec, environment: environment(["HF_HUB_OFFLINE": "1", "HF_HOME": dir.path("hf").path]))
        }
    }

    @Test func hubIDRules() {
        #expect(HubID("facebook/dinov2-small")?.cacheFolderName == "models--facebook--dinov2-small")
        #expect(HubID("gpt2")?.cacheFolderName == "models--gpt2")
        #expect(HubID("google/vit-base-patch16-224.v2") != nil)
        for bad in ["a/b/c", "/abs", "org/", "-x/y", "x./y", "a--b/c", "a..b", "org/x y", "org/é", String(repeating: "a", count: 97)] {
            #expect(HubID(bad) == nil, "\(bad)")
        }
    }

    @Test func unrelatedExistingFileIsNotAModel() throws {
        let onnx = try dir.write("m/model.onnx", text: "x")
        #expect(throws: CheckpointError.modelNotFound(spec: onnx.path)) { try ModelLocator.resolve(onnx.path, environment: environment()) }
    }

    // MARK: - Hugging Face cache

    /// Builds `hub/models--ORG--NAME` like huggingface_hub does: blobs named by etag, snapshot
    /// entries as relative symlinks, `refs/main` holding the sha.
    @discardableResult
    func makeCachedRepo(hub: URL, id: String, sha: String = "0123456789abcdef0123456789abcdef01234567",
                        files: [String: Data], writeRef: Bool = true) throws -> URL {
        let repo = hub.appendingPathComponent("models--" + id.replacingOccurrences(of: "/", with: "--"))
        let fm = FileManager.default
        try fm.createDirectory(at: repo.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        let snapshot = repo.appendingPathComponent("snapshots/\(sha)")
        try fm.createDirectory(at: snapshot, withIntermediateDirectories: true)
        for (i, (name, data)) in files.sorted(by: { $0.key < $1.key }).enumerated() {
            let etag = String(format: "%040x", i + 1)
            try data.write(to: repo.appendingPathComponent("blobs/\(etag)"))
            try fm.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/\(etag)")
        }
        if writeRef {
            try fm.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
            try Data(sha.utf8).write(to: repo.appendingPathComponent("refs/main"))
        }
        return snapshot
    }

    func tinyModelFiles() -> [String: Data] {
        let weights = SafeTensorsWriter.encode(["embeddings.cls_token": .init(shape: [1, 1, 2], values: [0.5, -1.5])])
        return ["config.json": Data("{\"model_type\":\"vit\"}".utf8), "model.safetensors": weights,
                "preprocessor_config.json": Data("{}".utf8)]
    }

    @Test func cachedSnapshotWithSymlinks() throws {
        let hub = dir.path("hf/hub")
        let snapshot = try makeCachedRepo(hub: hub, id: "org/tiny", files: tinyModelFiles())
        let files = try ModelLocator.resolve("org/tiny", environment: environment(["HF_HOME": dir.path("hf").path, "HF_HUB_OFFLINE": "1"]))
        #expect(files.directory.path == snapshot.path)
        #expect(files.config.path == snapshot.appendingPathComponent("config.json").path)
        #expect(files.preprocessorConfig != nil)
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: files.weights.path)
        #expect(link.hasPrefix("../../blobs/"))
        #expect(try SafeTensorsArchive(url: files.weights).floats("embeddings.cls_token") == [0.5, -1.5])
        // The repository folder itself works as a path too.
        let viaFolder = try ModelLocator.resolve(hub.appendingPathComponent("models--org--tiny").path, environment: environment())
        #expect(viaFolder.directory.path == snapshot.path)
    }

    @Test func cacheFolderPrecedence() throws {
        try makeCachedRepo(hub: dir.path("explicit"), id: "solo", files: tinyModelFiles())
        try makeCachedRepo(hub: dir.path("xdg/huggingface/hub"), id: "org/x", files: tinyModelFiles())
        try makeCachedRepo(hub: dir.path("home/.cache/huggingface/hub"), id: "org/y", files: tinyModelFiles())
        let offline = ["HF_HUB_OFFLINE": "1"]
        // HF_HUB_CACHE wins over HF_HOME; a bare name is an id.
        let solo = try ModelLocator.resolve("solo", environment: environment(offline.merging(["HF_HUB_CACHE": dir.path("explicit").path, "HF_HOME": dir.path("hf").path]) { $1 }))
        #expect(solo.directory.path.hasPrefix(dir.path("explicit/models--solo/snapshots/").path))
        let xdg = try ModelLocator.resolve("org/x", environment: environment(offline.merging(["XDG_CACHE_HOME": dir.path("xdg").path]) { $1 }))
        #expect(xdg.directory.path.hasPrefix(dir.path("xdg/huggingface/hub/models--org--x").path))
        let home = try ModelLocator.resolve("org/y", environment: environment(offline))
        #expect(home.directory.path.hasPrefix(dir.path("home/.cache/huggingface/hub/models--org--y").path))
    }

    @Test func offlineAndNotCached() throws {
        let hub = dir.path("hf/hub").path
        #expect(throws: CheckpointError.notCached(id: "org/absent", cache: hub)) {
            try ModelLocator.resolve("org/absent", environment: environment(["HF_HOME": dir.path("hf").path, "HF_HUB_OFFLINE": "1"]))
        }
        #expect(throws: CheckpointError.notCached(id: "org/absent", cache: hub)) {
            try ModelLocator.resolve("org/absent", environment: environment(["HF_HOME": dir.path("hf").path, "TRANSFORMERS_OFFLINE": "yes"]))
        }
        let message = "\(CheckpointError.notCached(id: "org/absent", cache: hub))"
        #expect(message.hasPrefix("org/absent: not in the Hugging Face cache \(hub)"))
        #expect(!message.contains("\n"))
    }

    @Test func incompleteSnapshotsDoNotLoad() throws {
        let env = environment(["HF_HOME": dir.path("hf").path, "HF_HUB_OFFLINE": "1"])
        let hub = dir.path("hf/hub")
        // No refs/main: an interrupted download.
        try makeCachedRepo(hub: hub, id: "org/noref", files: tinyModelFiles(), writeRef: false)
        #expect(throws: CheckpointError.notCached(id: "org/noref", cache: hub.path)) { try ModelLocator.resolve("org/noref", environment: env) }
        // refs/main but no weights (only config fetched).
        var configOnly = tinyModelFiles()
        configOnly["model.safetensors"] = nil
        try makeCachedRepo(hub: hub, id: "org/config-only", files: configOnly)
        #expect(throws: CheckpointError.notCached(id: "org/config-only", cache: hub.path)) { try ModelLocator.resolve("org/config-only", environment: env) }
        // An index whose second shard is missing.
        var sharded = configOnly
        sharded["model.safetensors.index.json"] = Data("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}".utf8)
        sharded["s1.safetensors"] = SafeTensorsWriter.encode(["a": .init(shape: [1], values: [1])])
        try makeCachedRepo(hub: hub, id: "org/half-sharded", files: sharded)
        #expect(throws: CheckpointError.notCached(id: "org/half-sharded", cache: hub.path)) { try ModelLocator.resolve("org/half-sharded", environment: env) }
        // A dangling blob link counts as missing.
        let snapshot = try makeCachedRepo(hub: hub, id: "org/dangling", files: tinyModelFiles())
        let blob = try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model.safetensors").path)
        try FileManager.default.removeItem(at: snapshot.appendingPathComponent(blob))
        #expect(throws: CheckpointError.notCached(id: "org/dangling", cache: hub.path)) { try ModelLocator.resolve("org/dangling", environment: env) }
    }

    @Test func offlineFlagValues() {
        #expect(ModelLocator.isOffline(["HF_HUB_OFFLINE": "1"]))
        #expect(ModelLocator.isOffline(["HF_HUB_OFFLINE": "true"]))
        #expect(ModelLocator.isOffline(["HF_HUB_OFFLINE": "ON"]))
        #expect(!ModelLocator.isOffline(["HF_HUB_OFFLINE": "0"]))
        #expect(!ModelLocator.isOffline([:]))
        #expect(ModelLocator.isOffline(["HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "1"]))
        #expect(!ModelLocator.isOffline(["HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"]))
    }
}
