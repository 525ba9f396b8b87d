import ViTLensCore

/// One value per token, drawn as a list: each row holds the token, a colour swatch and the value
/// (3 significant digits), with a ``ColorBar`` at the right. This is how a text model's rollout,
/// attention flow or query row is shown.
///
/// Rows are one text line (11 px) tall. Long sequences wrap into columns of at least 40 rows,
/// about as many columns as rows are needed for a squarish picture (512 tokens: 6 columns of
/// 86 rows); the picture always stays within ``maxSide`` (at most ``CanvasLimit/maxSide``).
public struct TokenStrip: Sendable {
    /// Token strings.
    public var tokens: [String]
    /// One value per token.
    public var values: [Float]
    /// Colours of the swatches and the bar.
    public var colormap: Colormap
    /// How values become `[0, 1]` for the swatches (the printed numbers are raw).
    public var normalization: MapNormalization
    /// Colour-bar title.
    public var title: String?
    /// Longest label drawn; longer tokens are cut with a trailing `~`.
    public var maxLabelCharacters = 14
    /// Largest width or height of the picture; values above ``CanvasLimit/maxSide`` act as that limit.
    public var maxSide = CanvasLimit.maxSide

    /// Pixels per row (one text line).
    static let rowHeight = BitmapFont.lineHeight
    /// Swatch width.
    static let swatchWidth = 30
    /// Margin around the list.
    static let margin = 6

    /// A list of `tokens` with one value each.
    public init(tokens: [String], values: [Float], colormap: Colormap = .default, normalization: MapNormalization = .max,
                title: String? = nil) {
        self.tokens = tokens
        self.values = values
        self.colormap = colormap
        self.normalization = normalization
        self.title = title
    }

    var labels: [String] {
        tokens.map { $0.count > maxLabelCharacters ? String($0.prefix(maxLabelCharacters - 1)) + "~" : $0 }
    }

    /// Rows per column and number of columns for the current tokens and limit.
    public var grid: (rows: Int, columns: Int) {
        let t = Swift.max(tokens.count, 1)
        let side = Swift.min(maxSide, CanvasLimit.maxSide)
        let maxRows = Swift.max(1, (side - 2 * Self.margin) / Self.rowHeight)
        let columnWidth = Double(columnWidth(labelWidth: labels.map { BitmapFont.width(of: $0) }.max() ?? 0))
        let square = Int((Double(t) * columnWidth / Double(Self.rowHeight)).squareRoot().rounded(.up))
        let rows = Swift.min(maxRows, Swift.max(40, square))
        return (rows, (t + rows - 1) / rows)
    }

    /// Label, gap, swatch, gap, value ("-0.000123" is the widest), gap between columns.
    func columnWidth(labelWidth: Int) -> Int {
        labelWidth + 4 + Self.swatchWidth + 4 + BitmapFont.width(of: "-0.000123") + 12
    }

    /// Draws the list with its colour bar.
    /// - Throws: ``RenderError`` when `values` and `tokens` differ in count or are empty, a value
    ///   is NaN or infinite, or the list does not fit ``maxSide``.
    public func render() throws -> RGBImage {
        let t = tokens.count
        guard t > 0, values.count == t else {
            throw RenderError.sizeMismatch(what: "token strip", expected: "\(t) values (one per token, at least one)", found: "\(values.count)")
        }
        try RenderError.requireFinite(values, what: "token values")
        let norm = try normalization.apply(Tensor(shape: [t], values: values))
        let labelWidth = labels.map { BitmapFont.width(of: $0) }.max() ?? 0
        let (rows, columns) = grid
        let column = columnWidth(labelWidth: labelWidth)
        let (w, overflow) = columns.multipliedReportingOverflow(by: column)
        let width = overflow ? Int.max : w + 2 * Self.margin
        let height = Swift.min(rows, t) * Self.rowHeight + 2 * Self.margin
        guard width <= Swift.min(maxSide, CanvasLimit.maxSide) else {
            throw RenderError.canvasTooLarge(what: "token strip of \(t) tokens", width: width, height: height,
                                             limit: "\(Swift.min(maxSide, CanvasLimit.maxSide)) px per side")
        }
        try CanvasLimit.check(width: width, height: height, what: "token strip")
        var image = RGBImage(width: width, height: height, color: .white)
        for (i, label) in labels.enumerated() {
            let x = Self.margin + (i / rows) * column
            let y = Self.margin + (i % rows) * Self.rowHeight
            image.drawText(label, x: x + labelWidth - BitmapFont.width(of: label), y: y, color: .black)
            let sx = x + labelWidth + 4
            image.fill(x: sx, y: y, width: Self.swatchWidth, height: BitmapFont.capHeight + 1, color: colormap.color(norm.values.values[i]))
            image.drawText(NumberFormat.significant(Double(values[i]), digits: 3), x: sx + Self.swatchWidth + 4, y: y, color: .black)
        }
        return try ColorBar(colormap: colormap, low: norm.low, high: norm.high, title: title, scale: 1).fitted(to: image)
    }
}
