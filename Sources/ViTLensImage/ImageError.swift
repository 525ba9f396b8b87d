import ViTLensCore

/// Errors reading, decoding or writing images and image-processor configurations.
///
/// Every case names the file; ``description`` is a one-line message such as
/// `photo.jpg: truncated JPEG data`.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    /// No file at that path (or it could not be read).
    case fileNotFound(file: String)
    /// The path exists but is no readable regular file (a FIFO, a device, a directory, a symbolic
    /// link loop, no permission); `problem` says which.
    case unreadableFile(file: String, problem: FileProblem)
    /// The bytes are neither JPEG (`FF D8 FF`) nor PNG (the 8-byte PNG signature).
    case notAnImage(file: String)
    /// JPEG or PNG data that ends before the image does.
    case truncated(file: String)
    /// Data the decoder (or the JSON reader) rejects; `reason` says why.
    case corrupt(file: String, reason: String)
    /// Valid data ViTLens does not handle (e.g. 12-bit JPEG, an unknown processor type).
    case unsupported(file: String, reason: String)
    /// Writing failed; `reason` gives the system's explanation.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let f): return "\(f): no such file"
        case .unreadableFile(let f, let p): return "\(f): \(p)"
        case .notAnImage(let f): return "\(f): not an image (expected JPEG or PNG)"
        case .truncated(let f): return "\(f): truncated image data (the file ends before the image does)"
        case .corrupt(let f, let r): return "\(f): corrupt: \(r)"
        case .unsupported(let f, let r): return "\(f): unsupported: \(r)"
        case .writeFailed(let f, let r): return "\(f): cannot write: \(r)"
        }
    }
}

extension ImageError {
    /// The error for `problem` with `file`: ``fileNotFound(file:)`` when nothing is there, else
    /// ``unreadableFile(file:problem:)``.
    public static func file(_ file: String, _ problem: FileProblem) -> ImageError {
        problem == .noSuchFile ? .fileNotFound(file: file) : .unreadableFile(file: file, problem: problem)
    }
}
