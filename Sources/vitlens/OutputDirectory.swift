import Foundation
import ViTLens

/// Writes a command's outputs through the library's ``OutputFolder``: files are staged beside `--out`
/// and swapped in as one complete set by ``commit()``; a folder holding files ViTLens did not write
/// is refused (docs/RELIABILITY.md has the rule).
final class OutputDirectory {
    private let folder: OutputFolder
    var url: URL { folder.url }
    var written: [String] { folder.written }

    /// - Parameters:
    ///   - path: `--out`.
    ///   - command: the command name recorded in the folder's manifest.
    ///   - inputs: what the run reads; `--out` may not contain it.
    init(_ path: String, command: String, inputs: [String]) throws {
        folder = try OutputFolder(path, command: command, inputs: inputs, arguments: Array(CommandLine.arguments.dropFirst()))
    }

    /// Stages raw bytes under `name` (a relative path).
    func write(_ data: Data, _ name: String) throws { try folder.write(data, name) }

    /// A float32 `.npy`, streamed to disk without a second copy in memory.
    private func npy(_ tensor: Tensor, _ name: String) throws { try folder.writeNPY(float32: tensor.values, shape: tensor.shape, name) }

    private func png(_ image: RGBImage, _ name: String) throws { try write(try ImageIO.encodePNG(image), name) }

    /// Stages every file of `product`, inside the subfolder `folder` when given (one image of a batch).
    func write(_ product: AnalysisProduct, in folder: String? = nil) throws {
        for (file, content) in product.files {
            let name = folder.map { "\($0)/\(file)" } ?? file
            switch content {
            case .array(let tensor): try npy(tensor, name)
            case .bytes(let data): try write(data, name)
            case .png(let image): try png(image, name)
            case .json(let value): try write(try AnalysisProduct.encodeJSON(value), name)
            }
        }
    }

    /// Swaps the staged files in as the folder's contents for this command.
    func commit() throws { try folder.commit() }
}

extension InputOptions {
    /// The local files and folders this input reads (`--out` may not contain them).
    var inputPaths: [String] {
        var paths = images
        if let model = modelOptions.model, FileManager.default.fileExists(atPath: model) { paths.append(model) }
        if let attentions { paths.append(attentions) }
        return paths
    }
}

/// A failure found while a command runs (not an argument-syntax problem): printed as one line.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
