import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ViTLensTestSupport
@testable import ViTLensServer

/// The door and the bad-input rules of docs/API.md, driven through the router in-process; after each
/// refusal the server still answers.
@Suite struct AccessTests {
    static let token = "test-token"
    static let bearer: HTTPFields = [.authorization: "Bearer \(token)"]

    func app(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(router: buildRouter(try ServerFixtures.explorer(configure: configure), cookieName: "vitlens_test"))
    }

    /// The server still serves after a refusal.
    func stillServes(_ client: some TestClientProtocol) async throws {
        try await client.execute(uri: "/api/models", method: .get, headers: Self.bearer) { #expect($0.status == .ok) }
    }

    func message(_ r: TestResponse) -> String {
        let json = try? JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: [String: String]]
        return json?["error"]?["message"] ?? "<no JSON error>"
    }

    @Test func theTokenComesFromTheURLTheCookieOrTheHeader() async throws {
        try await app().test(.router) { client in
            for uri in ["/", "/api/models", "/static/app.js", "/api/colormaps"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .forbidden, "\(uri)")
                    #expect(message(r).contains("token"))
                }
            }
            try await client.execute(uri: "/api/models?token=wrong", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/models", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .forbidden) }
            // ?token= on the page: a redirect that sets the cookie, as Jupyter does.
            let cookie = try await client.execute(uri: "/?token=\(Self.token)", method: .get) { r -> String in
                #expect(r.status == .seeOther)
                #expect(r.headers[.location] == "/")
                let set = r.headers[.setCookie] ?? ""
                #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict"))
                return String(set.split(separator: ";")[0])
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(r.headers[.accessControlAllowOrigin] == nil)
            }
            try await stillServes(client)
        }
    }

    @Test func foreignOriginsAreRefused() async throws {
        try await app().test(.router) { client in
            for origin in ["http://evil.example", "null", "https://127.0.0.1.evil.example:8642"] {
                try await client.execute(uri: "/api/models", method: .get, headers: Self.bearer + [.origin: origin]) { r in
                    #expect(r.status == .forbidden, "\(origin)")
                }
            }
            try await client.execute(uri: "/api/models", method: .get, headers: Self.bearer + [.origin: "http://127.0.0.1:8642"]) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/models", method: .get, headers: Self.bearer + [.origin: "http://localhost:8642"]) { #expect($0.status == .ok) }
        }
    }

    @Test func badUploadsGetOneLineErrors() async throws {
        try await app { ($0.maxUploadBytes, $0.maxPixels) = (200_000, 1_000_000) }.test(.router) { client in
            // 413 from Content-Length, before reading the body.
            try await client.execute(uri: "/api/inputs", method: .post, headers: Self.bearer, body: ByteBuffer(repeating: 0, count: 300_000)) { r in
                #expect(r.status == .contentTooLarge)
                #expect(message(r).contains("above the limit"))
            }
            try await stillServes(client)
            // Not an image, an empty body, a truncated JPEG.
            let photo = try ServerFixtures.photo()
            for (body, says) in [(ByteBuffer(string: "hello"), "not an image"), (ByteBuffer(), "empty"),
                                 (ByteBuffer(bytes: photo.prefix(2_000)), "upload")] {
                try await client.execute(uri: "/api/inputs", method: .post, headers: Self.bearer, body: body) { r in
                    #expect(r.status == .badRequest, "\(says)")
                    #expect(message(r).contains(says), "\(message(r))")
                    #expect(!message(r).contains("\n"))
                }
            }
            // A decompression bomb: a PNG header claiming 20000 x 20000 pixels (refused before decoding).
            try await client.execute(uri: "/api/inputs", method: .post, headers: Self.bearer, body: ByteBuffer(bytes: Self.pngHeader(width: 20_000, height: 20_000))) { r in
                #expect(r.status == .badRequest)
                #expect(message(r).contains("pixel") || message(r).contains("limit"), "\(message(r))")
            }
            // A text body for an image model, an unknown model, bad parameters.
            try await client.execute(uri: "/api/inputs?model=0", method: .post, headers: Self.bearer + [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"text": "hi"}"#)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/inputs?model=7", method: .post, headers: Self.bearer, body: ByteBuffer(bytes: photo)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/inputs?size=0x5", method: .post, headers: Self.bearer, body: ByteBuffer(bytes: photo)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/inputs?model=1", method: .post, headers: Self.bearer + [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"txt": 1}"#)) { #expect($0.status == .badRequest) }
            try await stillServes(client)
        }
    }

    @Test func badViewRequestsAre400AndUnknownThings404() async throws {
        try await app().test(.router) { client in
            let id = try await client.execute(uri: "/api/inputs?name=grace.jpg&size=56x42", method: .post, headers: Self.bearer,
                                              body: ByteBuffer(bytes: try ServerFixtures.photo())) { r -> String in
                #expect(r.status == .created)
                let json = try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any]
                #expect((json?["layout"] as? [String: Any])?["tokens"] as? Int == 13)
                return json?["id"] as? String ?? ""
            }
            for (query, status) in [("attention?layer=12", HTTPResponse.Status.badRequest), ("attention?head=-1", .badRequest),
                                    ("attention?query=patch:4,0", .badRequest), ("attention?query=pixel:56,0", .badRequest),
                                    ("attention?layer=x", .badRequest), ("attention?bogus=1", .badRequest), ("rollout?discard=1", .badRequest),
                                    ("rollout?first_layer=1&last_layer=0", .badRequest), ("masks?threshold=0", .badRequest),
                                    ("distance?renormalize=maybe", .badRequest), ("attention?format=png", .badRequest)] {
                try await client.execute(uri: "/api/inputs/\(id)/\(query)", method: .get, headers: Self.bearer) { r in
                    #expect(r.status == status, "\(query)")
                    #expect(!message(r).isEmpty && !message(r).contains("\n"), "\(query)")
                }
            }
            for uri in ["/api/inputs/0123456789abcdef", "/api/inputs/nope/attention", "/api/nothing", "/static/../Package.swift",
                        "/static/%2e%2e%2fPackage.swift", "/static/..%2FPackage.swift", "/static/index.html/x", "/../../etc/passwd"] {
                try await client.execute(uri: uri, method: .get, headers: Self.bearer) { r in
                    #expect(r.status == .notFound || r.status == .conflict, "\(uri)")
                    #expect(!String(buffer: r.body).contains("swift-tools-version"), "\(uri)")
                }
            }
            try await client.execute(uri: "/api/inputs/\(id)/attention?format=f32&head=1", method: .get, headers: Self.bearer) { r in
                #expect(r.status == .ok)
                #expect(r.headers[HTTPField.Name("X-ViTLens-Shape")!] == "4,3")
                #expect(r.body.readableBytes == 12 * 4)
            }
            try await client.execute(uri: "/api/inputs/\(id)", method: .delete, headers: Self.bearer) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/api/inputs/\(id)/attention", method: .get, headers: Self.bearer) { #expect($0.status == .conflict) }
            try await stillServes(client)
        }
    }

    @Test func hostNamesAreParsedStrictly() {
        #expect(AccessMiddleware<ExplorerContext>.hostName("127.0.0.1:8642") == "127.0.0.1")
        #expect(AccessMiddleware<ExplorerContext>.hostName("LocalHost") == "localhost")
        #expect(AccessMiddleware<ExplorerContext>.hostName("[::1]:80") == "[::1]")
        for bad in ["", ":80", "a:b:c", "evil.com:", "[::1]x", "127.0.0.1:80x"] {
            #expect(AccessMiddleware<ExplorerContext>.hostName(bad) == nil, "\(bad)")
        }
        var config = ServerConfiguration()
        #expect(config.allowedHosts.isSuperset(of: ["127.0.0.1", "localhost", "[::1]"]))
        #expect(!config.allowedHosts.contains("evil.example"))
        config.extraAllowedHosts = ["Lab-Box"]
        #expect(config.allowedHosts.contains("lab-box"))
        #expect(ServerConfiguration.randomToken() != ServerConfiguration.randomToken())
        #expect(ServerConfiguration.randomToken().count == 48)
    }

    /// A 60-byte PNG claiming `width x height` RGB pixels: signature, IHDR, a tiny IDAT, IEND.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + body + withUnsafeBytes(of: crc32(body).bigEndian, Array.init)
        }
        var ihdr: [UInt8] = []
        for v in [width, height] { ihdr += withUnsafeBytes(of: v.bigEndian, Array.init) }
        ihdr += [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}

extension HTTPFields {
    static func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
        var out = a
        out.append(contentsOf: b)
        return out
    }
}
