import Foundation
import ViTLens

/// Shows each file a Hub download fetches as a byte progress bar on standard error (size, rate,
/// ETA from `Content-Length`); in the lines style one line when a file starts and one when it ends.
final class DownloadDisplay: @unchecked Sendable {
    private let style: ProgressStyle
    private let lock = NSLock()
    private var bar: ProgressBar?

    init(style: ProgressStyle) { self.style = style }

    /// Feeds one event of ``AnalysisSession``'s download callback.
    func show(_ event: DownloadEvent) {
        lock.withLock {
            switch event.kind {
            case .started:
                bar?.finish()
                if style == .lines {
                    let size = event.totalBytes.map { " (\(ProgressFormat.bytes($0)))" } ?? ""
                    ProgressBar.standardError("downloading \(event.file)\(size)\n")
                }
                bar = ProgressBar(total: event.totalBytes, unit: .bytes, style: style, label: event.file)
                bar?.update(done: 0)
            case .received:
                bar?.update(done: event.bytes)
            case .finished, .failed:
                bar?.update(done: event.bytes)
                bar?.finish(failed: event.kind == .failed)
                bar = nil
            }
        }
    }
}
