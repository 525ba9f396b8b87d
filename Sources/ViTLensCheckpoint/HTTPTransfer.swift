import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blocking HTTP GET through `URLSession`, with its body streamed to a file or kept in memory.
///
/// Redirects are followed; the `X-Linked-Etag` of a redirect (the Hub's content hash for large
/// files) is kept, and the `Authorization` header is dropped when a redirect leaves the host.
struct HTTPTransfer {
    /// What came back.
    struct Reply {
        var status: Int
        /// Headers of the final response, names lower-cased.
        var headers: [String: String]
        /// The first `X-Linked-Etag` seen on a redirect, if any.
        var linkedETag: String?
        /// Body bytes received.
        var byteCount: Int
        /// `Content-Length` of the final response, or `nil` when not sent.
        var expectedLength: Int?
        /// The body, for in-memory transfers.
        var body: Data
    }

    var headers: [String: String] = [:]
    var timeout: TimeInterval = 60

    /// GETs `url`, appending the body to `file` when given, else keeping it in memory.
    /// - Throws: ``CheckpointError/downloadFailed(url:reason:)`` for network errors and bodies
    ///   shorter than their `Content-Length`. HTTP error statuses are returned, not thrown.
    func get(_ url: URL, to file: FileHandle? = nil, onResponse: (@Sendable (Int, Int?) -> Void)? = nil) throws -> Reply {
        var request = URLRequest(url: url)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let delegate = Delegate(file: file, onResponse: onResponse)
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        task.resume()
        delegate.done.wait()
        session.finishTasksAndInvalidate()
        let state = delegate.result()
        if let error = state.error {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: error)
        }
        var reply = state.reply
        if let expected = reply.expectedLength, reply.status == 200, reply.byteCount != expected {
            throw CheckpointError.downloadFailed(url: url.absoluteString,
                                                 reason: "connection closed after \(reply.byteCount) of \(expected) bytes")
        }
        reply.body = state.body
        return reply
    }

    /// Collects one task's response, body and outcome; callbacks arrive on the session's queue.
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private let file: FileHandle?
        private let onResponse: (@Sendable (Int, Int?) -> Void)?
        private var reply = Reply(status: 0, headers: [:], linkedETag: nil, byteCount: 0, expectedLength: nil, body: Data())
        private var body = Data()
        private var error: String?

        init(file: FileHandle?, onResponse: (@Sendable (Int, Int?) -> Void)?) {
            self.file = file
            self.onResponse = onResponse
        }

        func result() -> (reply: Reply, body: Data, error: String?) { lock.withLock { (reply, body, error) } }

        private static func lowercased(_ fields: [AnyHashable: Any]) -> [String: String] {
            var out: [String: String] = [:]
            for (k, v) in fields {
                if let k = k as? String { out[k.lowercased()] = "\(v)" }
            }
            return out
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            let fields = Self.lowercased(response.allHeaderFields)
            lock.withLock {
                if reply.linkedETag == nil { reply.linkedETag = fields["x-linked-etag"] }
            }
            var next = request
            if request.url?.host != task.originalRequest?.url?.host || request.url?.port != task.originalRequest?.url?.port {
                next.setValue(nil, forHTTPHeaderField: "Authorization")
            }
            completionHandler(next)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            let http = response as? HTTPURLResponse
            let status = http?.statusCode ?? 0
            let fields = http.map { Self.lowercased($0.allHeaderFields) } ?? [:]
            let expected = fields["content-length"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            lock.withLock {
                reply.status = status
                reply.headers = fields
                reply.expectedLength = expected
            }
            onResponse?(status, expected)
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            lock.withLock {
                reply.byteCount += data.count
                if let file, reply.status == 200 {
                    do { try file.write(contentsOf: data) } catch {
                        if self.error == nil { self.error = "cannot write the download: \(error.localizedDescription)" }
                        dataTask.cancel()
                    }
                } else if body.count < 1 << 26 {
                    body.append(data)
                }
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            lock.withLock {
                if let error, self.error == nil { self.error = error.localizedDescription }
            }
            done.signal()
        }
    }
}
