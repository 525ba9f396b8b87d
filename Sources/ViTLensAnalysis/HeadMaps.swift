import ViTLensCore

/// One query's attention in one layer, for every head: the per-head maps behind DINO's figures.
///
/// For layer `l` (default the last; negative indices count from the end) and query token `q`
/// (CLS by default, or any token or patch), keeps the raw rows `A_l[h, q, :]` for every head `h`.
/// On a layout without CLS, the CLS query reads the attention pooling probe at its layer (SigLIP's
/// last observed layer; see `TokenQuery.index(in:layer:)`).
/// Nothing is renormalised: ``HeadMapsResult/maps`` drops the prefix columns, so a map sums to
/// `1 − (attention of q to the prefix tokens)`.
public struct HeadMaps: AttentionObserver {
    /// The requested layer (negative counts from the end).
    public let layer: Int
    /// The query token.
    public let query: TokenQuery
    /// The maps of the last completed forward pass; `nil` until ``finish()``.
    public private(set) var result: HeadMapsResult?

    private var resolvedLayer = -1
    private var queryIndex = 0
    private var layout: TokenLayout?
    private var rows: [Float] = []
    private var heads = 0
    /// Copies the query rows inside the attention pass (see ``rowStatistics``).
    private var rowKernel: HeadRowKernel?

    /// Creates the observer for `query` in `layer` (default: CLS in the last layer).
    public init(layer: Int = -1, query: TokenQuery = .cls) {
        self.layer = layer
        self.query = query
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        resolvedLayer = try Rollout.resolve(layer: layer, layers: geometry.layers)
        queryIndex = try query.index(in: geometry.layout, layer: resolvedLayer)
        layout = geometry.layout
        heads = 0
        rows = []
        result = nil
        rowKernel = resolvedLayer < geometry.layers
            ? HeadRowKernel(layer: resolvedLayer, query: queryIndex, heads: geometry.heads, tokens: geometry.layout.tokenCount) : nil
    }

    /// Copies the query row of every head while the attention pass holds it.
    public var rowStatistics: [any AttentionRowStatistic] { rowKernel.map { [$0] } ?? [] }

    /// `false` for every layer: the row statistic copies the rows (passes without row statistics
    /// deliver the probabilities anyway).
    public func needsProbabilities(layer: Int) -> Bool { rowKernel == nil && layer == resolvedLayer }

    public mutating func observe(_ attention: LayerAttention) throws {
        guard let layout, attention.layer == resolvedLayer else { return }
        let n = attention.tokens
        guard n == layout.tokenCount else {
            throw AnalysisError.geometryMismatch(analysis: "head maps", expected: "\(layout.tokenCount) tokens", found: "\(n) tokens")
        }
        if let kernel = rowKernel, attention.heads == kernel.heads, let copied = kernel.take() {
            rows = copied
            heads = attention.heads
            return
        }
        guard attention.hasProbabilities else {
            throw AnalysisError.geometryMismatch(analysis: "head maps", expected: "layer \(attention.layer)'s probabilities or its query rows",
                                                 found: "neither")
        }
        var out = [Float](repeating: 0, count: attention.heads * n)
        for h in 0 ..< attention.heads {
            let src = attention.row(head: h, query: queryIndex)
            for j in 0 ..< n { out[h * n + j] = src[j] }
        }
        rows = out
        heads = attention.heads
    }

    public mutating func finish() throws {
        guard let layout, heads > 0 else { throw AnalysisError.noLayersObserved(analysis: "head maps") }
        result = HeadMapsResult(
            layer: resolvedLayer, query: query, queryIndex: queryIndex, layout: layout,
            rows: Tensor(shape: [heads, layout.tokenCount], values: rows))
        rows = []
    }
}

/// Per-head attention rows of one query in one layer.
public struct HeadMapsResult: Sendable, Equatable {
    /// The layer (resolved, zero-based).
    public var layer: Int
    /// The query as requested.
    public var query: TokenQuery
    /// The query's sequence index.
    public var queryIndex: Int
    /// The token layout.
    public var layout: TokenLayout
    /// Raw rows over all tokens, `[heads, tokens]`.
    public var rows: Tensor

    /// Number of heads.
    public var heads: Int { rows.shape[0] }

    /// The rows over the patches: `[heads, rows, columns]` for images, `[heads, tokens]` for text.
    /// Raw values (prefix columns dropped, not rescaled).
    public var maps: Tensor {
        let n = layout.tokenCount
        let r = layout.patchRange
        var values: [Float] = []
        values.reserveCapacity(heads * r.count)
        for h in 0 ..< heads { values.append(contentsOf: rows.values[(h * n + r.lowerBound) ..< (h * n + r.upperBound)]) }
        if let g = layout.grid { return Tensor(shape: [heads, g.rows, g.columns], values: values) }
        return Tensor(shape: [heads, r.count], values: values)
    }

    /// The maps fused over heads: `[rows, columns]` (or `[tokens]` for text).
    /// - Throws: ``AnalysisError/headOutOfRange(head:heads:)`` for `.head(i)` with a missing head.
    public func fused(_ fusion: HeadFusion) throws -> Tensor { try fusion.fuse(maps) }

    /// DINO's per-head threshold masks over the patches (see ``DINOMasks``).
    /// - Throws: ``AnalysisError/thresholdOutOfRange(_:)`` unless `0 < threshold ≤ 1`.
    public func masks(threshold: Double = DINOMasks.defaultThreshold) throws -> MaskStack {
        try DINOMasks.masks(maps, threshold: threshold)
    }
}
