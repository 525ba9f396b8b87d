import Foundation
import ViTLens

/// Writes a command's outputs so that none is ever seen half-written: files go to a hidden staging
/// folder inside `--out` and are renamed into place by ``commit()``; if the command fails first,
/// the staging folder is removed and earlier outputs stay as they were.
final class OutputDirectory {
    let url: URL
    private let staging: URL
    private(set) var written: [String] = []

    init(_ path: String) throws {
        url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            throw InputError(file: url.path, problem: "exists and is not a directory")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            staging = url.appendingPathComponent(".vitlens-partial-\(ProcessInfo.processInfo.processIdentifier)")
            try? FileManager.default.removeItem(at: staging)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw InputError(file: url.path, problem: "cannot create output directory (\(error.localizedDescription))")
        }
    }

    deinit { try? FileManager.default.removeItem(at: staging) }

    /// Stages raw bytes under `name`.
    func write(_ data: Data, _ name: String) throws {
        let target = staging.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: target)
        } catch {
            throw InputError(file: url.appendingPathComponent(name).path, problem: "cannot write (\(error.localizedDescription))")
        }
        written.append(name)
    }

    /// Stages a float32 `.npy`.
    func npy(_ tensor: Tensor, _ name: String) throws { try write(NPY.encode(float32: tensor.values, shape: tensor.shape), name) }

    /// Stages a PNG.
    func png(_ image: RGBImage, _ name: String) throws { try write(try ImageIO.encodePNG(image), name) }

    /// Stages pretty-printed JSON.
    func json(_ object: Any, _ name: String) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try write(data + Data("\n".utf8), name)
    }

    /// Moves every staged file into `--out`, replacing older files of the same name.
    func commit() throws {
        for name in written {
            let from = staging.appendingPathComponent(name)
            let to = url.appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                if FileManager.default.fileExists(atPath: to.path) { try FileManager.default.removeItem(at: to) }
                try FileManager.default.moveItem(at: from, to: to)
            } catch {
                throw InputError(file: to.path, problem: "cannot move into place (\(error.localizedDescription))")
            }
        }
        try? FileManager.default.removeItem(at: staging)
    }
}

/// A failure found while a command runs (not an argument-syntax problem): printed as one line.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
