import Foundation
import ViTLensCore

/// Errors reading an ONNX model or importing it as a Hugging Face folder; each message names the file.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The model file does not exist or cannot be opened.
    case fileNotFound(file: String)
    /// The path exists but is no readable regular file (a FIFO, a device, a directory, a symbolic
    /// link loop, no permission).
    case unreadableFile(file: String, problem: FileProblem)
    /// A protobuf field runs past the end of the file (a cut-off download); `offset` is the byte
    /// where the field that does not fit starts.
    case truncated(file: String, offset: Int)
    /// The bytes are not a valid ONNX protobuf (bad varint, wire type, length, dims or data size).
    case malformed(file: String, reason: String)
    /// The graph is valid ONNX but not an exported Hugging Face ViT or DINOv2 backbone that the
    /// importer can map; `reason` starts with "unsupported graph: ".
    case unsupportedGraph(file: String, reason: String)
    /// The output folder exists and is not empty, and overwriting was not asked for.
    case outputExists(directory: String)
    /// The output folder could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let f): return "\(f): no such file"
        case .unreadableFile(let f, let p): return "\(f): \(p)"
        case .truncated(let f, let o): return "\(f): truncated ONNX protobuf: the field at byte \(o) runs past the end of the file"
        case .malformed(let f, let r): return "\(f): malformed ONNX protobuf: \(r)"
        case .unsupportedGraph(let f, let r): return "\(f): \(r)"
        case .outputExists(let d): return "\(d): output folder exists and is not empty (use --force to replace it)"
        case .writeFailed(let p, let r): return "\(p): cannot write: \(r)"
        }
    }
}
