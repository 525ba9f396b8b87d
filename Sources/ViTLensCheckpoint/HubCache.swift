import Foundation
import ViTLensCore

/// A Hugging Face Hub model id, `org/name` or `name`.
///
/// Follows the Hub's rules: one or two parts of ASCII letters, digits, `_`, `.` and `-`, each at
/// most 96 characters, not starting or ending with `.` or `-`, with no `--` or `..`. Names ending
/// in a model-file extension (`.safetensors`, `.json`, `.onnx`, `.bin`, `.pt`, `.pth`, `.npy`)
/// are taken for mistyped paths, not ids.
struct HubID: Sendable, Equatable, CustomStringConvertible {
    /// The id as written, e.g. `facebook/dinov2-small`.
    let description: String

    private static let fileExtensions = [".safetensors", ".json", ".onnx", ".bin", ".pt", ".pth", ".npy"]

    init?(_ spec: String) {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let lowered = spec.lowercased()
        guard !Self.fileExtensions.contains(where: { lowered.hasSuffix($0) }) else { return nil }
        for part in parts {
            guard !part.isEmpty, part.count <= 96,
                  part.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }),
                  !part.hasPrefix("."), !part.hasPrefix("-"), !part.hasSuffix("."), !part.hasSuffix("-"),
                  !part.contains("--"), !part.contains("..")
            else { return nil }
        }
        description = spec
    }

    /// The cache folder name, `models--org--name`.
    var cacheFolderName: String { "models--" + description.replacingOccurrences(of: "/", with: "--") }
}

/// The standard Hugging Face Hub cache (shared with Python's `huggingface_hub`).
///
/// Layout of one model: `models--ORG--NAME/refs/main` holds a commit sha;
/// `snapshots/<sha>/<file>` are (usually relative symbolic links to) `blobs/<etag>`.
struct HubCache: Sendable {
    /// The cache folder, e.g. `~/.cache/huggingface/hub`.
    let root: URL

    /// The cache folder for `environment`: `$HF_HUB_CACHE`, else `$HUGGINGFACE_HUB_CACHE`, else
    /// `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
    init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            return ModelLocator.expandTilde(v, environment: environment)
        }
        if let hub = value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE") {
            root = URL(fileURLWithPath: hub, isDirectory: true)
        } else if let home = value("HF_HOME") {
            root = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent("hub", isDirectory: true)
        } else {
            let cacheHome = value("XDG_CACHE_HOME")
                ?? ModelLocator.homeDirectory(environment).appendingPathComponent(".cache").path
            root = URL(fileURLWithPath: cacheHome, isDirectory: true)
                .appendingPathComponent("huggingface/hub", isDirectory: true)
        }
    }

    /// `root/models--ORG--NAME`.
    func repository(_ id: HubID) -> URL { root.appendingPathComponent(id.cacheFolderName, isDirectory: true) }

    /// The complete snapshot `refs/main` points to, or `nil` when there is none or it lacks
    /// `config.json`, the weights, or a shard.
    /// - Throws: ``CheckpointError/badIndex(file:reason:)`` when the cached index is malformed.
    func cachedModel(_ id: HubID) throws -> ModelFiles? {
        try Self.completeSnapshot(repository: repository(id))
    }

    /// The complete snapshot of a repository folder (see ``cachedModel(_:)``).
    static func completeSnapshot(repository: URL) throws -> ModelFiles? {
        let ref = repository.appendingPathComponent("refs/main")
        guard let data = try? UserFile.read(ref.path),
              let sha = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              isSafeComponent(sha)
        else { return nil }
        let snapshot = repository.appendingPathComponent("snapshots", isDirectory: true).appendingPathComponent(sha, isDirectory: true)
        guard let files = try? ModelFiles(directory: snapshot) else { return nil }
        guard try missingShards(files) .isEmpty else { return nil }
        return files
    }

    /// Shard file names an index lists that its folder lacks (empty for single-file weights).
    static func missingShards(_ files: ModelFiles) throws -> [String] {
        guard files.weights.lastPathComponent.hasSuffix(".json") else { return [] }
        let shards = Set(try SafeTensorsArchive.readWeightMap(files.weights).values).sorted()
        let directory = files.weights.deletingLastPathComponent()
        return shards.filter { !FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
    }

    /// Whether `s` can be used as one path component (letters, digits, `_`, `.`, `-`; not `.`/`..`).
    static func isSafeComponent(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 255 && !s.hasPrefix(".")
            && s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }
    }
}
