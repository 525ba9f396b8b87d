import Foundation
import Testing
import ViTLensCore
@testable import ViTLensCheckpoint

/// Byte progress of Hub downloads through the local ``TestHTTPServer``.
@Suite("Download progress")
struct DownloadProgressTests {
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [DownloadEvent] = []
        private var text = ""
        func append(_ e: DownloadEvent) { lock.withLock { stored.append(e) } }
        func write(_ s: String) { lock.withLock { text += s } }
        var all: [DownloadEvent] { lock.withLock { stored } }
        var written: String { lock.withLock { text } }
    }

    @Test func eachFileReportsItsLengthBytesAndEnd() throws {
        let hub = try HubDownloadTests()
        let server = try TestHTTPServer(routes: hub.routes())
        defer { server.stop() }
        let events = Events()
        _ = try ModelLocator.resolve("org/tiny", environment: hub.environment(server), progress: nil, downloads: { events.append($0) })
        let weights = events.all.filter { $0.file == "org/tiny: model.safetensors" }
        let size = HubDownloadTests.weightsData.count
        #expect(weights.first == DownloadEvent(kind: .started, file: "org/tiny: model.safetensors", bytes: 0, totalBytes: size))
        #expect(weights.last == DownloadEvent(kind: .finished, file: "org/tiny: model.safetensors", bytes: size, totalBytes: size))
        let received = weights.filter { $0.kind == .received }.map(\.bytes)
        #expect(!received.isEmpty && received == received.sorted() && received.last == size)
        // One start and one end per downloaded file, in order: config, vocab, weights.
        #expect(events.all.filter { $0.kind == .finished }.map(\.file) == ["org/tiny: config.json", "org/tiny: vocab.txt", "org/tiny: model.safetensors"])
    }

    /// Feeds download events into a byte ``ProgressBar`` the way the CLI does, on a clock that
    /// advances one second per reading.
    final class BarDisplay: @unchecked Sendable {
        private let lock = NSLock()
        private var bar: ProgressBar?
        private var now = 0.0
        let out = Events()
        private func tick() -> Double { lock.withLock { now += 1; return now } }
        func show(_ e: DownloadEvent) {
            switch e.kind {
            case .started:
                let b = ProgressBar(total: e.totalBytes, unit: .bytes, style: .bar, label: e.file, width: 140, environment: [:],
                                    clock: { self.tick() }, write: { self.out.write($0) })
                lock.withLock { bar = b }
                b.update(done: 0)
            case .received: lock.withLock { bar }?.update(done: e.bytes)
            case .finished, .failed: lock.withLock { bar }?.finish()
            }
        }
    }

    @Test func aByteProgressBarFollowsTheDownload() throws {
        let hub = try HubDownloadTests()
        let server = try TestHTTPServer(routes: hub.routes())
        defer { server.stop() }
        let display = BarDisplay()
        _ = try ModelLocator.resolve("org/tiny", environment: hub.environment(server), progress: nil, downloads: { display.show($0) })
        let size = HubDownloadTests.weightsData.count
        let draws = display.out.written.split(separator: "\r").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let weights = draws.filter { $0.hasPrefix("org/tiny: model.safetensors") }
        #expect(weights.first?.contains("[") == true && weights.first?.contains("] 0 B/\(size) B 0% 0:0") == true, "\(weights)")
        let last = try #require(weights.last)
        #expect(last.contains("] \(size) B/\(size) B 100% ") && last.contains(" B/s ") && last.hasSuffix("done"), "\(last)")
        #expect(display.out.written.hasSuffix("\n"))
    }
}
