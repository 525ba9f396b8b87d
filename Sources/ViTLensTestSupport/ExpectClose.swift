import Foundation
import ViTLensCore

/// Named absolute tolerances for parity checks (see DESIGN.md section 5).
public struct Tolerance: Sendable, CustomStringConvertible {
    /// Maximum absolute difference allowed.
    public var absolute: Float
    public var name: String
    public init(_ absolute: Float, name: String) {
        self.absolute = absolute
        self.name = name
    }
    /// Bit-identical.
    public static let exact = Tolerance(0, name: "exact")
    /// Normalised pixel values: 1e-6.
    public static let pixels = Tolerance(1e-6, name: "pixels")
    /// Attention probabilities of tiny fixture models: 1e-5.
    public static let attention = Tolerance(1e-5, name: "attention")
    /// Hidden states and logits: 1e-4.
    public static let hidden = Tolerance(1e-4, name: "hidden")
    /// Real 12-layer models' attention (BLAS summation order differs): 1e-4.
    public static let realAttention = Tolerance(1e-4, name: "realAttention")
    public var description: String { "\(name) (\(absolute))" }
}

/// The comparison of two arrays: the worst absolute difference and where it is.
public struct Comparison: Sendable, CustomStringConvertible {
    public var maxAbsDiff: Float
    public var worstIndex: Int
    public var actual: Float
    public var expected: Float
    public var count: Int
    public var shapeMismatch: String?
    public var firstValues: String

    /// Whether the arrays agree within `tolerance` (NaN anywhere fails).
    public func within(_ tolerance: Tolerance) -> Bool { shapeMismatch == nil && maxAbsDiff <= tolerance.absolute }

    public var description: String {
        if let s = shapeMismatch { return s }
        return "max |diff| \(maxAbsDiff) at flat index \(worstIndex) (actual \(actual), expected \(expected)) over \(count) values; first: \(firstValues)"
    }
}

/// Compares `actual` with `expected` element-wise.
public func compare(_ actual: Tensor, _ expected: Tensor) -> Comparison {
    if actual.shape != expected.shape {
        return Comparison(maxAbsDiff: .infinity, worstIndex: -1, actual: .nan, expected: .nan, count: 0,
                          shapeMismatch: "shape \(actual.shape) != expected \(expected.shape)", firstValues: "")
    }
    var worst: Float = 0
    var at = 0
    for i in 0 ..< actual.count {
        let d = abs(actual.values[i] - expected.values[i])
        if d.isNaN || d > worst {
            worst = d.isNaN ? .infinity : d
            at = i
            if d.isNaN { break }
        }
    }
    let k = min(4, actual.count)
    let first = (0 ..< k).map { "\(actual.values[$0])/\(expected.values[$0])" }.joined(separator: " ")
    return Comparison(maxAbsDiff: worst, worstIndex: at, actual: actual.count > 0 ? actual.values[at] : .nan,
                      expected: expected.count > 0 ? expected.values[at] : .nan, count: actual.count,
                      shapeMismatch: nil, firstValues: first)
}

/// Loads `Tests/Fixtures/<relative>` as a float tensor.
public func fixtureTensor(_ relative: String) throws -> Tensor {
    try NPY.read(Fixtures.url(relative)).tensor
}

/// A fixture case's `meta.json`.
public func fixtureMeta(_ caseDirectory: String) throws -> FixtureMeta {
    try JSONDecoder().decode(FixtureMeta.self, from: Data(contentsOf: Fixtures.url("\(caseDirectory)/meta.json")))
}
