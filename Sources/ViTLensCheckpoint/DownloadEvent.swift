/// What a Hub download reports about one file: its start (with the announced size), the bytes
/// received so far, and its end; the CLI turns these into a byte progress bar with rate and ETA.
public struct DownloadEvent: Sendable, Equatable {
    /// Where the file's transfer is.
    public enum Kind: Sendable, Equatable {
        /// The server answered 200; ``totalBytes`` is its `Content-Length`, when sent.
        case started
        /// More body bytes arrived; ``bytes`` is the running total.
        case received
        /// The file is downloaded, checked and stored in the cache.
        case finished
        /// The transfer or its checks failed (the error is thrown by the download).
        case failed
    }

    public var kind: Kind
    /// `org/model: model.safetensors`.
    public var file: String
    /// Body bytes received so far.
    public var bytes: Int
    /// The announced length (`Content-Length`), when known.
    public var totalBytes: Int?

    public init(kind: Kind, file: String, bytes: Int, totalBytes: Int?) {
        self.kind = kind
        self.file = file
        self.bytes = bytes
        self.totalBytes = totalBytes
    }
}
