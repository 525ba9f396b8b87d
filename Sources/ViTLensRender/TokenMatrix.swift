import ViTLensCore

/// A token-to-token attention matrix drawn with its tokens as labels: rows are queries (labels on
/// the left), columns are keys (labels on top, reading bottom to top), one square cell per pair.
///
/// Values are normalised with ``normalization`` and coloured with ``colormap``; ``render()``
/// appends a ``ColorBar`` that shows the raw range, so cells stay comparable to the numbers.
public struct TokenMatrix: Sendable {
    /// Token strings, one per row and column.
    public var tokens: [String]
    /// `[T, T]` values (row = query, column = key).
    public var matrix: Tensor
    public var colormap: Colormap
    public var normalization: MapNormalization
    /// Side of one cell in pixels.
    public var cell: Int
    /// Colour-bar title.
    public var title: String?
    /// Longest label drawn; longer tokens are cut with a trailing `~`.
    public var maxLabelCharacters = 14

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

    /// Draws the labelled matrix with a colour bar.
    /// - Throws: ``RenderError`` when the matrix is not `[T, T]` with `T == tokens.count`, or holds
    ///   NaN or an infinity.
    public func render() throws -> RGBImage {
        let t = tokens.count
        guard matrix.shape == [t, t], t > 0 else {
            throw RenderError.badShape(what: "token matrix", expected: "[\(t), \(t)] (one row and column per token)", found: matrix.shape)
        }
        try RenderError.requireFinite(matrix.values, what: "token matrix")
        let norm = try normalization.apply(matrix)
        let (ox, oy) = gridOrigin
        var image = RGBImage(width: ox + t * cell + 2, height: oy + t * cell + 2, color: .white)
        for r in 0 ..< t {
            for c in 0 ..< t {
                image.fill(x: ox + c * cell, y: oy + r * cell, width: cell, height: cell, color: colormap.color(norm.values.values[r * t + c]))
            }
        }
        let text = RGBColor.black
        let pad = max(0, (cell - 9) / 2)
        for (i, label) in labels.enumerated() {
            image.drawText(label, x: ox - 4 - BitmapFont.width(of: label), y: oy + i * cell + pad, color: text)
            image.drawText(label, x: ox + i * cell + pad, y: oy - 4 - BitmapFont.width(of: label), color: text, vertical: true)
        }
        return try ColorBar(colormap: colormap, low: norm.low, high: norm.high, title: title).appended(to: image)
    }
}
