import ViTLensCore

/// Errors from turning maps into pictures; each message is one line naming the input and the problem.
///
/// Rendering reads no files, so the "file" a message names is the argument or value at fault
/// (e.g. `map`, `image`, `tiles[3]`).
public enum RenderError: Error, CustomStringConvertible, Equatable {
    /// A map did not have the rank or shape an operation needs.
    case badShape(what: String, expected: String, found: [Int])
    /// Two inputs that must agree in size do not.
    case sizeMismatch(what: String, expected: String, found: String)
    /// A numeric parameter is outside its valid range.
    case invalidParameter(name: String, value: String, reason: String)
    /// An input that needs at least one element is empty.
    case empty(what: String)
    /// A map holds NaN or an infinity (`value` reads "NaN", "inf" or "-inf"; `index` is the first
    /// bad element, row-major): ViTLens draws only finite maps, never a black or blank picture.
    case nonFinite(what: String, index: Int, value: String)
    /// A picture would exceed the canvas limit (``CanvasLimit``); nothing was allocated.
    case canvasTooLarge(what: String, width: Int, height: Int, limit: String)

    public var description: String {
        switch self {
        case .badShape(let what, let expected, let found):
            return "\(what): expected shape \(expected), found \(found)"
        case .sizeMismatch(let what, let expected, let found):
            return "\(what): size mismatch: expected \(expected), found \(found)"
        case .invalidParameter(let name, let value, let reason):
            return "\(name) = \(value): \(reason)"
        case .empty(let what):
            return "\(what): empty input"
        case .nonFinite(let what, let index, let value):
            return "\(what): holds \(value) at index \(index); only finite maps can be drawn"
        case .canvasTooLarge(let what, let w, let h, let limit):
            return "\(what): a \(w) x \(h) px picture exceeds the canvas limit (\(limit))"
        }
    }
}

extension RenderError {
    /// Throws ``nonFinite(what:index:value:)`` for the first NaN or infinity in `values`.
    public static func requireFinite(_ values: [Float], what: String) throws {
        if let i = Finite.firstNonFinite(values) {
            throw RenderError.nonFinite(what: what, index: i, value: Finite.describe(values[i]))
        }
    }
}

extension Tensor {
    /// `(rows, columns)` of a rank-2 tensor with at least one element, or a ``RenderError``.
    func gridSize(_ what: String) throws -> (rows: Int, columns: Int) {
        guard shape.count == 2 else { throw RenderError.badShape(what: what, expected: "[rows, columns]", found: shape) }
        guard shape[0] > 0, shape[1] > 0 else { throw RenderError.empty(what: what) }
        return (shape[0], shape[1])
    }
}
