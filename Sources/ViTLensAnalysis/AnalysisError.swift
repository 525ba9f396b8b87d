import ViTLensCore

extension AnalysisError {
    /// Throws ``nonFinite(what:index:value:)`` for the first NaN or infinity in `values`.
    static func requireFinite(_ values: [Float], what: String) throws {
        if let i = Finite.firstNonFinite(values) {
            throw AnalysisError.nonFinite(what: what, index: i, value: Finite.describe(values[i]))
        }
    }
}

/// Everything that can go wrong configuring an analysis or loading attention arrays.
///
/// Each case renders as one line; cases that concern a file name it first (`file: problem`).
public enum AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A rollout discard ratio outside `[0, 1)`.
    case discardRatioOutOfRange(Double)
    /// A DINO mask threshold outside `(0, 1]`.
    case thresholdOutOfRange(Double)
    /// A layer index (after resolving negative indices) outside `0 ..< layers`.
    case layerOutOfRange(layer: Int, layers: Int)
    /// `firstLayer` comes after `lastLayer`.
    case emptyLayerRange(first: Int, last: Int)
    /// A head index outside `0 ..< heads` (head fusion `.head(i)`).
    case headOutOfRange(head: Int, heads: Int)
    /// A query token index outside `0 ..< tokens`.
    case tokenOutOfRange(token: Int, tokens: Int)
    /// A query patch outside the patch grid.
    case patchOutsideGrid(row: Int, column: Int, grid: PatchGrid)
    /// A patch query on a text layout, which has no grid.
    case patchQueryWithoutGrid(row: Int, column: Int)
    /// The CLS token was asked for but the layout has none.
    case noCLSToken(layout: String)
    /// The analysis needs a patch grid but the layout is a text layout.
    case needsPatchGrid(analysis: String)
    /// Attention that does not fit what the observer expects: a layer of another size than the
    /// forward pass announced, or a pass whose layer/head count differs from earlier accumulated passes.
    case geometryMismatch(analysis: String, expected: String, found: String)
    /// `finish()` was reached without any layer in the requested range.
    case noLayersObserved(analysis: String)
    /// Attention flow asked for more work (readout rows · N · layers · N²) than the documented limit.
    case flowTooLarge(tokens: Int, layers: Int, readoutRows: Int, maxWork: Int)
    /// A hand-given layout is invalid (negative prefix count, empty grid, ...).
    case invalidLayout(String)
    /// An attention array of the wrong rank or shape for its layout.
    case shapeMismatch(file: String, shape: [Int], expected: String)
    /// An attention array with an integer or other non-float dtype.
    case unsupportedDType(file: String, dtype: String)
    /// A NaN, infinite or negative probability.
    case invalidProbability(file: String, layer: Int, head: Int, row: Int, column: Int, value: Float)
    /// An attention row whose sum is not 1 within the tolerance.
    case rowSumNotOne(file: String, layer: Int, head: Int, row: Int, sum: Double, tolerance: Double)
    /// A saved array too large to load within the memory limit (``MemoryBudget/limit``).
    case tooLarge(file: String, bytes: Int, needed: Int, limit: Int)
    /// A map or stack handed to an analysis holds NaN or an infinity (`value` reads "NaN", "inf"
    /// or "-inf"; `index` is the first bad element, row-major).
    case nonFinite(what: String, index: Int, value: String)
    /// A layer delivered twice to a consumer that expects each layer once.
    case duplicateLayer(analysis: String, layer: Int)
    /// `finish()` was reached before every layer of the requested range arrived.
    case missingLayers(analysis: String, layers: [Int])

    public var description: String {
        switch self {
        case .discardRatioOutOfRange(let r):
            return "discard ratio \(r) is outside [0, 1)"
        case .thresholdOutOfRange(let t):
            return "mask threshold \(t) is outside (0, 1]"
        case .layerOutOfRange(let l, let n):
            return "layer \(l) is out of range: the model has \(n) layers (0...\(n - 1), or -1 for the last)"
        case .emptyLayerRange(let f, let l):
            return "first layer \(f) comes after last layer \(l)"
        case .headOutOfRange(let h, let n):
            return "head \(h) is out of range: the layer has \(n) heads (0...\(n - 1))"
        case .tokenOutOfRange(let t, let n):
            return "token \(t) is out of range: the sequence has \(n) tokens (0...\(n - 1))"
        case .patchOutsideGrid(let r, let c, let g):
            return "patch (\(r), \(c)) is outside the \(g.rows)x\(g.columns) patch grid"
        case .patchQueryWithoutGrid(let r, let c):
            return "patch (\(r), \(c)) asked for, but a text layout has no patch grid (query a token instead)"
        case .noCLSToken(let layout):
            return "the CLS token was asked for, but the layout (\(layout)) has none; query a token or the mean of patches"
        case .needsPatchGrid(let a):
            return "\(a) needs a patch grid, but the layout is a text layout"
        case .geometryMismatch(let a, let e, let f):
            return "\(a): expected \(e), got \(f) (passes of different models cannot be accumulated)"
        case .noLayersObserved(let a):
            return "\(a): no layer in the requested range was observed"
        case .flowTooLarge(let n, let l, let r, let maxW):
            return "attention flow for \(r) readout row(s) on \(n) tokens x \(l) layers is too large (rows * tokens^3 * layers must be <= \(maxW), one CLS row of a 12-layer ViT-B/16); use rollout, or a single query instead of the mean of patches"
        case .invalidLayout(let reason):
            return "invalid token layout: \(reason)"
        case .shapeMismatch(let f, let s, let e):
            return "\(f): attention array has shape \(s), expected \(e)"
        case .unsupportedDType(let f, let d):
            return "\(f): attention array has dtype '\(d)', expected a float type (<f4, <f8 or <f2)"
        case .invalidProbability(let f, let l, let h, let r, let c, let v):
            return "\(f): layer \(l), head \(h), row \(r), column \(c) holds \(v), not a probability (finite and >= 0)"
        case .rowSumNotOne(let f, let l, let h, let r, let s, let tol):
            return "\(f): layer \(l), head \(h), row \(r) sums to \(s), not 1 within \(tol) (post-softmax attention expected)"
        case .tooLarge(let f, let b, let n, let limit):
            return "\(f): a \(MemoryBudget.describe(b)) array needs about \(MemoryBudget.describe(n)) to load, above the limit of \(MemoryBudget.describe(limit)) (--max-memory): save fewer layers or a smaller input"
        case .nonFinite(let what, let i, let v):
            return "\(what) holds \(v) at index \(i); analyses take only finite values"
        case .duplicateLayer(let a, let l):
            return "\(a): layer \(l) was delivered twice"
        case .missingLayers(let a, let ls):
            return "\(a): layer(s) \(ls.map(String.init).joined(separator: ", ")) never arrived"
        }
    }
}
