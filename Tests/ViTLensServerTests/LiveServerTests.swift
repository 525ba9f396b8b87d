import Foundation
import Hummingbird
import Testing
import ViTLensTestSupport
@testable import ViTLensServer
#if canImport(Glibc)
import Glibc
#endif

/// The real server on a loopback port, spoken to over a plain socket, so the `Host` header is whatever
/// the test writes (DNS rebinding sends the attacker's name).
@Suite struct LiveServerTests {
    @Test func theHostAllowListHoldsOnARealSocketAndTheServerKeepsServing() async throws {
        let explorer = try ServerFixtures.explorer { $0.port = 0 }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication(explorer) { continuation.yield($0) }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let auth = "Authorization: Bearer test-token\r\n"
        for host in ["evil.example", "evil.example:\(port)", "127.0.0.1.evil.example", "", "localhost:x"] {
            let reply = try await RawHTTP.get(port: port, path: "/api/models", head: "Host: \(host)\r\n" + auth)
            #expect(reply.hasPrefix("HTTP/1.1 403"), "\(host): \(reply.prefix(80))")
            #expect(reply.contains("not allowed"), "\(host)")
        }
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST"] {
            let reply = try await RawHTTP.get(port: port, path: "/api/models", head: "Host: \(host)\r\n" + auth)
            #expect(reply.hasPrefix("HTTP/1.1 200"), "\(host): \(reply.prefix(80))")
        }
        // Garbage on the wire, then a normal request: still served.
        _ = try? await RawHTTP.send(port: port, "NOT HTTP AT ALL\r\n\r\n")
        let reply = try await RawHTTP.get(port: port, path: "/api/models", head: "Host: 127.0.0.1\r\n" + auth)
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(!reply.lowercased().contains("access-control-allow-origin"))
    }
}

/// A minimal HTTP/1.1 client over a blocking socket (one request per connection).
enum RawHTTP {
    struct Failure: Error { var what: String }

    static func get(port: Int, path: String, head: String) async throws -> String {
        try await send(port: port, "GET \(path) HTTP/1.1\r\n\(head)Connection: close\r\n\r\n")
    }

    /// Sends `request` and reads the reply until the server closes. The blocking socket calls run on a
    /// GCD thread, never on Swift concurrency's cooperative pool: on a 2-core machine that pool has two
    /// threads, and blocking one while other suites compute starved the server's handlers (empty replies
    /// under load, then NIO's writer trap at teardown).
    static func send(port: Int, _ request: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingSend(port: port, request) })
            }
        }
    }

    private static func blockingSend(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(what: "socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(what: "connect") }
        let bytes = Array(request.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw Failure(what: "write") }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0 ..< n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
