import ViTLensCore

/// One query token of a sequence: the CLS token, a sequence index, or a patch of the grid.
public enum TokenQuery: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The layout's CLS token (an error on layouts without one).
    case cls
    /// A sequence index `0 ..< N` (prefix tokens included; for text, a token position).
    case token(Int)
    /// The patch at grid position (`row`, `column`), zero-based, row-major.
    case patch(row: Int, column: Int)

    /// The sequence index this query names in `layout`.
    /// - Throws: ``AnalysisError`` when the layout has no CLS, the index is out of range or the
    ///   patch lies outside the grid.
    public func index(in layout: TokenLayout) throws -> Int {
        switch self {
        case .cls:
            guard let c = layout.clsIndex else { throw AnalysisError.noCLSToken(layout: layout.description) }
            return c
        case .token(let t):
            guard t >= 0 && t < layout.tokenCount else {
                throw AnalysisError.tokenOutOfRange(token: t, tokens: layout.tokenCount)
            }
            return t
        case .patch(let r, let c):
            guard let grid = layout.grid else { throw AnalysisError.patchQueryWithoutGrid(row: r, column: c) }
            guard r >= 0 && r < grid.rows && c >= 0 && c < grid.columns else {
                throw AnalysisError.patchOutsideGrid(row: r, column: c, grid: grid)
            }
            return layout.patchIndex(row: r, column: c)
        }
    }

    /// The sequence index this query names in `layer` of `layout`: as ``index(in:)``, except that
    /// ``cls`` on a layout without CLS names row 0 of the attention pooling head's layer
    /// (`layout.poolingHeadLayer`), every row of which is the probe's attention: the probe is the
    /// CLS-like readout of models such as SigLIP. At any other layer such a layout has no CLS row.
    /// - Throws: as ``index(in:)``.
    public func index(in layout: TokenLayout, layer: Int) throws -> Int {
        if self == .cls, layout.clsIndex == nil, let probe = layout.poolingHeadLayer, probe == layer { return 0 }
        return try index(in: layout)
    }

    public var description: String {
        switch self {
        case .cls: return "cls"
        case .token(let t): return "token \(t)"
        case .patch(let r, let c): return "patch (\(r), \(c))"
        }
    }
}

/// Which output row a rollout or attention flow reads: one query token, or the mean of the patch rows.
///
/// Models with a CLS token use ``cls`` (the default everywhere). Models that pool the patches
/// (global average pooling, no CLS) read ``meanOfPatches``: `u = (1/G) Σ_{i ∈ patches} e_i`, the
/// readout daam uses. For text layouts "patches" means every token.
public enum Readout: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The row of one query token.
    case query(TokenQuery)
    /// The mean of the rows of all patch tokens (all tokens for text layouts).
    case meanOfPatches

    /// The CLS row, `e_CLSᵀ`.
    public static let cls = Readout.query(.cls)

    /// The readout weight vector `u` over all `N` tokens (one-hot, or `1/G` on patches).
    func weights(in layout: TokenLayout) throws -> [Double] {
        var u = [Double](repeating: 0, count: layout.tokenCount)
        switch self {
        case .query(let q):
            u[try q.index(in: layout)] = 1
        case .meanOfPatches:
            let r = layout.patchRange
            for i in r { u[i] = 1 / Double(r.count) }
        }
        return u
    }

    public var description: String {
        switch self {
        case .query(let q): return q.description
        case .meanOfPatches: return "mean of patches"
        }
    }
}

/// A distribution of relevance over the tokens of one sequence, split by token role.
///
/// `row` covers all `N` tokens. ``map`` is its patch part, raw (not rescaled), shaped
/// `[rows, columns]` for image layouts and `[tokens]` for text layouts. The parts add up:
/// `sum(map) + clsMass + prefixMass = sum(row)`.
public struct TokenDistribution: Sendable, Equatable {
    /// Values over all `N` tokens, `[tokens]`.
    public var row: [Float]
    /// The token layout the row refers to.
    public var layout: TokenLayout

    /// Wraps a row of `layout.tokenCount` values.
    public init(row: [Float], layout: TokenLayout) {
        precondition(row.count == layout.tokenCount, "row length \(row.count) != \(layout.tokenCount) tokens")
        self.row = row
        self.layout = layout
    }

    /// The patch part of ``row``: `[rows, columns]` for images, `[tokens]` for text (prefix dropped, not rescaled).
    public var map: Tensor {
        let values = Array(row[layout.patchRange])
        if let g = layout.grid { return Tensor(shape: [g.rows, g.columns], values: values) }
        return Tensor(shape: [values.count], values: values)
    }

    /// The value at the CLS column, or `nil` when the layout has no CLS token.
    public var clsMass: Float? { layout.clsIndex.map { row[$0] } }

    /// The total at the non-CLS prefix columns (registers, distillation token); 0 when there are none.
    public var prefixMass: Float {
        var s: Float = 0
        for (i, kind) in layout.prefix.enumerated() where kind != .cls { s += row[i] }
        return s
    }
}
