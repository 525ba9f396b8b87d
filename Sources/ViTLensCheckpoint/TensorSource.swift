import Foundation

/// A checkpoint's tensors by name, whatever the file format: ``SafeTensorsArchive`` (safetensors,
/// single or sharded) and ``TorchCheckpoint`` (`torch.save` state dicts). ``WeightStore`` takes its
/// weights from one.
public protocol TensorSource: AnyObject, Sendable, CustomStringConvertible {
    /// Tensor names, sorted.
    var names: [String] { get }
    /// The shape of `name`, or `nil` when there is no such tensor.
    func shape(of name: String) -> [Int]?
    /// The tensor's values widened to `Float`, row-major; with `requireFinite`, a NaN or infinity
    /// throws ``CheckpointError/nonFiniteWeight(key:file:index:value:)``.
    func floats(_ name: String, requireFinite: Bool) throws -> [Float]
    /// Writes the tensor's values (as ``floats(_:requireFinite:)``) into `out`, which holds exactly
    /// the tensor's element count. The default copies from ``floats(_:requireFinite:)``; sources
    /// that can convert straight from their bytes (safetensors) avoid the intermediate array.
    func floats(_ name: String, requireFinite: Bool, into out: UnsafeMutableBufferPointer<Float>) throws
    /// The file that holds `name` (a shard, for sharded safetensors), for messages.
    func fileName(for name: String) -> String?
}

extension TensorSource {
    /// The tensor's values as `Float` (non-finite values allowed).
    public func floats(_ name: String) throws -> [Float] { try floats(name, requireFinite: false) }

    /// Copies ``floats(_:requireFinite:)`` into `out` (sources without a direct conversion).
    public func floats(_ name: String, requireFinite: Bool, into out: UnsafeMutableBufferPointer<Float>) throws {
        let values = try floats(name, requireFinite: requireFinite)
        // A source whose values disagree with the shape it reported is a corrupt file, not a crash.
        guard values.count == out.count else {
            throw CheckpointError.shapeMismatch(key: name, expected: [out.count], found: [values.count], file: fileName(for: name) ?? description)
        }
        _ = out.update(fromContentsOf: values)
    }
}

extension SafeTensorsArchive: TensorSource {
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
}

/// Opens the weights file of a model in the format its bytes show.
public enum TensorSources {
    /// A ``TorchCheckpoint`` when `url` is a `torch.save` file (zip or legacy, by its first bytes),
    /// else a ``SafeTensorsArchive`` (a `.safetensors` file, an index, or a folder).
    /// - Parameter stateDictKey: for torch files holding several state dicts, the one to read.
    public static func open(_ url: URL, stateDictKey: String? = nil) throws -> any TensorSource {
        if !url.path.hasSuffix(".safetensors"), !url.path.hasSuffix(".json"), TorchCheckpoint.looksLikeTorchFile(url) {
            return try TorchCheckpoint(url: url, key: stateDictKey)
        }
        return try SafeTensorsArchive(url: url)
    }
}
