import CViTLensSystem
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of outputs that ViTLens owns, written so that it always shows one complete set of files
/// and never loses a file ViTLens did not write.
///
/// The rule (docs/RELIABILITY.md):
/// - `--out` must be a new folder, an empty one, or one that ViTLens wrote: every file in it is listed
///   in its manifest ``manifestName`` with the size it was written with. A folder holding anything else
///   (the user's files, the input image, the `.onnx` being imported) is refused, and so are `""`, `/`,
///   the current folder and its ancestors, the home folder and its ancestors, symbolic links, and any
///   folder that contains an input (except inputs that ViTLens itself wrote there, such as an
///   `attentions.npy` replayed into the folder it came from).
/// - A run writes into a fresh hidden sibling folder (`.NAME.vitlens-partial-PID-RANDOM`), copies
///   over (hard links) the files of the other commands' last runs, writes the manifest, and swaps the
///   folder into place in one atomic `renameat2(RENAME_EXCHANGE)`; the old contents are then removed.
///   Readers see the old set or the new one, never a mix; stale files of the same command's earlier
///   run (`head_05.png` beside a two-head result) disappear.
/// - Commits into one folder are serialised with `flock` on its parent, so two runs into the same
///   folder both finish and the last one wins. Partial folders of processes that no longer exist are
///   removed by the next run into the same folder.
public final class OutputFolder {
    /// The manifest file's name inside an output folder.
    public static let manifestName = ".vitlens-manifest.json"
    /// The marker inside a staging folder that proves ViTLens created it.
    static let stagingMarker = ".vitlens-staging"

    /// What a commit does with the files already in the folder.
    public enum Replacement: Sendable, Equatable {
        /// Replace the files of the earlier run of the same command; keep other commands' files.
        case sameCommand
        /// Replace everything ViTLens wrote there (a folder that is one unit, like an imported model).
        case everything
    }

    /// The folder the outputs go to.
    public let url: URL
    /// The command whose files these are (`heads`, `rollout`, `import-onnx`, ...).
    public let command: String
    /// Names (relative paths) staged so far, in order.
    public private(set) var written: [String] = []

    private let staging: URL
    private let replacement: Replacement
    private let arguments: [String]
    private var committed = false

    /// Validates `path` as an output folder and creates a staging folder beside it.
    ///
    /// - Parameters:
    ///   - path: the folder (`--out`); created on commit if missing.
    ///   - command: the command name recorded in the manifest.
    ///   - replacement: what a commit replaces.
    ///   - mustBeNew: refuse a folder that already holds files (`import-onnx` without `--force`).
    ///   - inputs: files or folders the run reads; the output folder may not contain them.
    ///   - arguments: the command line, recorded in the manifest.
    /// - Throws: ``OutputFolderError`` naming the folder and the problem.
    public init(_ path: String, command: String, replacement: Replacement = .sameCommand, mustBeNew: Bool = false,
                inputs: [String] = [], arguments: [String] = []) throws {
        guard !path.isEmpty else { throw OutputFolderError.refused(path: path, reason: "is empty: name a folder for the outputs") }
        let fm = FileManager.default
        let absolute = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: fm.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL
        url = absolute
        self.command = command
        self.replacement = replacement
        self.arguments = arguments
        let target = Self.canonical(absolute)
        guard target.path != "/" else { throw OutputFolderError.refused(path: path, reason: "is the root folder") }
        if Self.isAncestorOrSame(target, of: Self.canonical(URL(fileURLWithPath: fm.currentDirectoryPath))) {
            throw OutputFolderError.refused(path: path, reason: "is the current folder or one of its ancestors: name a new folder for the outputs")
        }
        if let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty,
           Self.isAncestorOrSame(target, of: Self.canonical(URL(fileURLWithPath: home))) {
            throw OutputFolderError.refused(path: path, reason: "is the home folder or one of its ancestors: name a new folder for the outputs")
        }
        var info = stat()
        if lstat(absolute.path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFLNK {
                throw OutputFolderError.refused(path: path, reason: "is a symbolic link: give the folder it points to")
            }
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw OutputFolderError.refused(path: path, reason: "exists and is not a folder") }
            let earlier = (try? Data(contentsOf: absolute.appendingPathComponent(Self.manifestName)))
                .flatMap { try? JSONDecoder().decode(OutputManifest.self, from: $0) }
            let owned = Set((earlier?.runs ?? []).flatMap { $0.files.map { target.appendingPathComponent($0.name).path } })
            for input in inputs where !input.isEmpty {
                let inputURL = Self.canonical(URL(fileURLWithPath: input).standardizedFileURL)
                if Self.isAncestorOrSame(target, of: inputURL), !owned.contains(inputURL.path) {
                    throw OutputFolderError.refused(path: path, reason: "contains the input \(input): name another folder for the outputs")
                }
            }
            let manifest = try Self.ownedContents(of: absolute, display: path)
            if mustBeNew, !(manifest?.runs.isEmpty ?? true) {
                throw OutputFolderError.refused(path: path, reason: "exists and holds an earlier result: --force replaces it")
            }
        } else if errno != ENOENT {
            throw OutputFolderError.failed(path: path, reason: String(cString: strerror(errno)))
        }
        let parent = absolute.deletingLastPathComponent()
        do { try fm.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw OutputFolderError.failed(path: parent.path, reason: "cannot create the parent folder (\(error.localizedDescription))")
        }
        Self.removeDeadStaging(in: parent, name: absolute.lastPathComponent)
        let pid = ProcessInfo.processInfo.processIdentifier
        staging = parent.appendingPathComponent(".\(absolute.lastPathComponent).vitlens-partial-\(pid)-\(UInt32.random(in: 0 ... .max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
            try Data().write(to: staging.appendingPathComponent(Self.stagingMarker))
        } catch {
            throw OutputFolderError.failed(path: path, reason: "cannot create a staging folder beside it (\(error.localizedDescription))")
        }
    }

    deinit {
        if !committed { Self.removeStaging(staging) }
    }

    // MARK: - Writing

    /// Stages raw bytes under `name` (a relative path without `..`).
    public func write(_ data: Data, _ name: String) throws {
        let target = try stagedURL(name)
        do { try data.write(to: target) } catch {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "cannot write (\(error.localizedDescription))")
        }
        written.append(name)
    }

    /// Stages a float32 `.npy` `[shape]`, streaming the values to disk without a copy in memory.
    public func writeNPY(float32 values: [Float], shape: [Int], _ name: String) throws {
        let target = try stagedURL(name)
        let header = NPY.header(descr: "<f4", shape: shape)
        guard FileManager.default.createFile(atPath: target.path, contents: header) else {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "cannot create the file")
        }
        do {
            let handle = try FileHandle(forWritingTo: target)
            defer { try? handle.close() }
            try handle.seekToEnd()
            let chunk = 1 << 22
            try values.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let end = min(raw.count, offset + chunk)
                    #if _endian(little)
                    try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset),
                                                      count: end - offset, deallocator: .none))
                    #else
                    var le = Data(capacity: end - offset)
                    for i in stride(from: offset, to: end, by: 4) {
                        var v = raw.load(fromByteOffset: i, as: UInt32.self).littleEndian
                        withUnsafeBytes(of: &v) { le.append(contentsOf: $0) }
                    }
                    try handle.write(contentsOf: le)
                    #endif
                    offset = end
                }
            }
        } catch {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "cannot write (\(error.localizedDescription))")
        }
        written.append(name)
    }

    /// Where a writer that takes a URL should write `name`; call ``adopt(_:)`` once it is written.
    public func stagingURL(for name: String) throws -> URL { try stagedURL(name) }

    /// Adds a file written at ``stagingURL(for:)`` to the outputs.
    public func adopt(_ name: String) throws {
        guard FileManager.default.fileExists(atPath: staging.appendingPathComponent(name).path), !written.contains(name) else {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "was not written")
        }
        written.append(name)
    }

    private func stagedURL(_ name: String) throws -> URL {
        let parts = name.split(separator: "/")
        guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." }),
              name != Self.manifestName, !written.contains(name) else {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "is not a valid output name")
        }
        let target = staging.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw OutputFolderError.failed(path: url.appendingPathComponent(name).path, reason: "cannot create its folder (\(error.localizedDescription))")
        }
        return target
    }

    // MARK: - Commit

    /// Makes the staged files the folder's contents for this command, atomically.
    /// - Throws: ``OutputFolderError`` when the folder changed under the run (foreign files appeared)
    ///   or the file system refused; the earlier contents then stay as they were.
    public func commit() throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        let lock = open(parent.path, O_RDONLY)
        guard lock >= 0 else { throw OutputFolderError.failed(path: url.path, reason: "cannot open its parent folder to lock it") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw OutputFolderError.failed(path: url.path, reason: "cannot lock its parent folder") }
        }
        defer { _ = flock(lock, LOCK_UN) }

        var info = stat()
        let exists = lstat(url.path, &info) == 0
        var runs: [OutputManifest.Run] = []
        if exists {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw OutputFolderError.refused(path: url.path, reason: "exists and is not a folder") }
            let old = try Self.ownedContents(of: url, display: url.path)
            for run in old?.runs ?? [] where replacement == .sameCommand && run.command != command {
                var kept: [OutputManifest.File] = []
                for file in run.files where !written.contains(file.name) {
                    let from = url.appendingPathComponent(file.name), to = staging.appendingPathComponent(file.name)
                    do {
                        try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                        if link(from.path, to.path) != 0 { try fm.copyItem(at: from, to: to) }
                    } catch {
                        throw OutputFolderError.failed(path: from.path, reason: "cannot carry over (\(error.localizedDescription))")
                    }
                    kept.append(file)
                }
                if !kept.isEmpty { runs.append(OutputManifest.Run(command: run.command, arguments: run.arguments, vitlensVersion: run.vitlensVersion, finished: run.finished, files: kept)) }
            }
        }
        var files: [OutputManifest.File] = []
        for name in written {
            let size = (try? fm.attributesOfItem(atPath: staging.appendingPathComponent(name).path)[.size] as? NSNumber)?.int64Value ?? -1
            files.append(OutputManifest.File(name: name, bytes: size))
        }
        runs.append(OutputManifest.Run(command: command, arguments: arguments, vitlensVersion: ViTLensVersion.current,
                                       finished: ISO8601DateFormatter().string(from: Date()), files: files))
        let manifest = OutputManifest(runs: runs)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (encoder.encode(manifest) + Data("\n".utf8)).write(to: staging.appendingPathComponent(Self.manifestName))
            try fm.removeItem(at: staging.appendingPathComponent(Self.stagingMarker))
        } catch {
            throw OutputFolderError.failed(path: url.path, reason: "cannot write the manifest (\(error.localizedDescription))")
        }

        if exists {
            let status = vitlens_exchange_paths(staging.path, url.path)
            if status != 0 {
                // File systems without an atomic exchange: two renames (a short moment without the folder).
                let aside = url.deletingLastPathComponent().appendingPathComponent(staging.lastPathComponent + "-old")
                guard rename(url.path, aside.path) == 0 else {
                    throw OutputFolderError.failed(path: url.path, reason: "cannot replace (\(String(cString: strerror(errno))))")
                }
                guard rename(staging.path, url.path) == 0 else {
                    let e = errno
                    _ = rename(aside.path, url.path)
                    throw OutputFolderError.failed(path: url.path, reason: "cannot replace (\(String(cString: strerror(e))))")
                }
                committed = true
                Self.removeOwnedFolder(aside)
                return
            }
            committed = true
            Self.removeOwnedFolder(staging)  // now the previous contents
        } else {
            guard rename(staging.path, url.path) == 0 else {
                throw OutputFolderError.failed(path: url.path, reason: "cannot move the outputs into place (\(String(cString: strerror(errno))))")
            }
            committed = true
        }
    }

    // MARK: - Ownership

    /// The manifest of `folder` after checking that ViTLens wrote everything in it; nil for an
    /// empty folder without a manifest.
    static func ownedContents(of folder: URL, display: String) throws -> OutputManifest? {
        let fm = FileManager.default
        let manifestURL = folder.appendingPathComponent(manifestName)
        var manifest: OutputManifest?
        if fm.fileExists(atPath: manifestURL.path) {
            guard let data = try? Data(contentsOf: manifestURL), let m = try? JSONDecoder().decode(OutputManifest.self, from: data),
                  m.format == OutputManifest.formatName else {
                throw OutputFolderError.refused(path: display, reason: "has a \(manifestName) that ViTLens cannot read: name another folder")
            }
            manifest = m
        }
        var owned: [String: Int64] = [:]
        for run in manifest?.runs ?? [] { for f in run.files { owned[f.name] = f.bytes } }
        var ownedDirectories: Set<String> = []
        for name in owned.keys {
            var parts = name.split(separator: "/").dropLast()
            while !parts.isEmpty { ownedDirectories.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        guard let walker = fm.enumerator(atPath: folder.path) else {
            throw OutputFolderError.failed(path: display, reason: "cannot list the folder")
        }
        while let name = walker.nextObject() as? String {
            if name == manifestName { continue }
            let full = folder.appendingPathComponent(name).path
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR {
                // Staging folders of the previous layout (inside --out) from processes that are gone.
                if !name.contains("/"), name.hasPrefix(".vitlens-partial-"), let pid = Int32(name.dropFirst(17)), !processExists(pid) {
                    walker.skipDescendants()
                    try? fm.removeItem(atPath: full)
                    continue
                }
                if ownedDirectories.contains(name) { continue }
            } else if type == S_IFREG, let size = owned[name], size == Int64(info.st_size) {
                continue
            }
            throw OutputFolderError.refused(path: display, reason: "holds \(name), which ViTLens did not write: name a new or empty folder, or one ViTLens wrote")
        }
        return manifest
    }

    /// Removes the staging folders of processes that no longer exist for the output `name` in `parent`.
    static func removeDeadStaging(in parent: URL, name: String) {
        let prefix = ".\(name).vitlens-partial-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix(while: { $0 != "-" })), !processExists(pid) else { continue }
            let folder = parent.appendingPathComponent(entry)
            if entry.hasSuffix("-old") || FileManager.default.fileExists(atPath: folder.appendingPathComponent(stagingMarker).path) {
                removeOwnedFolder(folder)
            } else if (try? ownedContents(of: folder, display: folder.path)) != nil {
                removeOwnedFolder(folder)
            }
        }
    }

    private static func removeStaging(_ folder: URL) {
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(stagingMarker).path) else { return }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Removes a folder that this process created or checked as ViTLens-written.
    private static func removeOwnedFolder(_ folder: URL) { try? FileManager.default.removeItem(at: folder) }

    static func processExists(_ pid: Int32) -> Bool {
        if pid == ProcessInfo.processInfo.processIdentifier { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// The path with symbolic links resolved where it exists (the longest existing prefix).
    static func canonical(_ url: URL) -> URL {
        var existing = url.standardizedFileURL
        var tail: [String] = []
        while existing.path != "/", !FileManager.default.fileExists(atPath: existing.path) {
            tail.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        var resolved = existing.resolvingSymlinksInPath()
        for t in tail { resolved.appendPathComponent(t) }
        return resolved.standardizedFileURL
    }

    static func isAncestorOrSame(_ a: URL, of b: URL) -> Bool {
        let pa = a.path == "/" ? "/" : a.path + "/"
        return b.path == a.path || b.path.hasPrefix(pa)
    }
}

/// The manifest of an output folder: which command wrote which files, so that a later run can tell
/// its own files from anyone else's.
public struct OutputManifest: Codable, Sendable, Equatable {
    static let formatName = "vitlens-output-folder"
    /// Always `vitlens-output-folder`.
    public var format = OutputManifest.formatName
    /// Format version (1).
    public var version = 1
    /// The last complete run of each command that wrote here.
    public var runs: [Run]

    /// One command's last complete run.
    public struct Run: Codable, Sendable, Equatable {
        public var command: String
        public var arguments: [String]
        public var vitlensVersion: String
        /// ISO 8601 time the run finished.
        public var finished: String
        public var files: [File]

        enum CodingKeys: String, CodingKey {
            case command, arguments, files, finished
            case vitlensVersion = "vitlens_version"
        }
    }

    /// A file and the size it was written with.
    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var bytes: Int64
    }

    init(runs: [Run]) { self.runs = runs }
}

/// ViTLens's version, as recorded in manifests and metadata.
public enum ViTLensVersion {
    /// The release this build belongs to.
    public static let current = "0.1.0"
}

/// An output folder that cannot be used or written.
public enum OutputFolderError: Error, CustomStringConvertible, Equatable {
    /// ViTLens will not write there (it would lose or mix someone else's files).
    case refused(path: String, reason: String)
    /// The file system failed.
    case failed(path: String, reason: String)

    public var description: String {
        switch self {
        case .refused(let path, let reason): return "--out \(path.isEmpty ? "\"\"" : path): \(reason)"
        case .failed(let path, let reason): return "\(path): \(reason)"
        }
    }
}
