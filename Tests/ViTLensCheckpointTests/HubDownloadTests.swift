import Foundation
import Testing
@testable import ViTLensCheckpoint

/// Downloads from a local ``TestHTTPServer`` standing in for the Hub (no internet).
@Suite("Hub download")
struct HubDownloadTests {
    static let sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334"
    static let weightsData = SafeTensorsWriter.encode(["embeddings.cls_token": .init(shape: [1, 1, 2], values: [0.5, -1.5]),
                                                       "encoder.w": .init(shape: [2, 2], values: [1, 2, 3, 4])])
    /// The Hub names LFS blobs by the SHA-256 of their content, and the downloader checks it.
    static let weightsETag = SHA256.hex(weightsData)
    let dir: TemporaryDirectory
    let config = Data("{\"model_type\":\"vit\",\"hidden_size\":2}".utf8)
    let weights = HubDownloadTests.weightsData

    init() throws { dir = try TemporaryDirectory() }

    var hub: URL { dir.path("hf/hub") }
    var repo: URL { hub.appendingPathComponent("models--org--tiny") }
    var snapshot: URL { repo.appendingPathComponent("snapshots/\(Self.sha)") }

    func environment(_ server: TestHTTPServer, _ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": dir.path("home").path, "HF_HOME": dir.path("hf").path, "HF_ENDPOINT": server.endpoint].merging(extra) { $1 }
    }

    /// The Hub's routes for `org/tiny`: API reply, config and vocab served directly with a git
    /// ETag, weights through a redirect carrying `X-Linked-Etag` (as the Hub does for LFS files).
    func routes(siblings: [String] = ["config.json", "model.safetensors", "vocab.txt", "README.md"]) -> [String: TestHTTPServer.Route] {
        let list = siblings.map { "{\"rfilename\":\"\($0)\"}" }.joined(separator: ",")
        let base = "/org/tiny/resolve/\(Self.sha)"
        return [
            "/api/models/org/tiny/revision/main": .json("{\"id\":\"org/tiny\",\"sha\":\"\(Self.sha)\",\"siblings\":[\(list)]}"),
            "\(base)/config.json": .file(config, etag: "c0ffee0000000000000000000000000000000001"),
            "\(base)/vocab.txt": .file(Data("[PAD]\n".utf8), etag: "c0ffee0000000000000000000000000000000002"),
            "\(base)/model.safetensors": .redirect(to: "/cdn/tiny-weights", linkedETag: Self.weightsETag),
            "/cdn/tiny-weights": .file(weights, etag: "cdn-etag-not-used"),
        ]
    }

    /// Files in `folder` (recursively) whose names end with `.incomplete`.
    func leftovers(_ folder: URL) -> [String] {
        (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".incomplete") }
    }

    @Test func downloadBuildsTheCacheLayout() throws {
        let server = try TestHTTPServer(routes: routes())
        defer { server.stop() }
        let lines = LineLog()
        let files = try ModelLocator.resolve("org/tiny", environment: environment(server, ["HF_TOKEN": "hf_test_token"]),
                                             progress: { lines.append($0) })
        let fm = FileManager.default
        #expect(files.directory.path == snapshot.path)
        #expect(files.weights.path == snapshot.appendingPathComponent("model.safetensors").path)
        #expect(files.file("vocab.txt") != nil)
        #expect(files.preprocessorConfig == nil)
        // refs/main holds the sha; snapshot entries are relative links to blobs named by etag.
        #expect(String(data: try Data(contentsOf: repo.appendingPathComponent("refs/main")), encoding: .utf8) == Self.sha)
        #expect(try fm.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model.safetensors").path) == "../../blobs/\(Self.weightsETag)")
        #expect(try fm.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("config.json").path)
            == "../../blobs/c0ffee0000000000000000000000000000000001")
        #expect(try Data(contentsOf: repo.appendingPathComponent("blobs/\(Self.weightsETag)")) == weights)
        #expect(try Data(contentsOf: files.config) == config)
        #expect(!fm.fileExists(atPath: snapshot.appendingPathComponent("README.md").path))
        #expect(leftovers(repo).isEmpty)
        #expect(try SafeTensorsArchive(url: files.weights).floats("encoder.w") == [1, 2, 3, 4])
        // The token went with the Hub requests.
        let api = server.requests.first { $0.path.hasPrefix("/api/") }
        #expect(api?.headers["authorization"] == "Bearer hf_test_token")
        #expect(server.requests.map(\.path) == ["/api/models/org/tiny/revision/main", "/org/tiny/resolve/\(Self.sha)/config.json",
                                                "/org/tiny/resolve/\(Self.sha)/vocab.txt", "/org/tiny/resolve/\(Self.sha)/model.safetensors",
                                                "/cdn/tiny-weights"])
        #expect(lines.lines.contains("org/tiny: model.safetensors (\(weights.count) B)"))
        // Now cached: resolves offline, and online without asking the server again.
        server.stop()
        let cached = try ModelLocator.resolve("org/tiny", environment: environment(server, ["HF_HUB_OFFLINE": "1"]))
        #expect(cached == files)
        #expect(try ModelLocator.resolve("org/tiny", environment: environment(server)) == files)
    }

    @Test func tokenIsNotSentToAnotherHost() throws {
        let server = try TestHTTPServer(routes: routes())
        defer { server.stop() }
        // "localhost" is another host name for the same server, as a CDN would be another host.
        server.setRoute("/org/tiny/resolve/\(Self.sha)/model.safetensors",
                        .redirect(to: "http://localhost:\(server.port)/cdn/tiny-weights", linkedETag: Self.weightsETag))
        let files = try ModelLocator.resolve("org/tiny", environment: environment(server, ["HF_TOKEN": "hf_test_token"]))
        #expect(try SafeTensorsArchive(url: files.weights).floats("encoder.w") == [1, 2, 3, 4])
        let byPath = Dictionary(server.requests.map { ($0.path, $0) }) { first, _ in first }
        #expect(byPath["/org/tiny/resolve/\(Self.sha)/model.safetensors"]?.headers["authorization"] == "Bearer hf_test_token")
        #expect(byPath["/cdn/tiny-weights"] != nil)
        #expect(byPath["/cdn/tiny-weights"]?.headers["authorization"] == nil)
    }

    @Test func shardedDownload() throws {
        let shard1 = SafeTensorsWriter.encode(["a": .init(shape: [2], values: [1, 2])])
        let shard2 = SafeTensorsWriter.encode(["b": .init(shape: [1], values: [3])])
        let index = Data("{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}".utf8)
        var table = routes(siblings: ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        let base = "/org/tiny/resolve/\(Self.sha)"
        table["\(base)/model.safetensors.index.json"] = .file(index, etag: "1d0000000000000000000000000000000000000a")
        table["\(base)/model-00001-of-00002.safetensors"] = .file(shard1, etag: SHA256.hex(shard1))
        table["\(base)/model-00002-of-00002.safetensors"] = .file(shard2, etag: SHA256.hex(shard2))
        let server = try TestHTTPServer(routes: table)
        defer { server.stop() }
        let files = try ModelLocator.resolve("org/tiny", environment: environment(server))
        #expect(files.weights.lastPathComponent == "model.safetensors.index.json")
        let archive = try SafeTensorsArchive(url: files.weights)
        #expect(try archive.floats("a") == [1, 2])
        #expect(try archive.floats("b") == [3])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model-00002-of-00002.safetensors").path)
            == "../../blobs/" + SHA256.hex(shard2))
    }

    @Test func serverErrorOnWeightsLeavesNoLoadableSnapshot() throws {
        var table = routes()
        table["/cdn/tiny-weights"] = TestHTTPServer.Route(status: 500, body: Array("boom".utf8))
        let server = try TestHTTPServer(routes: table)
        defer { server.stop() }
        #expect(throws: CheckpointError.downloadFailed(url: "\(server.endpoint)/org/tiny/resolve/\(Self.sha)/model.safetensors", reason: "HTTP 500")) {
            try ModelLocator.resolve("org/tiny", environment: environment(server))
        }
        try expectNotLoadable()
        // A later complete download reuses the files already stored.
        server.setRoute("/cdn/tiny-weights", .file(weights, etag: "x"))
        let before = server.requests.count
        let files = try ModelLocator.resolve("org/tiny", environment: environment(server))
        #expect(try SafeTensorsArchive(url: files.weights).floats("embeddings.cls_token") == [0.5, -1.5])
        #expect(server.requests.dropFirst(before).map(\.path) == ["/api/models/org/tiny/revision/main",
                                                                 "/org/tiny/resolve/\(Self.sha)/model.safetensors", "/cdn/tiny-weights"])
    }

    @Test func connectionClosedHalfwayLeavesNoLoadableSnapshot() throws {
        var table = routes()
        var cut = TestHTTPServer.Route.file(weights, etag: "x")
        cut.closeAfter = weights.count / 2
        table["/cdn/tiny-weights"] = cut
        let server = try TestHTTPServer(routes: table)
        defer { server.stop() }
        let error = thrownError { try ModelLocator.resolve("org/tiny", environment: environment(server)) }
        guard case .downloadFailed(let url, _)? = error as? CheckpointError else {
            Issue.record("expected downloadFailed, got \(String(describing: error))")
            return
        }
        #expect(url == "\(server.endpoint)/org/tiny/resolve/\(Self.sha)/model.safetensors")
        try expectNotLoadable()
    }

    @Test func corruptWeightsAreNotStored() throws {
        var table = routes()
        table["/cdn/tiny-weights"] = .file(RawSafeTensors.bytes(header: "{}", headerLength: 500), etag: "x")
        let server = try TestHTTPServer(routes: table)
        defer { server.stop() }
        let error = thrownError { try ModelLocator.resolve("org/tiny", environment: environment(server)) }
        guard case .downloadFailed(_, let reason)? = error as? CheckpointError else {
            Issue.record("expected downloadFailed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("header length 500 runs past the end"))
        try expectNotLoadable()
        #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("blobs/\(Self.weightsETag)").path))
    }

    /// After a failed download: no ref, no stray temporary files, and offline resolution refuses.
    func expectNotLoadable() throws {
        #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("refs/main").path))
        #expect(leftovers(repo).isEmpty)
        #expect(throws: CheckpointError.notCached(id: "org/tiny", cache: hub.path)) {
            try ModelLocator.resolve("org/tiny", environment: ["HOME": dir.path("home").path, "HF_HOME": dir.path("hf").path, "HF_HUB_OFFLINE": "1"])
        }
    }

    @Test func unknownRepositoryIsAnHTTPError() throws {
        let server = try TestHTTPServer(routes: [:])
        defer { server.stop() }
        #expect(throws: CheckpointError.downloadFailed(url: "\(server.endpoint)/api/models/org/absent/revision/main",
                                                       reason: "HTTP 404 (no such repository or file)")) {
            try ModelLocator.resolve("org/absent", environment: environment(server))
        }
    }

    @Test func repositoryWithoutSafetensorsWeights() throws {
        let server = try TestHTTPServer(routes: routes(siblings: ["config.json", "pytorch_model.bin"]))
        defer { server.stop() }
        #expect(throws: CheckpointError.downloadFailed(url: "\(server.endpoint)/api/models/org/tiny/revision/main",
                                                       reason: "the repository has no model.safetensors or model.safetensors.index.json")) {
            try ModelLocator.resolve("org/tiny", environment: environment(server))
        }
        #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("refs/main").path))
    }

    @Test func badAPIReply() throws {
        let server = try TestHTTPServer(routes: ["/api/models/org/tiny/revision/main": .json("{\"sha\":\"../../etc\",\"siblings\":[]}")])
        defer { server.stop() }
        #expect(throws: CheckpointError.downloadFailed(url: "\(server.endpoint)/api/models/org/tiny/revision/main", reason: "the reply has no valid \"sha\"")) {
            try ModelLocator.resolve("org/tiny", environment: environment(server))
        }
    }

    @Test func unreachableEndpoint() throws {
        // Bind a port, then close the server so nothing listens there.
        let server = try TestHTTPServer(routes: [:])
        server.stop()
        let endpoint = server.endpoint
        let env = ["HOME": dir.path("home").path, "HF_HOME": dir.path("hf").path, "HF_ENDPOINT": endpoint]
        withExtendedLifetime(server) {}
        let error = thrownError { try ModelLocator.resolve("org/tiny", environment: env) }
        guard case .downloadFailed(let url, _)? = error as? CheckpointError else {
            Issue.record("expected downloadFailed, got \(String(describing: error))")
            return
        }
        #expect(url == "\(endpoint)/api/models/org/tiny/revision/main")
    }

    @Test func endpointMustBeHTTP() {
        #expect(throws: CheckpointError.downloadFailed(url: "ftp://example.org", reason: "HF_ENDPOINT is not an http(s) URL")) {
            try ModelLocator.resolve("org/tiny", environment: ["HF_HOME": dir.path("hf").path, "HF_ENDPOINT": "ftp://example.org/"])
        }
    }

    @Test func etagNormalisation() {
        #expect(HubDownloader.normalizedETag("\"abc123\"") == "abc123")
        #expect(HubDownloader.normalizedETag("W/\"abc-123\"") == "abc-123")
        #expect(HubDownloader.normalizedETag("\"../x\"") == nil)
        #expect(HubDownloader.normalizedETag(nil) == nil)
        #expect(HubDownloader.normalizedETag("\"\"") == nil)
    }
}

/// Collects progress lines from any thread.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
