import Foundation

/// An ONNX tensor element type (`TensorProto.DataType`).
public struct ONNXDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `TensorProto.DataType` code.
    public var rawValue: Int32
    /// Wraps a `TensorProto.DataType` code (unknown codes are kept).
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 32-bit IEEE float.
    public static let float = ONNXDataType(rawValue: 1)
    /// Unsigned 8-bit integer.
    public static let uint8 = ONNXDataType(rawValue: 2)
    /// Signed 8-bit integer.
    public static let int8 = ONNXDataType(rawValue: 3)
    /// Unsigned 16-bit integer.
    public static let uint16 = ONNXDataType(rawValue: 4)
    /// Signed 16-bit integer.
    public static let int16 = ONNXDataType(rawValue: 5)
    /// Signed 32-bit integer.
    public static let int32 = ONNXDataType(rawValue: 6)
    /// Signed 64-bit integer (shape constants).
    public static let int64 = ONNXDataType(rawValue: 7)
    /// UTF-8 strings (not read).
    public static let string = ONNXDataType(rawValue: 8)
    /// Boolean, one byte each.
    public static let bool = ONNXDataType(rawValue: 9)
    /// IEEE half precision.
    public static let float16 = ONNXDataType(rawValue: 10)
    /// 64-bit IEEE float.
    public static let double = ONNXDataType(rawValue: 11)
    /// Unsigned 32-bit integer.
    public static let uint32 = ONNXDataType(rawValue: 12)
    /// Unsigned 64-bit integer.
    public static let uint64 = ONNXDataType(rawValue: 13)
    /// bfloat16 (the top half of a float32).
    public static let bfloat16 = ONNXDataType(rawValue: 16)

    /// The ONNX spelling, e.g. `FLOAT16`.
    public var description: String {
        let names: [Int32: String] = [
            0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
            8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
            15: "COMPLEX128", 16: "BFLOAT16",
        ]
        return names[rawValue] ?? "data type \(rawValue)"
    }

    /// Bytes per element in `raw_data`, for the types the reader can widen.
    var rawElementSize: Int? {
        switch rawValue {
        case 1, 6, 12: return 4
        case 7, 11, 13: return 8
        case 10, 16, 4, 5: return 2
        case 2, 3, 9: return 1
        default: return nil
        }
    }
}

/// An ONNX tensor: an initializer or an attribute value (`TensorProto`).
///
/// Values stay where the reader found them: `raw_data` is a slice of the (memory-mapped) file,
/// never copied until ``floatValues()`` or ``int64Values()`` is called; the typed repeated fields
/// (`float_data`, `int32_data`, ...) are decoded while reading, as they are not stored contiguously.
public struct ONNXTensor: Sendable {
    /// The tensor's name (empty for most attribute tensors).
    public var name: String
    /// Dimensions, outermost first; empty for a scalar.
    public var dims: [Int]
    /// The element type.
    public var dataType: ONNXDataType
    /// Where the values are.
    var storage: Storage
    /// The model file, for error messages.
    var file: String

    enum Storage: Sendable {
        /// `raw_data`: little-endian elements back to back.
        case raw(Data)
        case floats([Float])
        /// `int32_data`: also holds FLOAT16/BFLOAT16 bit patterns, and the small integer types.
        case int32s([Int32])
        case int64s([Int64])
        case doubles([Double])
        case uint64s([UInt64])
        /// `external_data`: the values live in another file.
        case external(location: String)
        /// No values at all.
        case empty
    }

    /// Number of elements, `dims.reduce(1, *)` (1 for a scalar).
    public var elementCount: Int { dims.reduce(1, *) }

    /// True when the values are stored in a separate file (`data_location: EXTERNAL`).
    public var isExternal: Bool {
        if case .external = storage { return true }
        return false
    }

    /// The external file named by `external_data`, if any.
    public var externalLocation: String? {
        if case .external(let l) = storage { return l }
        return nil
    }

    /// True for FLOAT, FLOAT16, BFLOAT16 and DOUBLE tensors.
    public var isFloatingPoint: Bool {
        [.float, .float16, .bfloat16, .double].contains(dataType)
    }

    /// The values widened to `Float`, row-major.
    ///
    /// FLOAT is copied, FLOAT16 and BFLOAT16 are widened exactly, DOUBLE is rounded to nearest.
    /// - Throws: ``ONNXError/unsupportedGraph(file:reason:)`` for non-float types and external data;
    ///   ``ONNXError/malformed(file:reason:)`` when the stored element count disagrees with `dims`.
    public func floatValues() throws -> [Float] {
        let n = elementCount
        switch (dataType, storage) {
        case (_, .external(let location)):
            throw externalError(location)
        case (.float, .raw(let data)), (.float16, .raw(let data)), (.bfloat16, .raw(let data)), (.double, .raw(let data)):
            let size = dataType.rawElementSize ?? 4
            try checkByteCount(data.count, elementSize: size)
            return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
                [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    guard let p = raw.baseAddress else { initialized = 0; return }
                    switch dataType {
                    case .float:
                        #if _endian(little)
                        if let dst = out.baseAddress { UnsafeMutableRawPointer(dst).copyMemory(from: p, byteCount: 4 * n) }
                        #else
                        for i in 0 ..< n { out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                        #endif
                    case .float16:
                        for i in 0 ..< n { out[i] = Float(halfBits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                    case .bfloat16:
                        for i in 0 ..< n { out[i] = Float(bfloat16Bits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                    default:
                        for i in 0 ..< n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                    }
                    initialized = n
                }
            }
        case (.float, .floats(let v)):
            try checkCount(v.count)
            return v
        case (.float16, .int32s(let v)):
            try checkCount(v.count)
            return v.map { Float(halfBits: UInt16(truncatingIfNeeded: $0)) }
        case (.bfloat16, .int32s(let v)):
            try checkCount(v.count)
            return v.map { Float(bfloat16Bits: UInt16(truncatingIfNeeded: $0)) }
        case (.double, .doubles(let v)):
            try checkCount(v.count)
            return v.map { Float($0) }
        case (_, .empty) where isFloatingPoint:
            try checkCount(0)
            return []
        default:
            throw ONNXError.unsupportedGraph(file: file, reason: "unsupported graph: tensor '\(name)' holds \(dataType) values where floats are needed")
        }
    }

    /// The values of an integer or bool tensor as `Int64`, row-major.
    /// - Throws: ``ONNXError/unsupportedGraph(file:reason:)`` for float types and external data;
    ///   ``ONNXError/malformed(file:reason:)`` when the stored element count disagrees with `dims`.
    public func int64Values() throws -> [Int64] {
        let n = elementCount
        switch (dataType, storage) {
        case (_, .external(let location)):
            throw externalError(location)
        case (.int64, .int64s(let v)):
            try checkCount(v.count)
            return v
        case (.int32, .int32s(let v)), (.int16, .int32s(let v)), (.int8, .int32s(let v)), (.uint8, .int32s(let v)),
             (.uint16, .int32s(let v)), (.bool, .int32s(let v)):
            try checkCount(v.count)
            return v.map { Int64($0) }
        case (.uint32, .uint64s(let v)), (.uint64, .uint64s(let v)):
            try checkCount(v.count)
            return v.map { Int64(truncatingIfNeeded: $0) }
        case (_, .raw(let data)) where !isFloatingPoint && dataType.rawElementSize != nil:
            let size = dataType.rawElementSize ?? 8
            try checkByteCount(data.count, elementSize: size)
            let type = dataType
            return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int64] in
                guard let p = raw.baseAddress else { return [] }
                return (0 ..< n).map { i -> Int64 in
                    switch type {
                    case .int64: return Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    case .uint64: return Int64(truncatingIfNeeded: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                    case .int32: return Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                    case .uint32: return Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case .int16: return Int64(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                    case .uint16: return Int64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    case .int8: return Int64(p.load(fromByteOffset: i, as: Int8.self))
                    default: return Int64(p.load(fromByteOffset: i, as: UInt8.self))
                    }
                }
            }
        case (_, .empty) where !isFloatingPoint:
            try checkCount(0)
            return []
        default:
            throw ONNXError.unsupportedGraph(file: file, reason: "unsupported graph: tensor '\(name)' holds \(dataType) values where integers are needed")
        }
    }

    private func externalError(_ location: String) -> ONNXError {
        .unsupportedGraph(file: file, reason: "unsupported graph: tensor '\(name)' keeps its values in the external file '\(location)'; re-save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))")
    }

    private func checkCount(_ found: Int) throws {
        guard found == elementCount else {
            throw ONNXError.malformed(file: file, reason: "tensor '\(name)' has \(found) \(dataType) values, dims \(dims) need \(elementCount)")
        }
    }

    private func checkByteCount(_ bytes: Int, elementSize: Int) throws {
        guard bytes == elementCount * elementSize else {
            throw ONNXError.malformed(file: file, reason: "tensor '\(name)' has \(bytes) bytes of raw_data, dims \(dims) of \(dataType) need \(elementCount * elementSize)")
        }
    }
}
