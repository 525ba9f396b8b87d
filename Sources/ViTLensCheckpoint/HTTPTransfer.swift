import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blocking HTTP GET through `URLSession`, with its body streamed to a file or kept in memory.
///
/// Redirects are followed; the `X-Linked-Etag` of a redirect (the Hub's content hash for large
/// files) is kept, and the `Authorization` header is dropped when a redirect leaves the host.
///
/// A transfer cannot hang or fill the disk: it is cancelled when nothing arrives (no connection, no
/// headers, no body bytes) for ``timeout`` seconds, when `Content-Length` announces more than
/// ``maxBytes``, and when the body grows past ``maxBytes`` or past its announced length.
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
        /// SHA-256 of the body (64 lower-case hex digits), for transfers to a file.
        var sha256: String?
    }

    var headers: [String: String] = [:]
    /// Seconds without any progress (connecting, headers, body bytes) after which the transfer is cancelled.
    var timeout: TimeInterval = DownloadLimits.defaultTimeout
    /// The variable that sets ``timeout``, named in the message when it expires.
    var timeoutVariable = "HF_HUB_DOWNLOAD_TIMEOUT"
    /// The largest body accepted, in bytes (in-memory transfers are capped at 64 MiB as well).
    var maxBytes: Int = DownloadLimits.defaultMaxBytes

    /// GETs `url`, appending the body to `file` when given, else keeping it in memory.
    ///
    /// `onResponse` gets the final status and `Content-Length`; `onBytes` the running count of body
    /// bytes of a 200 reply after each chunk is stored.
    /// - Throws: ``CheckpointError/downloadFailed(url:reason:)`` for network errors, timeouts,
    ///   bodies above the cap and bodies shorter or longer than their `Content-Length`. HTTP error
    ///   statuses are returned, not thrown.
    func get(_ url: URL, to file: FileHandle? = nil, onResponse: (@Sendable (Int, Int?) -> Void)? = nil,
             onBytes: (@Sendable (Int) -> Void)? = nil) throws -> Reply {
        var request = URLRequest(url: url)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.timeoutInterval = timeout + 1
        let configuration = URLSessionConfiguration.ephemeral
        // URLSession's own inactivity timeout is a backstop; the watchdog below names the variable.
        configuration.timeoutIntervalForRequest = timeout + 1
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let cap = file == nil ? min(maxBytes, DownloadLimits.maxMemoryBytes) : maxBytes
        let delegate = Delegate(file: file, maxBytes: cap, onResponse: onResponse, onBytes: onBytes)
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        task.resume()
        // Watchdog: cancel when nothing has arrived for `timeout` seconds.
        let slice = min(0.1, timeout / 4)
        while delegate.done.wait(timeout: .now() + slice) == .timedOut {
            if delegate.secondsSinceProgress() > timeout {
                let seconds = timeout == timeout.rounded() ? "\(Int(timeout))" : "\(timeout)"
                delegate.fail("no data received for \(seconds) s (\(timeoutVariable); raise it for a slow connection)")
                task.cancel()
                // Cancelling completes the task; do not wait forever if the stack does not report it.
                _ = delegate.done.wait(timeout: .now() + 5)
                break
            }
        }
        session.finishTasksAndInvalidate()
        let state = delegate.result()
        // An HTTP error status is the answer, even when its error page was cut or timed out.
        if let error = state.error, state.reply.status == 0 || state.reply.status == 200 {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: error)
        }
        var reply = state.reply
        if let expected = reply.expectedLength, reply.status == 200, reply.byteCount < expected {
            throw CheckpointError.downloadFailed(url: url.absoluteString,
                                                 reason: "connection closed after \(reply.byteCount) of \(expected) bytes")
        }
        reply.body = state.body
        reply.sha256 = state.sha256
        return reply
    }

    /// Collects one task's response, body and outcome; callbacks arrive on the session's queue.
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private let file: FileHandle?
        private let maxBytes: Int
        private let onResponse: (@Sendable (Int, Int?) -> Void)?
        private let onBytes: (@Sendable (Int) -> Void)?
        private var reply = Reply(status: 0, headers: [:], linkedETag: nil, byteCount: 0, expectedLength: nil, body: Data())
        private var body = Data()
        private var hasher = SHA256()
        private var error: String?
        private var lastProgress = DispatchTime.now()

        init(file: FileHandle?, maxBytes: Int, onResponse: (@Sendable (Int, Int?) -> Void)?, onBytes: (@Sendable (Int) -> Void)?) {
            self.file = file
            self.maxBytes = maxBytes
            self.onResponse = onResponse
            self.onBytes = onBytes
        }

        func result() -> (reply: Reply, body: Data, error: String?, sha256: String?) {
            lock.withLock { (reply, body, error, file == nil || reply.status != 200 ? nil : hasher.hexDigest()) }
        }

        /// Seconds since the last response or body bytes (or since the start).
        func secondsSinceProgress() -> Double {
            let last = lock.withLock { lastProgress }
            return Double(DispatchTime.now().uptimeNanoseconds - last.uptimeNanoseconds) / 1e9
        }

        /// Records `reason` as the failure unless one is already recorded.
        func fail(_ reason: String) { lock.withLock { if error == nil { error = reason } } }

        private func progressed() { lastProgress = DispatchTime.now() }

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
                progressed()
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
            let lengthText = fields["content-length"]?.trimmingCharacters(in: .whitespaces)
            let expected = lengthText.flatMap { Int($0) }
            let refusal: String? = lock.withLock {
                progressed()
                reply.status = status
                reply.headers = fields
                reply.expectedLength = expected
                guard status == 200 else { return nil }
                if let lengthText, expected == nil || expected.unsafelyUnwrapped < 0 {
                    error = "invalid Content-Length '\(lengthText.prefix(40))'"
                } else if let expected, expected > maxBytes {
                    error = "the server announces \(expected) bytes (\(DownloadLimits.formatBinary(expected))), more than the "
                        + "\(DownloadLimits.formatBinary(maxBytes)) limit on one \(file == nil ? "reply" : "file") (\(limitHint))"
                }
                return error
            }
            if refusal != nil {
                completionHandler(.cancel)
                return
            }
            onResponse?(status, expected)
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            var stored: Int?
            let failed: Bool = lock.withLock {
                progressed()
                guard error == nil else { return true }
                if reply.status != 200 {
                    // An error page: keep its start for nothing more than curiosity, stop reading after 1 MiB.
                    if body.count < 1 << 16 { body.append(data.prefix((1 << 16) - body.count)) }
                    reply.byteCount += data.count
                    return reply.byteCount > 1 << 20
                }
                let (total, overflow) = reply.byteCount.addingReportingOverflow(data.count)
                reply.byteCount = total
                if overflow || total > maxBytes {
                    error = "the body exceeds the \(DownloadLimits.formatBinary(maxBytes)) limit on one \(file == nil ? "reply" : "file") (\(limitHint))"
                    return true
                }
                if let expected = reply.expectedLength, total > expected {
                    error = "the server sent more than the \(expected) bytes its Content-Length announced"
                    return true
                }
                if let file {
                    do { try file.write(contentsOf: data) } catch {
                        self.error = "cannot write the download: \(error.localizedDescription)"
                        return true
                    }
                    hasher.update(data)
                } else {
                    body.append(data)
                }
                stored = total
                return false
            }
            if failed { dataTask.cancel() } else if let stored { onBytes?(stored) }
        }

        /// How to raise the cap, for messages.
        private var limitHint: String {
            file == nil ? "metadata replies are capped at 64 MiB" : "set VITLENS_MAX_DOWNLOAD_BYTES to raise it"
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            lock.withLock {
                if let error, self.error == nil { self.error = error.localizedDescription }
            }
            done.signal()
        }
    }
}
