import Foundation

/// How maps become pictures: colormap, display scaling, upsampling and overlay weight.
///
/// The CLI's `--colormap`, `--normalize`, `--upsample` and `--alpha` fill it; saved `.npy` values are
/// never rescaled, only pictures are.
public struct RenderStyle: Sendable, Equatable {
    public var colormap: Colormap
    public var normalization: MapNormalization
    public var upsampling: Upsampling
    /// Overlay weight of the heatmap over the photo, in [0, 1].
    public var alpha: Float

    public init(colormap: Colormap = .viridis, normalization: MapNormalization = .max, upsampling: Upsampling = .nearest, alpha: Float = 0.5) {
        self.colormap = colormap
        self.normalization = normalization
        self.upsampling = upsampling
        self.alpha = alpha
    }

    /// Room kept for the colour bar when shrinking a picture to the canvas limit.
    static let barRoom = 1024

    /// The map `[rows, cols]` over `canvas` with a colour bar; a labelled list (``TokenStrip``)
    /// when `tokens` name the entries of a `[T]` map (text); else a plain colour-mapped grid (4 to 24
    /// px per cell). Every picture stays within ``CanvasLimit``: a canvas too large for it is
    /// box-downsampled first, and cells shrink (down to 1 px) for large grids.
    /// - Throws: `RenderError` for non-finite maps or pictures that cannot fit.
    public func picture(_ map: Tensor, canvas: RGBImage?, title: String, tokens: [String]? = nil) throws -> RGBImage {
        if let tokens, map.shape == [tokens.count] {
            return try TokenStrip(tokens: tokens, values: map.values, colormap: colormap, normalization: normalization, title: title).render()
        }
        let overlay = Overlay(colormap: colormap, blend: .constant(alpha: alpha))
        if let canvas {
            let r = try overlay.render(map, on: canvas.shrunkToFit(reservingWidth: Self.barRoom), normalization: normalization,
                                       upsampling: upsampling)
            return try ColorBar(colormap: colormap, low: r.low, high: r.high, title: title).fitted(to: r.image)
        }
        let rows = map.shape.count == 2 ? map.shape[0] : 1
        let cols = map.shape.last ?? 1
        let cell = max(1, min(max(4, min(24, 480 / max(rows, cols))), (CanvasLimit.maxSide - Self.barRoom) / max(rows, cols)))
        try RenderError.requireFinite(map.values, what: "map \(map.shape)")
        let norm = try normalization.apply(map.reshaped([rows, cols]))
        let big = try Upsampling.nearest.apply(norm.values, height: rows * cell, width: cols * cell)
        let image = try colormap.image(big)
        return try ColorBar(colormap: colormap, low: norm.low, high: norm.high, title: title).fitted(to: image)
    }

    /// A 0/1 mask `[rows, cols]` over `canvas` (DINO masks: kept patches tinted, others dimmed).
    public func maskPicture(_ mask: Tensor, canvas: RGBImage?) throws -> RGBImage {
        if let canvas {
            let overlay = Overlay(colormap: colormap, blend: .proportional(alpha: 0.6))
            return try overlay.render(mask, on: canvas.shrunkToFit(reservingWidth: 0), normalization: .fixed(low: 0, high: 1),
                                      upsampling: .nearest).image
        }
        return try picture(mask, canvas: nil, title: "mask")
    }
}

/// Which query row to read, as a user names it: the default (CLS, or token 0 without one), a pixel
/// of the model input, a patch, or a sequence index.
public enum QuerySpec: Sendable, Equatable {
    case automatic
    /// The patch under pixel (x, y) of the model input (after resize and crop).
    case pixel(x: Int, y: Int)
    case patch(row: Int, column: Int)
    case token(Int)

    /// The query in `layout`; `input` names the input in errors. ``automatic`` is CLS for layouts
    /// with a CLS token or an attention pooling probe (which CLS then names), else token 0.
    /// - Throws: ``InputError`` for a pixel outside the patches; `SessionError`-style messages for a
    ///   pixel query on text.
    public func resolve(in layout: TokenLayout, input: String) throws -> TokenQuery {
        switch self {
        case .automatic: return layout.clsIndex != nil || layout.poolingHeadLayer != nil ? .cls : .token(0)
        case .patch(let r, let c): return .patch(row: r, column: c)
        case .token(let k): return .token(k)
        case .pixel(let x, let y):
            guard let g = layout.grid else { throw InputError(file: input, problem: "--query x,y needs an image model; use --query-token for text") }
            let col = x / g.patchSize, row = y / g.patchSize
            guard x >= 0, y >= 0, row < g.rows, col < g.columns else {
                throw InputError(file: input, problem: "--query \(x),\(y) is outside the \(g.columns * g.patchSize)x\(g.rows * g.patchSize) pixels covered by patches (x, y)")
            }
            return .patch(row: row, column: col)
        }
    }
}
