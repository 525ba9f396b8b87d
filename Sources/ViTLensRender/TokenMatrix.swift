import ViTLensCore

/// A token-to-token attention matrix drawn with its tokens as labels: rows are queries (labels on
/// the left), columns are keys (labels on top, reading bottom to top), one square cell per pair.
///
/// Values are normalised with ``normalization`` and coloured with ``colormap``; ``render()``
/// appends a ``ColorBar`` (font scale 1, like the labels) that shows the raw range, so cells stay
/// comparable to the numbers.
///
/// Any sequence length fits: the cell side is ``cell`` or less, so that the picture with its
/// colour bar stays within ``maxSide`` (at most ``CanvasLimit/maxSide``); when cells are shorter
/// than a text line (10 px), only every `k`-th token is labelled (``labelStep``), `k` the smallest
/// step that keeps labels apart. At 512 tokens and the default limit a cell is 14 px.
public struct TokenMatrix: Sendable {
    /// Token strings, one per row and column.
    public var tokens: [String]
    /// `[T, T]` values (row = query, column = key).
    public var matrix: Tensor
    public var colormap: Colormap
    public var normalization: MapNormalization
    /// Preferred (largest) side of one cell in pixels.
    public var cell: Int
    /// Colour-bar title.
    public var title: String?
    /// Longest label drawn; longer tokens are cut with a trailing `~`.
    public var maxLabelCharacters = 14
    /// Largest width or height of the rendered picture; values above ``CanvasLimit/maxSide`` act
    /// as that limit.
    public var maxSide = CanvasLimit.maxSide

    public init(tokens: [String], matrix: Tensor, colormap: Colormap = .default, normalization: MapNormalization = .max,
                cell: Int = 14, title: String? = nil) {
        self.tokens = tokens
        self.matrix = matrix
        self.colormap = colormap
        self.normalization = normalization
        self.cell = cell
        self.title = title
    }

    /// Pixel origin of the cell grid (after the label margins).
    public var gridOrigin: (x: Int, y: Int) {
        let margin = labels.map { BitmapFont.width(of: $0) }.max().map { $0 + 6 } ?? 0
        return (margin, margin)
    }

    var labels: [String] {
        tokens.map { $0.count > maxLabelCharacters ? String($0.prefix(maxLabelCharacters - 1)) + "~" : $0 }
    }

    /// Width of the colour-bar strip (font scale 1; it does not depend on the picture's height).
    var colorBarWidth: Int {
        let bar = ColorBar(colormap: colormap, low: 0, high: 1, title: title, scale: 1)
        // Tick labels have at most 3 significant digits plus sign, point and exponent: measure a wide one.
        let labelWidth = BitmapFont.width(of: "-0.000123")
        let base = (try? bar.layout(forHeight: ColorBar.legibleHeight(scale: 1)).width) ?? 0
        return base + labelWidth
    }

    /// The cell side ``render()`` uses: ``cell``, or less so that the picture fits ``maxSide``;
    /// 0 when even 1-pixel cells do not fit.
    public var fittedCell: Int {
        let t = Swift.max(tokens.count, 1)
        let side = Swift.min(maxSide, CanvasLimit.maxSide)
        let (ox, oy) = gridOrigin
        let byWidth = (side - ox - 2 - colorBarWidth) / t
        let byHeight = (side - oy - 2) / t
        return Swift.max(0, Swift.min(cell, byWidth, byHeight))
    }

    /// Every how many tokens a label is drawn: 1 when a cell is at least a text line (10 px) tall.
    public var labelStep: Int {
        let c = Swift.max(fittedCell, 1)
        return (BitmapFont.glyphHeight + 1 + c - 1) / c
    }

    /// Draws the labelled matrix with a colour bar.
    /// - Throws: ``RenderError`` when the matrix is not `[T, T]` with `T == tokens.count`, holds
    ///   NaN or an infinity, or is too long for ``maxSide`` even at 1 pixel per cell.
    public func render() throws -> RGBImage {
        let t = tokens.count
        guard matrix.shape == [t, t], t > 0 else {
            throw RenderError.badShape(what: "token matrix", expected: "[\(t), \(t)] (one row and column per token)", found: matrix.shape)
        }
        try RenderError.requireFinite(matrix.values, what: "token matrix")
        let (ox, oy) = gridOrigin
        let c = fittedCell
        guard c >= 1 else {
            throw RenderError.canvasTooLarge(what: "token matrix of \(t) tokens", width: ox + t + 2 + colorBarWidth,
                                             height: oy + t + 2, limit: "\(Swift.min(maxSide, CanvasLimit.maxSide)) px per side")
        }
        let norm = try normalization.apply(matrix)
        let width = ox + t * c + 2, height = oy + t * c + 2
        try CanvasLimit.check(width: width, height: height, what: "token matrix")
        var image = RGBImage(width: width, height: height, color: .white)
        let colors = norm.values.values.map { colormap.color($0) }
        image.pixels.withUnsafeMutableBufferPointer { px in
            // One pixel row of matrix row r, written once, then copied to the cell's other rows.
            for r in 0 ..< t {
                let top = ((oy + r * c) * width + ox) * 3
                for col in 0 ..< t {
                    let color = colors[r * t + col]
                    for x in 0 ..< c {
                        let o = top + (col * c + x) * 3
                        px[o] = color.red
                        px[o + 1] = color.green
                        px[o + 2] = color.blue
                    }
                }
                guard let base = px.baseAddress else { continue }
                for y in 1 ..< c { (base + top + y * width * 3).update(from: base + top, count: t * c * 3) }
            }
        }
        let text = RGBColor.black
        let offset = (c - BitmapFont.glyphHeight) / 2
        let step = labelStep
        for (i, label) in labels.enumerated() where i % step == 0 {
            image.drawText(label, x: ox - 4 - BitmapFont.width(of: label), y: oy + i * c + offset, color: text)
            image.drawText(label, x: ox + i * c + offset, y: oy - 4 - BitmapFont.width(of: label), color: text, vertical: true)
        }
        return try ColorBar(colormap: colormap, low: norm.low, high: norm.high, title: title, scale: 1).fitted(to: image)
    }
}
