import Foundation
import ViTLensCore

/// Everything that can go wrong reading a checkpoint, finding a model or downloading one.
///
/// Each case carries the file (or URL, or model id) it is about, and ``description`` is one line
/// that names it and the problem, e.g. `model.safetensors: tensor 'a.weight' has data_offsets
/// [0, 4096] past the end of the data section`.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file does not exist or cannot be opened.
    case fileNotFound(file: String)
    /// The path exists but is no readable regular file (a FIFO, a device, a directory, a symbolic
    /// link loop, no permission); `problem` says which.
    case unreadableFile(file: String, problem: FileProblem)
    /// The 8-byte little-endian header length points past the end of the file.
    case headerPastEnd(file: String, headerLength: UInt64, fileSize: Int)
    /// The JSON header is malformed (not JSON, not an object, an entry without `dtype`, ...).
    case badHeader(file: String, reason: String)
    /// The 8-byte header length is above `limit` (``SafeTensorsFile/maxHeaderLength``, the
    /// reference reader's 100 MB limit).
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The JSON header names `key` twice, at the top level (`object` nil) or inside the entry
    /// `object`; Python's reader would silently keep the last one, so the file is refused.
    case duplicateKey(file: String, key: String, object: String?)
    /// A tensor's `data_offsets` are reversed or lie outside the data section.
    case offsetsOutOfRange(file: String, key: String)
    /// Two tensors' byte ranges overlap.
    case overlappingOffsets(file: String, key: String, other: String)
    /// A tensor has a dtype this reader does not know, or one that cannot be read as floats.
    case unknownDType(file: String, key: String, dtype: String)
    /// A tensor's byte range does not hold `product(shape) * dtype size` bytes.
    case byteCountMismatch(file: String, key: String, expected: Int, found: Int)
    /// A `model.safetensors.index.json` is malformed or disagrees with its shards.
    case badIndex(file: String, reason: String)
    /// The model asked for a weight the checkpoint does not hold.
    case missingWeight(key: String, file: String)
    /// The checkpoint holds weights the model never took (and did not ignore).
    case unexpectedWeights(keys: [String], file: String)
    /// A weight has another shape than the model expects.
    case shapeMismatch(key: String, expected: [Int], found: [Int], file: String)
    /// A config file lacks a field the model needs.
    case configMissingField(file: String, field: String)
    /// A config file holds a value the model cannot use.
    case configInvalid(file: String, reason: String)
    /// `config.json` names a `model_type` that no family handles.
    case unknownModelType(file: String, type: String)
    /// A model spec is neither an existing path nor a Hub id.
    case modelNotFound(spec: String)
    /// The model is not in the Hugging Face cache and downloads are switched off.
    case notCached(id: String, cache: String)
    /// A weight holds NaN or an infinity (or an F64 value beyond the `Float` range); `index` is
    /// the first bad element in row-major order and `value` how it reads ("NaN", "inf", "-inf").
    case nonFiniteWeight(key: String, file: String, index: Int, value: String)
    /// The forward pass produced NaN or an infinity at `stage` (e.g. "layer 3 head 2 attention
    /// scores") although the weights and the input are finite: the weights overflow `Float`.
    case nonFiniteActivation(file: String, stage: String)
    /// A Hub request failed (HTTP status, network error, truncated or inconsistent download).
    case downloadFailed(url: String, reason: String)
    /// An environment variable that sets a limit (`HF_HUB_ETAG_TIMEOUT`, `HF_HUB_DOWNLOAD_TIMEOUT`,
    /// `VITLENS_MAX_DOWNLOAD_BYTES`) holds a value that is not valid.
    case invalidEnvironment(variable: String, value: String, expected: String)

    /// One line naming the file (or URL, or model id) and the problem.
    public var description: String {
        switch self {
        case .fileNotFound(let file):
            return "\(file): no such file"
        case .unreadableFile(let file, let problem):
            return "\(file): \(problem)"
        case .headerPastEnd(let file, let length, let size):
            return "\(file): safetensors header length \(length) runs past the end of the \(size)-byte file"
        case .badHeader(let file, let reason):
            return "\(file): bad safetensors header: \(reason)"
        case .headerTooLarge(let file, let length, let limit):
            return "\(file): safetensors header length \(length) is above the limit of \(limit) bytes"
        case .duplicateKey(let file, let key, let object):
            let place = object.map { " in the entry of '\($0)'" } ?? ""
            return "\(file): bad safetensors header: key '\(key)' appears twice\(place)"
        case .offsetsOutOfRange(let file, let key):
            return "\(file): tensor '\(key)' has data_offsets outside the data section"
        case .overlappingOffsets(let file, let key, let other):
            return "\(file): tensor '\(key)' overlaps tensor '\(other)'"
        case .unknownDType(let file, let key, let dtype):
            if SafeTensorsDType(rawValue: dtype) != nil {
                return "\(file): tensor '\(key)' has dtype \(dtype), which cannot be read as floats (F64, F32, F16, BF16 can)"
            }
            return "\(file): tensor '\(key)' has unknown dtype '\(dtype)'"
        case .byteCountMismatch(let file, let key, let expected, let found):
            return "\(file): tensor '\(key)' needs \(expected) bytes for its shape and dtype but data_offsets span \(found)"
        case .badIndex(let file, let reason):
            return "\(file): bad safetensors index: \(reason)"
        case .missingWeight(let key, let file):
            return "\(file): missing weight '\(key)'"
        case .unexpectedWeights(let keys, let file):
            let shown = keys.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            let more = keys.count > 5 ? ", ... (\(keys.count - 5) more)" : ""
            let noun = keys.count == 1 ? "weight" : "weights"
            return "\(file): \(keys.count) unexpected \(noun) the model did not use: \(shown)\(more)"
        case .shapeMismatch(let key, let expected, let found, let file):
            return "\(file): weight '\(key)' has shape \(found), expected \(expected)"
        case .configMissingField(let file, let field):
            return "\(file): missing field '\(field)'"
        case .configInvalid(let file, let reason):
            return "\(file): invalid config: \(reason)"
        case .unknownModelType(let file, let type):
            return "\(file): unknown model_type '\(type)'"
        case .modelNotFound(let spec):
            return "\(spec): no such model folder, safetensors file or Hub id"
        case .notCached(let id, let cache):
            return "\(id): not in the Hugging Face cache \(cache) and downloads are off (HF_HUB_OFFLINE); download it first or unset HF_HUB_OFFLINE"
        case .nonFiniteWeight(let key, let file, let index, let value):
            return "\(file): weight '\(key)' holds \(value) at index \(index); the checkpoint is corrupt (every weight must be finite)"
        case .nonFiniteActivation(let file, let stage):
            return "\(file): the forward pass overflowed to NaN/inf in \(stage); the weights are finite but too large, so no maps are written"
        case .downloadFailed(let url, let reason):
            return "\(url): download failed: \(reason)"
        case .invalidEnvironment(let variable, let value, let expected):
            return "\(variable)=\(String(reflecting: value)) is not valid: expected \(expected)"
        }
    }
}

extension CheckpointError {
    /// The error for `problem` with `file`: ``fileNotFound(file:)`` when nothing is there, else
    /// ``unreadableFile(file:problem:)``.
    public static func file(_ file: String, _ problem: FileProblem) -> CheckpointError {
        problem == .noSuchFile ? .fileNotFound(file: file) : .unreadableFile(file: file, problem: problem)
    }

    /// Throws ``file(_:_:)`` unless `file` is a readable regular file.
    static func requireRegularFile(_ file: String) throws(CheckpointError) {
        if let problem = UserFile.check(file) { throw .file(file, problem) }
    }
}
