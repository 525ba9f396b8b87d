import ViTLensCheckpoint
import ViTLensCore

/// A weight tensor owned by a model: copied out of the checkpoint once at load, then used through
/// a stable pointer (no `[Float]` access or ARC traffic in the hot path).
public final class Param: @unchecked Sendable {
    /// Dimensions as stored (a Linear weight: `[out, in]` as in the checkpoint, `[in, out]`, or packed
    /// in panels of 32 output features `[ceil(out / 32), in, 32]`).
    public let shape: [Int]
    /// Number of elements.
    public let count: Int
    /// The values.
    public let pointer: UnsafeMutablePointer<Float>

    /// Copies `values` (which must hold `shape.reduce(1, *)` floats).
    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "Param values do not match shape \(shape)")
        self.shape = shape
        self.count = values.count
        pointer = .allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Allocates `shape.reduce(1, *)` uninitialised floats for the caller to fill.
    init(uninitialized shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        pointer = .allocate(capacity: max(1, count))
    }

    deinit { pointer.deallocate() }

    /// A read-only pointer to the values.
    public var ptr: UnsafePointer<Float> { UnsafePointer(pointer) }

    /// The values as a tensor (a copy).
    public var tensor: Tensor { Tensor(shape: shape, values: Array(UnsafeBufferPointer(start: pointer, count: count))) }
}

extension WeightStore {
    /// Takes `key` with `shape` into a ``Param``.
    func param(_ key: String, _ shape: [Int]) throws -> Param {
        guard let p = try optionalParam(key, shape) else { throw CheckpointError.missingWeight(key: key, file: file) }
        return p
    }

    /// Takes `key` if present, converted straight into the parameter's buffer.
    func optionalParam(_ key: String, _ shape: [Int]) throws -> Param? {
        var param: Param?
        let found = try takeOptional(key, shape: shape) { count in
            let p = Param(uninitialized: shape)
            param = p
            return UnsafeMutableBufferPointer(start: p.pointer, count: count)
        }
        return found ? param : nil
    }
}
