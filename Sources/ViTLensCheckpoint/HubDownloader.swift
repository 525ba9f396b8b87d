import Foundation
import ViTLensCore

/// Downloads a model from the Hugging Face Hub into the standard cache, so that an interrupted
/// download never leaves a snapshot that loads.
///
/// Steps: `GET {endpoint}/api/models/{id}/revision/main` gives the commit `sha` and the file list
/// (`siblings[].rfilename`); each wanted file comes from `GET {endpoint}/{id}/resolve/{sha}/{file}`.
/// A file is streamed into `blobs/<random>.incomplete`, checked (length; the SHA-256 when the ETag
/// is one, as it is for LFS files; safetensors files are fully validated), renamed to
/// `blobs/<etag>`, and linked as `snapshots/<sha>/<file>` -> `../../blobs/<etag>`. A failed, cut,
/// oversized or invalid download removes its `.incomplete` file and links nothing. `refs/main` is
/// written last, atomically. Files already in the snapshot are not fetched again. Timeouts and the
/// size cap come from ``DownloadLimits``.
struct HubDownloader {
    /// Config and tokenizer files fetched when the repository has them (`config.json` is required).
    static let auxiliaryFiles = ["config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
                                 "vocab.txt", "special_tokens_map.json"]

    let cache: HubCache
    let endpoint: URL
    /// For metadata (the revision API call): `HF_HUB_ETAG_TIMEOUT`.
    let metadataTransfer: HTTPTransfer
    /// For files: `HF_HUB_DOWNLOAD_TIMEOUT` and the size cap.
    let transfer: HTTPTransfer
    let progress: (@Sendable (String) -> Void)?
    /// Receives each file's start, bytes and end (for a byte progress bar).
    let events: (@Sendable (DownloadEvent) -> Void)?

    /// Reads `HF_ENDPOINT`, `HF_TOKEN` and the ``DownloadLimits`` variables from `environment`.
    /// - Throws: ``CheckpointError/downloadFailed(url:reason:)`` when `HF_ENDPOINT` is not an
    ///   http(s) URL, ``CheckpointError/invalidEnvironment(variable:value:expected:)`` for an
    ///   invalid timeout or size cap.
    init(cache: HubCache, environment: [String: String], progress: (@Sendable (String) -> Void)?,
         events: (@Sendable (DownloadEvent) -> Void)? = nil) throws {
        var text = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host != nil
        else { throw CheckpointError.downloadFailed(url: text, reason: "HF_ENDPOINT is not an http(s) URL") }
        let limits = try DownloadLimits(environment: environment)
        self.cache = cache
        self.endpoint = url
        var transfer = HTTPTransfer()
        transfer.maxBytes = limits.maxBytes
        transfer.headers["User-Agent"] = "vitlens (swift)"
        if let token = environment["HF_TOKEN"] ?? environment["HUGGING_FACE_HUB_TOKEN"], !token.isEmpty {
            transfer.headers["Authorization"] = "Bearer \(token)"
        }
        var metadata = transfer
        metadata.maxBytes = DownloadLimits.maxMemoryBytes
        metadata.timeout = limits.etagTimeout
        metadata.timeoutVariable = "HF_HUB_ETAG_TIMEOUT"
        transfer.timeout = limits.downloadTimeout
        transfer.timeoutVariable = "HF_HUB_DOWNLOAD_TIMEOUT"
        self.metadataTransfer = metadata
        self.transfer = transfer
        self.progress = progress
        self.events = events
    }

    /// Downloads `id` at revision `main` and returns its snapshot's files.
    func download(_ id: HubID) throws -> ModelFiles {
        let (sha, siblings) = try revision(id)
        let repository = cache.repository(id)
        let blobs = repository.appendingPathComponent("blobs", isDirectory: true)
        let snapshot = repository.appendingPathComponent("snapshots/\(sha)", isDirectory: true)
        for folder in [blobs, snapshot] {
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw CheckpointError.downloadFailed(url: endpoint.absoluteString, reason: "cannot create \(folder.path): \(error.localizedDescription)")
            }
        }
        let info = apiURL(id)
        guard siblings.contains("config.json") else {
            throw CheckpointError.downloadFailed(url: info.absoluteString, reason: "the repository has no config.json")
        }
        for name in Self.auxiliaryFiles where siblings.contains(name) {
            try fetch(name, id: id, sha: sha, blobs: blobs, snapshot: snapshot)
        }
        if siblings.contains(SafeTensorsArchive.singleFileName) {
            try fetch(SafeTensorsArchive.singleFileName, id: id, sha: sha, blobs: blobs, snapshot: snapshot)
        } else if siblings.contains(SafeTensorsArchive.indexFileName) {
            try fetch(SafeTensorsArchive.indexFileName, id: id, sha: sha, blobs: blobs, snapshot: snapshot)
            let index = snapshot.appendingPathComponent(SafeTensorsArchive.indexFileName)
            for shard in Set(try SafeTensorsArchive.readWeightMap(index).values).sorted() {
                guard siblings.contains(shard) else {
                    throw CheckpointError.downloadFailed(url: info.absoluteString, reason: "the index lists shard '\(shard)', which the repository lacks")
                }
                try fetch(shard, id: id, sha: sha, blobs: blobs, snapshot: snapshot)
            }
        } else {
            throw CheckpointError.downloadFailed(url: info.absoluteString,
                                                 reason: "the repository has no model.safetensors or model.safetensors.index.json")
        }
        let files = try ModelFiles(directory: snapshot)
        try writeRef(sha, repository: repository)
        return files
    }

    /// `{endpoint}/api/models/{id}/revision/main`.
    private func apiURL(_ id: HubID) -> URL { endpoint.appendingPathComponent("api/models/\(id)/revision/main") }

    /// The commit sha of `main` and the repository's file names.
    private func revision(_ id: HubID) throws -> (String, Set<String>) {
        let url = apiURL(id)
        let reply = try metadataTransfer.get(url)
        guard reply.status == 200 else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: Self.statusReason(reply.status))
        }
        guard let root = try? JSONReader.parseDictionaryKeyed(reply.body), root.members != nil else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "the reply is not a JSON object")
        }
        guard let sha = root["sha"]?.string, HubCache.isSafeComponent(sha) else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "the reply has no valid \"sha\"")
        }
        guard let siblings = root["siblings"]?.array else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "the reply has no \"siblings\" list")
        }
        return (sha, Set(siblings.compactMap { $0["rfilename"]?.string }))
    }

    /// Fetches one file into the blobs and links it into the snapshot, unless already there,
    /// reporting its start, bytes and end to ``events``.
    private func fetch(_ name: String, id: HubID, sha: String, blobs: URL, snapshot: URL) throws {
        if FileManager.default.fileExists(atPath: snapshot.appendingPathComponent(name).path) { return }
        let label = "\(id): \(name)"
        let state = TransferState()
        do {
            try store(name, id: id, sha: sha, blobs: blobs, snapshot: snapshot, label: label, state: state)
            let (bytes, total) = state.snapshot
            events?(DownloadEvent(kind: .finished, file: label, bytes: bytes, totalBytes: total))
        } catch {
            let (bytes, total) = state.snapshot
            if state.started { events?(DownloadEvent(kind: .failed, file: label, bytes: bytes, totalBytes: total)) }
            throw error
        }
    }

    /// Downloads, checks and stores one file (``fetch(_:id:sha:blobs:snapshot:)`` without the end events).
    private func store(_ name: String, id: HubID, sha: String, blobs: URL, snapshot: URL, label: String, state: TransferState) throws {
        let fm = FileManager.default
        let link = snapshot.appendingPathComponent(name)
        guard SafeTensorsArchive.isSafeRelativePath(name),
              let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)
        else { throw CheckpointError.downloadFailed(url: apiURL(id).absoluteString, reason: "unsafe file name '\(name)'") }
        guard let url = URL(string: endpoint.absoluteString + "/\(id)/resolve/\(sha)/\(encoded)") else {
            throw CheckpointError.downloadFailed(url: endpoint.absoluteString, reason: "cannot form the URL for '\(name)'")
        }
        let temporary = blobs.appendingPathComponent(UUID().uuidString + ".incomplete")
        defer { try? fm.removeItem(at: temporary) }
        guard fm.createFile(atPath: temporary.path, contents: nil), let handle = try? FileHandle(forWritingTo: temporary) else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "cannot write \(temporary.path)")
        }
        let (progress, events) = (self.progress, self.events)
        let reply: HTTPTransfer.Reply
        do {
            defer { try? handle.close() }
            reply = try transfer.get(url, to: handle, onResponse: { status, length in
                guard status == 200 else { return }
                state.start(total: length)
                progress?(label + (length.map { " (\(ProgressFormat.bytes($0)))" } ?? ""))
                events?(DownloadEvent(kind: .started, file: label, bytes: 0, totalBytes: length))
            }, onBytes: { bytes in
                state.received(bytes)
                events?(DownloadEvent(kind: .received, file: label, bytes: bytes, totalBytes: state.snapshot.total))
            })
        }
        guard reply.status == 200 else {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: Self.statusReason(reply.status))
        }
        if name.hasSuffix(".safetensors") {
            do { _ = try SafeTensorsFile(contentsOf: temporary) } catch {
                throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "\(error)")
            }
        }
        let etag = reply.linkedETag ?? reply.headers["x-linked-etag"] ?? reply.headers["etag"]
        if let expected = Self.normalizedETag(etag), Self.isSHA256(expected), let actual = reply.sha256, actual != expected.lowercased() {
            throw CheckpointError.downloadFailed(url: url.absoluteString,
                                                 reason: "the content's SHA-256 \(actual) differs from the ETag \(expected) (corrupt or altered download)")
        }
        let blobName = Self.normalizedETag(etag) ?? "\(sha)-" + name.replacingOccurrences(of: "/", with: "_")
        let blob = blobs.appendingPathComponent(blobName)
        do {
            if fm.fileExists(atPath: blob.path) {
                try fm.removeItem(at: temporary)
            } else {
                try fm.moveItem(at: temporary, to: blob)
            }
            try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? fm.removeItem(at: link)  // a dangling link from an older blob
            let depth = name.split(separator: "/").count + 1
            let target = String(repeating: "../", count: depth) + "blobs/" + blobName
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: target)
        } catch {
            throw CheckpointError.downloadFailed(url: url.absoluteString, reason: "cannot store the file in \(blobs.path): \(error.localizedDescription)")
        }
    }

    /// Writes `refs/main` atomically; the snapshot loads only once this exists.
    private func writeRef(_ sha: String, repository: URL) throws {
        let refs = repository.appendingPathComponent("refs", isDirectory: true)
        let ref = refs.appendingPathComponent("main")
        do {
            try FileManager.default.createDirectory(at: refs, withIntermediateDirectories: true)
            try Data(sha.utf8).write(to: ref, options: .atomic)
        } catch {
            throw CheckpointError.downloadFailed(url: endpoint.absoluteString, reason: "cannot write \(ref.path): \(error.localizedDescription)")
        }
    }

    /// An ETag header as a file name: `W/` and quotes removed; `nil` when empty or unsafe.
    static func normalizedETag(_ header: String?) -> String? {
        guard var tag = header?.trimmingCharacters(in: .whitespaces) else { return nil }
        if tag.hasPrefix("W/") { tag.removeFirst(2) }
        tag = tag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return HubCache.isSafeComponent(tag) && !tag.hasSuffix(".incomplete") ? tag : nil
    }

    /// Whether an ETag is a SHA-256 (64 hex digits), as the Hub sends for LFS files.
    static func isSHA256(_ tag: String) -> Bool {
        tag.utf8.count == 64 && tag.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    /// `HTTP <status>` with a hint for the statuses users can fix.
    static func statusReason(_ status: Int) -> String {
        switch status {
        case 401: return "HTTP 401 (private or gated repository: set HF_TOKEN)"
        case 403: return "HTTP 403 (access denied: accept the model's terms on the Hub and check HF_TOKEN)"
        case 404: return "HTTP 404 (no such repository or file)"
        default: return "HTTP \(status)"
        }
    }
}

/// One file transfer's counters, shared with the transfer's callbacks.
private final class TransferState: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = 0, total: Int?, begun = false

    func start(total: Int?) { lock.withLock { (self.total, begun, bytes) = (total, true, 0) } }
    func received(_ count: Int) { lock.withLock { bytes = count } }
    var started: Bool { lock.withLock { begun } }
    var snapshot: (bytes: Int, total: Int?) { lock.withLock { (bytes, total) } }
}
