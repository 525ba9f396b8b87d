import Foundation

/// The element types a `.safetensors` header may name (the subset ViTLens reads).
///
/// Raw values are the header spellings. Other spec dtypes (`U16`, `U32`, `U64`, `F8_E4M3`, ...)
/// are reported as ``CheckpointError/unknownDType(file:key:dtype:)``.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// Whether ``SafeTensorsFile/floats(_:)`` can read this dtype.
    public var isFloatingPoint: Bool {
        switch self {
        case .F64, .F32, .F16, .BF16: return true
        default: return false
        }
    }
}

/// One tensor's header entry.
public struct SafeTensorInfo: Sendable, Equatable {
    /// The tensor's key, e.g. `encoder.layer.0.attention.attention.query.weight`.
    public var name: String
    /// Its element type.
    public var dtype: SafeTensorsDType
    /// Its dimensions, outermost first (empty for a scalar).
    public var shape: [Int]
    /// Where its bytes lie in the file: absolute offsets, i.e. the header's `data_offsets` plus
    /// `8 + headerLength`. Its count is `shape.reduce(1, *) * dtype.size`.
    public var byteRange: Range<Int>

    /// Number of elements, `shape.reduce(1, *)`.
    public var count: Int { shape.reduce(1, *) }
}
