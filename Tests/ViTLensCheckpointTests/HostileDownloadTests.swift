import Foundation
import Testing
@testable import ViTLensCheckpoint

/// Hub endpoints that never answer, announce a terabyte, send too much or send the wrong bytes:
/// every download ends quickly with one line naming the URL and the problem, and leaves no blob or
/// snapshot entry for the file in the cache.
@Suite("Hostile Hub servers")
struct HostileDownloadTests {
    static let sha = HubDownloadTests.sha
    let dir: TemporaryDirectory
    let weights = HubDownloadTests.weightsData
    let hubTests: HubDownloadTests

    init() throws {
        hubTests = try HubDownloadTests()
        dir = hubTests.dir
    }

    var repo: URL { hubTests.repo }
    var weightsURL: (TestHTTPServer) -> String { { "\($0.endpoint)/org/tiny/resolve/\(Self.sha)/model.safetensors" } }

    /// The normal routes with `/cdn/tiny-weights` replaced.
    func server(weights route: TestHTTPServer.Route) throws -> TestHTTPServer {
        var table = hubTests.routes()
        table["/cdn/tiny-weights"] = route
        return try TestHTTPServer(routes: table)
    }

    /// Resolves `org/tiny` and returns the `downloadFailed` reason (recording an issue otherwise).
    func failure(_ server: TestHTTPServer, _ extra: [String: String] = [:],
                 sourceLocation: SourceLocation = #_sourceLocation) -> (url: String, reason: String)? {
        let error = thrownError { try ModelLocator.resolve("org/tiny", environment: hubTests.environment(server, extra)) }
        guard case .downloadFailed(let url, let reason)? = error as? CheckpointError else {
            Issue.record("expected downloadFailed, got \(String(describing: error))", sourceLocation: sourceLocation)
            return nil
        }
        return (url, reason)
    }

    /// No blob, no temporary and no snapshot entry for the weights; no ref; offline resolution refuses.
    func expectWeightsNotCached(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fm = FileManager.default
        let blobs = (try? fm.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)) ?? []
        #expect(!blobs.contains(HubDownloadTests.weightsETag), sourceLocation: sourceLocation)
        #expect(!blobs.contains { $0.hasSuffix(".incomplete") }, "\(blobs)", sourceLocation: sourceLocation)
        let snapshot = (try? fm.contentsOfDirectory(atPath: hubTests.snapshot.path)) ?? []
        #expect(!snapshot.contains("model.safetensors"), sourceLocation: sourceLocation)
        try hubTests.expectNotLoadable()
    }

    // MARK: - Timeouts

    @Test func apiThatNeverAnswersTimesOut() throws {
        let server = try TestHTTPServer(routes: ["/api/models/org/tiny/revision/main": .init(hang: true)])
        defer { server.stop() }
        let start = Date()
        let reply = failure(server, ["HF_HUB_ETAG_TIMEOUT": "1"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply?.url == "\(server.endpoint)/api/models/org/tiny/revision/main")
        #expect(reply?.reason == "no data received for 1 s (HF_HUB_ETAG_TIMEOUT; raise it for a slow connection)")
        #expect(elapsed >= 0.9 && elapsed < 5, "took \(elapsed) s")
        try expectWeightsNotCached()
    }

    @Test func fileThatNeverArrivesTimesOut() throws {
        let server = try server(weights: .init(hang: true))
        defer { server.stop() }
        let start = Date()
        // The metadata timeout is long: the file transfer's own variable must govern.
        let reply = failure(server, ["HF_HUB_ETAG_TIMEOUT": "30", "HF_HUB_DOWNLOAD_TIMEOUT": "0.8"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(reply?.url == weightsURL(server))
        #expect(reply?.reason == "no data received for 0.8 s (HF_HUB_DOWNLOAD_TIMEOUT; raise it for a slow connection)")
        #expect(elapsed >= 0.7 && elapsed < 5, "took \(elapsed) s")
        try expectWeightsNotCached()
    }

    // MARK: - Size

    @Test func terabyteAnnouncementIsRefusedUpFront() throws {
        let server = try server(weights: .init(headers: [("ETag", "\"x\"")], body: Array(weights), announcedLength: 1 << 40))
        defer { server.stop() }
        let reply = failure(server)
        #expect(reply?.url == weightsURL(server))
        #expect(reply?.reason == "the server announces 1099511627776 bytes (1 TiB), more than the 64 GiB limit on one file "
            + "(set VITLENS_MAX_DOWNLOAD_BYTES to raise it)")
        try expectWeightsNotCached()
    }

    @Test func announcementAboveAConfiguredCapIsRefused() throws {
        let server = try server(weights: .file(weights, etag: HubDownloadTests.weightsETag))
        defer { server.stop() }
        let reply = failure(server, ["VITLENS_MAX_DOWNLOAD_BYTES": "100"])
        #expect(reply?.reason == "the server announces \(weights.count) bytes (\(weights.count) bytes), more than the 100 bytes limit on one file "
            + "(set VITLENS_MAX_DOWNLOAD_BYTES to raise it)")
        try expectWeightsNotCached()
    }

    @Test func bodyWithoutLengthIsCutAtTheCap() throws {
        var route = TestHTTPServer.Route.file(weights + Data(count: 4096), etag: HubDownloadTests.weightsETag)
        route.omitLength = true
        let server = try server(weights: route)
        defer { server.stop() }
        let reply = failure(server, ["VITLENS_MAX_DOWNLOAD_BYTES": "1000"])
        #expect(reply?.reason == "the body exceeds the 1000 bytes limit on one file (set VITLENS_MAX_DOWNLOAD_BYTES to raise it)")
        try expectWeightsNotCached()
    }

    @Test func bodyLongerThanAnnouncedIsRejected() throws {
        // The server announces fewer bytes than it sends: the client reads only the announced
        // bytes, a cut file, which is refused and not stored.
        var route = TestHTTPServer.Route.file(weights + Data(repeating: 7, count: 64), etag: HubDownloadTests.weightsETag)
        route.announcedLength = weights.count - 16
        let server = try server(weights: route)
        defer { server.stop() }
        let reply = failure(server)
        #expect(reply?.url == weightsURL(server))
        #expect(reply?.reason.hasSuffix(".incomplete: tensor 'encoder.w' has data_offsets outside the data section") == true,
                "\(String(describing: reply))")
        try expectWeightsNotCached()
    }

    @Test func bytesAfterTheAnnouncedLengthNeverReachTheCache() throws {
        var route = TestHTTPServer.Route.file(weights + Data(repeating: 7, count: 4096), etag: HubDownloadTests.weightsETag)
        route.announcedLength = weights.count
        let server = try server(weights: route)
        defer { server.stop() }
        let files = try ModelLocator.resolve("org/tiny", environment: hubTests.environment(server))
        #expect(try Data(contentsOf: files.weights) == weights)
    }

    // MARK: - Content hash

    @Test func bodyThatDoesNotMatchItsSHA256ETagIsRejected() throws {
        // A valid safetensors file, but not the one the ETag names.
        let other = SafeTensorsWriter.encode(["encoder.w": .init(shape: [2, 2], values: [9, 9, 9, 9])])
        let server = try server(weights: .file(other, etag: HubDownloadTests.weightsETag))
        defer { server.stop() }
        let reply = failure(server)
        #expect(reply?.url == weightsURL(server))
        #expect(reply?.reason == "the content's SHA-256 \(SHA256.hex(other)) differs from the ETag \(HubDownloadTests.weightsETag) (corrupt or altered download)")
        try expectWeightsNotCached()
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let twoBlocks = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(twoBlocks) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces, the digest is the same.
        let bytes = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256()
        var offset = 0
        for piece in [1, 63, 64, 65, 0, 200, 607] {
            hasher.update(bytes[offset ..< offset + piece])
            offset += piece
        }
        #expect(hasher.hexDigest() == SHA256.hex(bytes))
    }

    // MARK: - Environment

    @Test func limitsDefaults() throws {
        let limits = try DownloadLimits(environment: [:])
        #expect(limits.etagTimeout == 10 && limits.downloadTimeout == 10)
        #expect(limits.maxBytes == 68_719_476_736)
        let set = try DownloadLimits(environment: ["HF_HUB_ETAG_TIMEOUT": "2.5", "HF_HUB_DOWNLOAD_TIMEOUT": " 60 ",
                                                   "VITLENS_MAX_DOWNLOAD_BYTES": "1048576"])
        #expect(set.etagTimeout == 2.5 && set.downloadTimeout == 60 && set.maxBytes == 1 << 20)
        #expect(try DownloadLimits(environment: ["HF_HUB_ETAG_TIMEOUT": ""]).etagTimeout == 10)
    }

    @Test(arguments: [
        ("HF_HUB_ETAG_TIMEOUT", "abc", "a positive number of seconds (at most 86400)"),
        ("HF_HUB_ETAG_TIMEOUT", "0", "a positive number of seconds (at most 86400)"),
        ("HF_HUB_DOWNLOAD_TIMEOUT", "-3", "a positive number of seconds (at most 86400)"),
        ("HF_HUB_DOWNLOAD_TIMEOUT", "nan", "a positive number of seconds (at most 86400)"),
        ("VITLENS_MAX_DOWNLOAD_BYTES", "1e9", "a positive whole number of bytes"),
        ("VITLENS_MAX_DOWNLOAD_BYTES", "0", "a positive whole number of bytes"),
    ])
    func invalidLimitIsRejected(_ variable: String, _ value: String, _ expected: String) throws {
        let server = try TestHTTPServer(routes: hubTests.routes())
        defer { server.stop() }
        let error = CheckpointError.invalidEnvironment(variable: variable, value: value, expected: expected)
        #expect(throws: error) { try ModelLocator.resolve("org/tiny", environment: hubTests.environment(server, [variable: value])) }
        #expect(error.description == "\(variable)=\"\(value)\" is not valid: expected \(expected)")
        #expect(server.requests.isEmpty)
    }
}
