import Foundation
import ViTLensCore

/// Finds a model's files from what a user typed: a folder, a `.safetensors` file, or a Hugging Face
/// Hub id (looked up in the standard cache and downloaded when missing).
public enum ModelLocator {
    /// Resolves `spec` to a model's files.
    ///
    /// In order:
    /// 1. An existing directory holding `config.json` and `model.safetensors` or
    ///    `model.safetensors.index.json` (a Hub cache repository folder `models--ORG--NAME` works too).
    /// 2. An existing `.safetensors` / `.safetensors.index.json` file, a `torch.save` state dict
    ///    (`.pth`, `.pt`, `.bin`, `.ckpt`; read by ``TorchCheckpoint``), or a `config.json`, whose
    ///    folder holds `config.json`.
    /// 3. A Hub id (`org/name` or `name`): the snapshot `refs/main` names in the cache
    ///    (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`) when complete;
    ///    else, unless `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) is `1`/`ON`/`YES`/`TRUE`, a
    ///    download from `$HF_ENDPOINT` (default `https://huggingface.co`) into that cache, with
    ///    `HF_TOKEN` as a bearer token. A cached model is used without asking the Hub for updates.
    ///    Transfers give up after `HF_HUB_ETAG_TIMEOUT` (metadata) / `HF_HUB_DOWNLOAD_TIMEOUT`
    ///    (files) seconds without data, 10 by default, and refuse files over
    ///    `VITLENS_MAX_DOWNLOAD_BYTES` (64 GiB by default); see `DownloadLimits`.
    ///
    /// - Parameters:
    ///   - spec: a path (`~` is expanded) or a Hub id.
    ///   - environment: where the `HF_*` variables and `HOME` are read from.
    /// - Throws: ``CheckpointError``: `fileNotFound` for a folder without `config.json` or weights,
    ///   `unreadableFile` for a path that is no regular file or folder (a FIFO, a device, a
    ///   symbolic link loop), `modelNotFound` for a missing path that is no Hub id,
    ///   `invalidEnvironment` for an invalid timeout or size cap, `notCached` when offline and not
    ///   cached, `downloadFailed` naming the URL for HTTP and network errors.
    public static func resolve(_ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ModelFiles {
        try resolve(spec, environment: environment, progress: nil)
    }

    /// Resolves `spec` like ``resolve(_:environment:)``, reporting each file a download fetches
    /// to `progress` as one line (e.g. `facebook/dinov2-small: model.safetensors (88.2 MB)`).
    public static func resolve(_ spec: String, environment: [String: String],
                               progress: (@Sendable (String) -> Void)?) throws -> ModelFiles {
        try resolve(spec, environment: environment, progress: progress, downloads: nil)
    }

    /// Resolves `spec` like ``resolve(_:environment:progress:)``, also reporting each downloaded
    /// file's start, bytes received and end to `downloads` (for a byte progress bar).
    public static func resolve(_ spec: String, environment: [String: String], progress: (@Sendable (String) -> Void)?,
                               downloads: (@Sendable (DownloadEvent) -> Void)?) throws -> ModelFiles {
        let path = expandTilde(spec, environment: environment)
        let problem: FileProblem? = spec.isEmpty ? .noSuchFile : UserFile.check(path)
        switch problem {
        case .noSuchFile?: break
        case .isDirectory?: return try folder(URL(fileURLWithPath: path))
        case let problem?: throw CheckpointError.file(path, problem)
        case nil:
            let url = URL(fileURLWithPath: path)
            let name = url.lastPathComponent
            if name == "config.json" { return try ModelFiles(directory: url.deletingLastPathComponent()) }
            if name.hasSuffix(".safetensors") || name.hasSuffix(".safetensors.index.json") {
                return try ModelFiles(directory: url.deletingLastPathComponent(), weights: url)
            }
            if torchExtensions.contains(url.pathExtension.lowercased()) {
                return try ModelFiles(directory: url.deletingLastPathComponent(), weights: url)
            }
            throw CheckpointError.modelNotFound(spec: spec)
        }
        guard let id = HubID(spec) else { throw CheckpointError.modelNotFound(spec: spec) }
        let cache = HubCache(environment: environment)
        if let files = try cache.cachedModel(id) { return files }
        if isOffline(environment) { throw CheckpointError.notCached(id: spec, cache: cache.root.path) }
        let downloader = try HubDownloader(cache: cache, environment: environment, progress: progress, events: downloads)
        return try downloader.download(id)
    }

    /// The weights file `spec` names (`~` expanded), for a model read without `config.json`
    /// (``ModelFiles/init(weights:configData:)``).
    /// - Throws: ``CheckpointError`` naming the path when it is missing or not a regular file.
    public static func weightsFile(_ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let path = expandTilde(spec, environment: environment)
        if let problem = spec.isEmpty ? .noSuchFile : UserFile.check(path) { throw CheckpointError.file(path, problem) }
        return URL(fileURLWithPath: path)
    }

    /// File extensions taken as `torch.save` state dicts.
    public static let torchExtensions: Set<String> = ["pth", "pt", "bin", "ckpt"]

    /// A model folder, or the current snapshot of a Hub cache repository folder.
    private static func folder(_ url: URL) throws -> ModelFiles {
        let fm = FileManager.default
        let isCacheRepository = !fm.fileExists(atPath: url.appendingPathComponent("config.json").path)
            && fm.fileExists(atPath: url.appendingPathComponent("refs/main").path)
            && fm.fileExists(atPath: url.appendingPathComponent("snapshots").path)
        if isCacheRepository, let files = try HubCache.completeSnapshot(repository: url) { return files }
        return try ModelFiles(directory: url)
    }

    /// Whether `HF_HUB_OFFLINE` (or, when that is unset or empty, `TRANSFORMERS_OFFLINE`) is true.
    static func isOffline(_ environment: [String: String]) -> Bool {
        let hub = environment["HF_HUB_OFFLINE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let value = hub ?? environment["TRANSFORMERS_OFFLINE"] else { return false }
        return ["1", "ON", "YES", "TRUE"].contains(value.trimmingCharacters(in: .whitespaces).uppercased())
    }

    /// `$HOME` from `environment`, else the user's home folder.
    static func homeDirectory(_ environment: [String: String]) -> URL {
        if let home = environment["HOME"], !home.isEmpty { return URL(fileURLWithPath: home, isDirectory: true) }
        return FileManager.default.homeDirectoryForCurrentUser
    }

    /// `path` with a leading `~` or `~/` replaced by the home folder.
    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        if path == "~" { return homeDirectory(environment).path }
        if path.hasPrefix("~/") { return homeDirectory(environment).appendingPathComponent(String(path.dropFirst(2))).path }
        return path
    }
}
