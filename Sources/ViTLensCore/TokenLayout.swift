/// The kind of a token that precedes the patch grid (or the text tokens) in a sequence.
public enum PrefixToken: String, Codable, Sendable, Equatable {
    /// The classification token (`[CLS]`), whose row is read by most analyses.
    case cls
    /// DeiT's distillation token.
    case distillation
    /// A DINOv2 register token.
    case register
}

/// The patch grid of an image model: `rows x columns` patches of `patchSize` pixels, row-major.
public struct PatchGrid: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Number of patch rows (input height / patch size).
    public var rows: Int
    /// Number of patch columns (input width / patch size).
    public var columns: Int
    /// Side of one square patch in input pixels.
    public var patchSize: Int

    /// Creates a grid; all values must be positive.
    public init(rows: Int, columns: Int, patchSize: Int) {
        precondition(rows > 0 && columns > 0 && patchSize > 0, "PatchGrid needs positive sizes")
        self.rows = rows
        self.columns = columns
        self.patchSize = patchSize
    }

    /// Number of patches, `rows * columns`.
    public var count: Int { rows * columns }

    public var description: String { "\(rows)x\(columns) patches of \(patchSize) px" }
}

/// Which token indices of a sequence are prefix tokens (CLS, distillation, registers) and which are
/// patches (or text tokens), and how patches map to the image grid.
///
/// Analyses and renderers read index ranges and grid sizes only from here; nothing infers a grid
/// from `sqrt(N)`. Prefix tokens come first, in order; then the patch grid row-major, so patch
/// `k` sits at `(row: k / columns, column: k % columns)`. Text layouts have no grid and no prefix:
/// every token (including `[CLS]` and `[SEP]`) is an ordinary position.
public struct TokenLayout: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Prefix tokens in sequence order.
    public var prefix: [PrefixToken]
    /// The patch grid, or `nil` for text sequences.
    public var grid: PatchGrid?
    /// Number of non-prefix tokens for text layouts (ignored when `grid` is set).
    public var textTokens: Int
    /// The layer index at which a model without CLS delivers its attention-pooling head (SigLIP's
    /// probe) as one more layer, `nil` for models without one. That layer's `[heads, N, N]`
    /// probabilities repeat the probe's attention over the `N` tokens in every row, and analyses
    /// that read the CLS row by default read the probe's row there instead.
    public var poolingHeadLayer: Int?

    /// An image layout: `prefix` tokens followed by the patches of `grid`.
    public init(prefix: [PrefixToken], grid: PatchGrid, poolingHeadLayer: Int? = nil) {
        self.prefix = prefix
        self.grid = grid
        self.textTokens = 0
        self.poolingHeadLayer = poolingHeadLayer
    }

    /// A text layout of `tokens` positions with no prefix and no grid.
    public init(textTokens tokens: Int) {
        self.prefix = []
        self.grid = nil
        self.textTokens = tokens
    }

    /// Number of prefix tokens (`P`).
    public var prefixCount: Int { prefix.count }

    /// Total sequence length `N = P + G`.
    public var tokenCount: Int { prefix.count + (grid?.count ?? textTokens) }

    /// Indices of the patch tokens (or of all tokens for text), `P ..< N`.
    public var patchRange: Range<Int> { prefix.count ..< tokenCount }

    /// Index of the CLS token, if the model has one.
    public var clsIndex: Int? { prefix.firstIndex(of: .cls) }

    /// Index of the distillation token, if the model has one.
    public var distillationIndex: Int? { prefix.firstIndex(of: .distillation) }

    /// Indices of the register tokens, possibly empty.
    public var registerIndices: [Int] { prefix.indices.filter { prefix[$0] == .register } }

    /// Sequence index of the patch at grid position (`row`, `column`).
    public func patchIndex(row: Int, column: Int) -> Int {
        guard let grid else { preconditionFailure("patchIndex on a text layout") }
        precondition(row >= 0 && row < grid.rows && column >= 0 && column < grid.columns, "patch outside the grid")
        return prefix.count + row * grid.columns + column
    }

    public var description: String {
        let p = prefix.isEmpty ? "no prefix" : prefix.map(\.rawValue).joined(separator: ",")
        let probe = poolingHeadLayer.map { ", pooling head probe at layer \($0)" } ?? ""
        if let grid { return "\(p) + \(grid) (\(tokenCount) tokens\(probe))" }
        return "\(textTokens) text tokens"
    }
}
