import Foundation
import ViTLensCore

/// The weights of one model: a single `.safetensors` file or the shards listed by a
/// `model.safetensors.index.json`, behind one name -> tensor lookup.
///
/// Every file is mapped and validated up front (see ``SafeTensorsFile``). For a sharded model the
/// index's `weight_map` must agree with the shards exactly: each listed shard exists, holds every key
/// mapped to it, and holds no key the map does not list.
public final class SafeTensorsArchive: CustomStringConvertible, @unchecked Sendable {
    /// File name of a single-file checkpoint in a model folder.
    public static let singleFileName = "model.safetensors"
    /// File name of a sharded checkpoint's index in a model folder.
    public static let indexFileName = "model.safetensors.index.json"

    /// Sorted tensor names across all files.
    public let names: [String]
    /// The `.safetensors` file or index this was opened from; used in messages.
    public let description: String

    private let files: [SafeTensorsFile]
    private let fileOf: [String: Int]

    /// Opens a `.safetensors` file, a `*.safetensors.index.json`, or a directory holding
    /// `model.safetensors` or `model.safetensors.index.json` (or exactly one of either kind).
    /// - Throws: ``CheckpointError`` naming the file: `fileNotFound`, any reader error, or
    ///   `badIndex` naming the index when it is malformed, a shard is missing, or a shard lacks a
    ///   key mapped to it.
    public init(url: URL) throws {
        let target = try Self.locate(url)
        if target.path.hasSuffix(".json") {
            let (files, fileOf) = try Self.openIndex(target)
            self.files = files
            self.fileOf = fileOf
            names = fileOf.keys.sorted()
        } else {
            let file = try SafeTensorsFile(contentsOf: target)
            files = [file]
            fileOf = Dictionary(uniqueKeysWithValues: file.names.map { ($0, 0) })
            names = file.names
        }
        description = target.path
    }

    /// The header entry for `name`, or `nil` when no file holds it.
    public func info(_ name: String) -> SafeTensorInfo? {
        guard let i = fileOf[name] else { return nil }
        return files[i].info(name)
    }

    /// The tensor's values as `Float` (see ``SafeTensorsFile/floats(_:)``).
    /// - Throws: ``CheckpointError/missingWeight(key:file:)`` naming ``description`` when absent.
    public func floats(_ name: String) throws -> [Float] {
        try floats(name, requireFinite: false)
    }

    /// The tensor's values, optionally requiring them all to be finite
    /// (see ``SafeTensorsFile/floats(_:requireFinite:)``).
    public func floats(_ name: String, requireFinite: Bool) throws -> [Float] {
        guard let i = fileOf[name] else { throw CheckpointError.missingWeight(key: name, file: description) }
        return try files[i].floats(name, requireFinite: requireFinite)
    }

    /// Writes the tensor's values into `out` (see ``SafeTensorsFile/floats(_:requireFinite:into:)``).
    public func floats(_ name: String, requireFinite: Bool, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let i = fileOf[name] else { throw CheckpointError.missingWeight(key: name, file: description) }
        try files[i].floats(name, requireFinite: requireFinite, into: out)
    }

    /// The path of the file that holds `name` (a shard for sharded models), for messages.
    public func fileName(for name: String) -> String? {
        guard let i = fileOf[name] else { return nil }
        return files[i].url.path
    }

    /// The `__metadata__` of the (first) file.
    public var metadata: [String: String] { files.first?.metadata ?? [:] }

    // MARK: - Opening

    /// Resolves a directory to the checkpoint file inside it.
    private static func locate(_ url: URL) throws -> URL {
        switch UserFile.check(url.path) {
        case nil: return url
        case .isDirectory?: break
        case let problem?: throw CheckpointError.file(url.path, problem)
        }
        for name in [singleFileName, indexFileName] {
            let candidate = url.appendingPathComponent(name)
            if UserFile.check(candidate.path) != .noSuchFile { return candidate }
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for suffix in [".safetensors", ".safetensors.index.json"] {
            let matches = contents.filter { $0.hasSuffix(suffix) }
            if matches.count == 1 { return url.appendingPathComponent(matches[0]) }
        }
        throw CheckpointError.fileNotFound(file: url.appendingPathComponent(singleFileName).path)
    }

    /// Reads an index and opens its shards.
    private static func openIndex(_ indexURL: URL) throws -> ([SafeTensorsFile], [String: Int]) {
        let index = indexURL.path
        let weightMap = try readWeightMap(indexURL)
        let directory = indexURL.deletingLastPathComponent()
        var files: [SafeTensorsFile] = []
        var shardNumber: [String: Int] = [:]
        var fileOf: [String: Int] = [:]
        for key in weightMap.keys.sorted() {
            let shard = weightMap[key].unsafelyUnwrapped
            let number: Int
            if let n = shardNumber[shard] {
                number = n
            } else {
                let shardURL = directory.appendingPathComponent(shard)
                switch UserFile.check(shardURL.path) {
                case nil: break
                case .noSuchFile?:
                    throw CheckpointError.badIndex(file: index, reason: "shard '\(shard)' (listed for '\(key)') does not exist")
                case let problem?: throw CheckpointError.file(shardURL.path, problem)
                }
                files.append(try SafeTensorsFile(contentsOf: shardURL))
                number = files.count - 1
                shardNumber[shard] = number
            }
            guard files[number].info(key) != nil else {
                throw CheckpointError.badIndex(file: index, reason: "'\(key)' is mapped to shard '\(shard)', which does not hold it")
            }
            fileOf[key] = number
        }
        for (shard, number) in shardNumber.sorted(by: { $0.key < $1.key }) {
            if let stray = files[number].names.first(where: { fileOf[$0] == nil }) {
                throw CheckpointError.badIndex(file: index, reason: "shard '\(shard)' holds '\(stray)', which the weight_map does not list")
            }
        }
        return (files, fileOf)
    }

    /// Reads `weight_map` (tensor name -> shard file name) from an index file.
    ///
    /// Shard names must be relative paths inside the index's folder (no `..`, not absolute).
    static func readWeightMap(_ indexURL: URL) throws -> [String: String] {
        let index = indexURL.path
        let data: Data
        do { data = try UserFile.read(index) } catch { throw CheckpointError.file(index, error) }
        let root: JSONValue
        do { root = try JSONReader.parseDictionaryKeyed(data) } catch {
            throw CheckpointError.badIndex(file: index, reason: error.duplicateKey == nil ? "file is not valid JSON (\(error))" : error.message)
        }
        guard root.members != nil else { throw CheckpointError.badIndex(file: index, reason: "not a JSON object") }
        guard let map = root["weight_map"]?.members else {
            throw CheckpointError.badIndex(file: index, reason: "no \"weight_map\" object")
        }
        var weightMap: [String: String] = [:]
        for (key, value) in map {
            guard let shard = value.string else {
                throw CheckpointError.badIndex(file: index, reason: "weight_map entry '\(key)' is not a file name")
            }
            guard isSafeRelativePath(shard) else {
                throw CheckpointError.badIndex(file: index, reason: "shard name '\(shard)' for '\(key)' leaves the index's folder")
            }
            weightMap[key] = shard
        }
        return weightMap
    }

    /// Whether `path` is a non-empty relative path with no `..` or empty components.
    static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\\") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { $0 != ".." && $0 != "." && !$0.isEmpty }
    }
}
