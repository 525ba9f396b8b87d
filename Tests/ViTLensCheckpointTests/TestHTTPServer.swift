import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (port chosen by the system) for download tests.
///
/// Serves fixed routes, one request per connection (`Connection: close`), on one background
/// thread. It stops itself after `lifetime` seconds or `maxRequests` requests, and on ``stop()``.
final class TestHTTPServer: @unchecked Sendable {
    /// What one path answers.
    struct Route: Sendable {
        var status: Int = 200
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// Send only this many body bytes (after a full `Content-Length`), then close.
        var closeAfter: Int?
        /// Read the request, then send nothing until the server stops (a server that never answers).
        var hang = false
        /// The `Content-Length` to announce instead of the body's real length.
        var announcedLength: Int?
        /// Send no `Content-Length` (the body ends when the connection closes).
        var omitLength = false

        static func json(_ text: String) -> Route { Route(headers: [("Content-Type", "application/json")], body: Array(text.utf8)) }
        static func file(_ data: Data, etag: String) -> Route { Route(headers: [("ETag", "\"\(etag)\"")], body: [UInt8](data)) }
        static func redirect(to location: String, linkedETag: String) -> Route {
            Route(status: 302, headers: [("Location", location), ("X-Linked-Etag", "\"\(linkedETag)\"")])
        }
    }

    /// A request as received.
    struct Request: Sendable {
        var method: String
        var path: String
        /// Header names lower-cased.
        var headers: [String: String]
    }

    let port: UInt16
    var endpoint: String { "http://127.0.0.1:\(port)" }

    private let socketFD: Int32
    private let lock = NSLock()
    private var routes: [String: Route]
    private var received: [Request] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(routes: [String: Route], lifetime: TimeInterval = 30, maxRequests: Int = 100) throws {
        self.routes = routes
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ServerError(step: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw ServerError(step: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw ServerError(step: "getsockname")
        }
        socketFD = fd
        port = UInt16(bigEndian: address.sin_port)
        let deadline = Date().addingTimeInterval(lifetime)
        Thread.detachNewThread { [self] in
            serve(until: deadline, maxRequests: maxRequests)
            close(socketFD)
            finished.signal()
        }
    }


    /// Requests received so far.
    var requests: [Request] { lock.withLock { received } }

    /// Replaces or adds a route.
    func setRoute(_ path: String, _ route: Route) { lock.withLock { routes[path] = route } }

    /// Stops serving, closes the listening socket and waits for the thread to end.
    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        if !wasStopped { finished.wait() }
    }

    struct ServerError: Error { var step: String }

    private func serve(until deadline: Date, maxRequests: Int) {
        var served = 0
        while served < maxRequests, Date() < deadline, !lock.withLock({ stopped }) {
            var pfd = pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { continue }
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            handle(client)
            close(client)
            served += 1
        }
    }

    private func handle(_ client: Int32) {
        guard let request = readRequest(client) else { return }
        let route = lock.withLock { () -> Route? in
            received.append(request)
            return routes[request.path]
        }
        let answer = route ?? Route(status: 404, body: Array("not found".utf8))
        if answer.hang {
            while !lock.withLock({ stopped }) { usleep(20_000) }
            return
        }
        var head = "HTTP/1.1 \(answer.status) \(answer.status == 200 ? "OK" : "Status")\r\n"
        for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
        if !answer.omitLength { head += "Content-Length: \(answer.announcedLength ?? answer.body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        let body = answer.closeAfter.map { Array(answer.body.prefix($0)) } ?? answer.body
        sendAll(client, Array(head.utf8) + (request.method == "HEAD" ? [] : body))
    }

    /// Reads up to the blank line that ends the headers (2 s per read, 64 KiB at most).
    private func readRequest(_ client: Int32) -> Request? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = [13, 10, 13, 10]
        while bytes.count < 65536 {
            var pfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 2000) > 0 else { return nil }
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            bytes += chunk[0 ..< n]
            if let range = bytes.firstRange(of: end) {
                let text = String(decoding: bytes[..<range.lowerBound], as: UTF8.self)
                let lines = text.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return Request(method: String(parts[0]), path: String(parts[1]), headers: headers)
            }
        }
        return nil
    }

    private func sendAll(_ client: Int32, _ bytes: [UInt8]) {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + offset, bytes.count - offset, flags) }
            guard n > 0 else { return }
            offset += n
        }
    }
}
