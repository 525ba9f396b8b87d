import Foundation

/// Where model code takes its weights from; it marks every key it hands out, so that after the
/// build ``finish()`` can report the checkpoint's leftovers.
///
/// Keys are the Hugging Face checkpoint names. A key is looked up as written, then as
/// `basePrefix + key` (a base model's weights inside a task checkpoint, e.g. `vit.` in
/// `ViTForImageClassification`), then, when it starts with `basePrefix`, without it (a task model
/// built from a base checkpoint). The same checkpoint key is never handed out under two names.
///
/// ```swift
/// let store = WeightStore(archive: try SafeTensorsArchive(url: files.weights), basePrefix: "vit.")
/// let q = try store.take("encoder.layer.0.attention.attention.query.weight", shape: [384, 384])
/// store.ignore { $0.hasSuffix("position_ids") }
/// try store.finish()
/// ```
/// Safe to use from several threads.
public final class WeightStore: @unchecked Sendable {
    /// The checkpoint the weights come from (safetensors or a `torch.save` state dict).
    public let archive: any TensorSource
    /// The prefix tried after the key as written, e.g. `"vit."`, `"dinov2."`, `"bert."`.
    public let basePrefix: String

    private let lock = NSLock()
    private var used: Set<String> = []
    private var ignored: Set<String> = []

    /// Wraps `archive`; `basePrefix` is the model family's `base_model_prefix` plus a dot, or empty.
    public init(archive: any TensorSource, basePrefix: String = "") {
        self.archive = archive
        self.basePrefix = basePrefix
    }

    /// The checkpoint file (or index) named in messages.
    public var file: String { archive.description }

    /// Takes the weight `key`, which must have exactly `shape`, and marks it used.
    /// - Returns: Its values widened to `Float`, row-major; all finite.
    /// - Throws: ``CheckpointError/missingWeight(key:file:)`` when absent under every name tried,
    ///   ``CheckpointError/shapeMismatch(key:expected:found:file:)`` naming the stored key,
    ///   ``CheckpointError/nonFiniteWeight(key:file:index:value:)`` for a NaN or infinity (checked
    ///   at load, before any forward pass), or a dtype error for integer tensors.
    public func take(_ key: String, shape: [Int]) throws -> [Float] {
        guard let values = try takeOptional(key, shape: shape) else {
            throw CheckpointError.missingWeight(key: key, file: file)
        }
        return values
    }

    /// Takes the weight `key` like ``take(_:shape:)``, or returns `nil` when it is absent
    /// (optional parameters such as biases or a pooler). A wrong shape still throws.
    public func takeOptional(_ key: String, shape: [Int]) throws -> [Float]? {
        guard let stored = resolve(key), let found = archive.shape(of: stored) else { return nil }
        guard found == shape else {
            throw CheckpointError.shapeMismatch(key: stored, expected: shape, found: found,
                                                file: archive.fileName(for: stored) ?? file)
        }
        let values = try archive.floats(stored, requireFinite: true)
        lock.withLock { _ = used.insert(stored) }
        return values
    }

    /// Takes the weight `key` like ``takeOptional(_:shape:)`` but writes its values into the buffer
    /// `make(count)` returns (called only when the weight is present and its shape is right), so a
    /// model's parameter is filled straight from the checkpoint. Returns `false` when absent.
    public func takeOptional(_ key: String, shape: [Int], into make: (Int) -> UnsafeMutableBufferPointer<Float>) throws -> Bool {
        guard let stored = resolve(key), let found = archive.shape(of: stored) else { return false }
        guard found == shape else {
            throw CheckpointError.shapeMismatch(key: stored, expected: shape, found: found,
                                                file: archive.fileName(for: stored) ?? file)
        }
        try archive.floats(stored, requireFinite: true, into: make(shape.reduce(1, *)))
        lock.withLock { _ = used.insert(stored) }
        return true
    }

    /// Whether `key` is present under any name tried (does not mark it).
    public func has(_ key: String) -> Bool { resolve(key) != nil }

    /// The stored shape of `key`, or `nil` when absent (does not mark it). Useful to read sizes
    /// a config leaves out, e.g. the number of classes from a classifier's weight.
    public func shape(of key: String) -> [Int]? { resolve(key).flatMap { archive.shape(of: $0) } }

    /// Marks every checkpoint key (as stored) for which `predicate` is true as deliberately unused:
    /// buffers such as `embeddings.position_ids`, or heads the model drops.
    public func ignore(where predicate: (String) -> Bool) {
        let matches = archive.names.filter(predicate)
        lock.withLock { ignored.formUnion(matches) }
    }

    /// Checkpoint keys neither taken nor ignored so far, sorted.
    public var unusedKeys: [String] {
        lock.withLock { archive.names.filter { !used.contains($0) && !ignored.contains($0) } }
    }

    /// Checks that every checkpoint key was taken or ignored.
    /// - Throws: ``CheckpointError/unexpectedWeights(keys:file:)`` listing the leftovers.
    public func finish() throws {
        let leftovers = unusedKeys
        guard leftovers.isEmpty else { throw CheckpointError.unexpectedWeights(keys: leftovers, file: file) }
    }

    /// The stored name for `key`: as written, with `basePrefix` added, or with it removed.
    private func resolve(_ key: String) -> String? {
        if archive.shape(of: key) != nil { return key }
        guard !basePrefix.isEmpty else { return nil }
        let prefixed = basePrefix + key
        if archive.shape(of: prefixed) != nil { return prefixed }
        if key.hasPrefix(basePrefix) {
            let bare = String(key.dropFirst(basePrefix.count))
            if archive.shape(of: bare) != nil { return bare }
        }
        return nil
    }
}
