import ViTLensCore

/// A `[layers, heads]` table of values drawn as coloured cells (layers down, heads across), with the
/// value range written beside a colour bar; SVG text (``svg()``) or pixels (``render()``).
///
/// Colours: ``colormap`` over `[low, high]`, the data's minimum and maximum (a constant table is
/// drawn in the middle colour). NaN cells are grey. Deterministic: same table, same bytes.
public struct LayerHeadHeatmap: Sendable, Equatable {
    public var title: String
    /// `[layers, heads]` values.
    public var values: Tensor
    public var colormap: Colormap
    /// Cell side in pixels.
    public var cell: Int

    /// - Throws: ``RenderError`` when `values` is not a non-empty rank-2 tensor.
    public init(title: String, values: Tensor, colormap: Colormap = .default, cell: Int = 22) throws {
        _ = try values.gridSize("layer x head values")
        self.title = title
        self.values = values
        self.colormap = colormap
        self.cell = Swift.max(4, Swift.min(cell, 64))
    }

    private var layers: Int { values.shape[0] }
    private var heads: Int { values.shape[1] }
    private static let left = 64, top = 34, right = 120, bottom = 40
    private var width: Int { Self.left + heads * cell + Self.right }
    private var height: Int { Self.top + Swift.max(layers * cell, 80) + Self.bottom }

    private var range: (low: Float, high: Float) {
        let finite = values.values.filter(\.isFinite)
        return (finite.min() ?? 0, finite.max() ?? 0)
    }

    private func color(_ v: Float) -> RGBColor {
        guard v.isFinite else { return RGBColor(160, 160, 160) }
        let (lo, hi) = range
        return colormap.color(hi > lo ? (v - lo) / (hi - lo) : 0.5)
    }

    private func label(_ v: Float) -> String { NumberFormat.significant(Double(v), digits: 3) }

    /// The picture as standalone SVG 1.1.
    public func svg() -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\" text-anchor=\"middle\">\(XMLText.escape(title))</text>\n"
        for l in 0 ..< layers {
            let y = Self.top + l * cell
            s += "<text x=\"\(Self.left - 6)\" y=\"\(y + cell / 2 + 4)\" font-family=\"sans-serif\" font-size=\"10\" text-anchor=\"end\">\(l)</text>\n"
            for h in 0 ..< heads {
                let v = values.values[l * heads + h]
                s += "<rect x=\"\(Self.left + h * cell)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(color(v).hexString)\"><title>layer \(l) head \(h): \(label(v))</title></rect>\n"
            }
        }
        let base = Self.top + layers * cell
        for h in 0 ..< heads {
            s += "<text x=\"\(Self.left + h * cell + cell / 2)\" y=\"\(base + 14)\" font-family=\"sans-serif\" font-size=\"10\" text-anchor=\"middle\">\(h)</text>\n"
        }
        s += "<text x=\"\(Self.left + heads * cell / 2)\" y=\"\(base + 32)\" font-family=\"sans-serif\" font-size=\"12\" text-anchor=\"middle\">head</text>\n"
        s += "<text x=\"14\" y=\"\(Self.top + layers * cell / 2)\" font-family=\"sans-serif\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(Self.top + layers * cell / 2))\">layer</text>\n"
        let barX = Self.left + heads * cell + 16, barH = Swift.max(layers * cell, 80)
        for k in 0 ..< 64 {
            let y = Self.top + barH * k / 64, next = Self.top + barH * (k + 1) / 64
            s += "<rect x=\"\(barX)\" y=\"\(y)\" width=\"14\" height=\"\(next - y)\" fill=\"\(colormap.color(Float(63 - k) / 63).hexString)\"/>\n"
        }
        let (lo, hi) = range
        s += "<text x=\"\(barX + 20)\" y=\"\(Self.top + 10)\" font-family=\"sans-serif\" font-size=\"10\">\(label(hi))</text>\n"
        s += "<text x=\"\(barX + 20)\" y=\"\(Self.top + barH)\" font-family=\"sans-serif\" font-size=\"10\">\(label(lo))</text>\n"
        return s + "</svg>\n"
    }

    /// The picture as pixels (the same layout, bitmap font).
    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: height)
        image.fill(x: 0, y: 0, width: width, height: height, color: .white)
        image.drawText(title, x: Swift.max(4, (width - BitmapFont.width(of: title)) / 2), y: 10, color: .black)
        for l in 0 ..< layers {
            let y = Self.top + l * cell
            image.drawText("\(l)", x: Self.left - 6 - BitmapFont.width(of: "\(l)"), y: y + cell / 2 - 4, color: .black)
            for h in 0 ..< heads { image.fill(x: Self.left + h * cell, y: y, width: cell, height: cell, color: color(values.values[l * heads + h])) }
        }
        let base = Self.top + layers * cell
        for h in 0 ..< heads { image.drawText("\(h)", x: Self.left + h * cell + (cell - BitmapFont.width(of: "\(h)")) / 2, y: base + 6, color: .black) }
        image.drawText("head", x: Self.left + (heads * cell - BitmapFont.width(of: "head")) / 2, y: base + 22, color: .black)
        image.drawText("layer", x: 8, y: Self.top + (layers * cell - BitmapFont.width(of: "layer")) / 2, color: .black, vertical: true)
        let barX = Self.left + heads * cell + 16, barH = Swift.max(layers * cell, 80)
        for k in 0 ..< barH { image.fill(x: barX, y: Self.top + k, width: 14, height: 1, color: colormap.color(Float(barH - 1 - k) / Float(Swift.max(barH - 1, 1)))) }
        let (lo, hi) = range
        image.drawText(label(hi), x: barX + 20, y: Self.top, color: .black)
        image.drawText(label(lo), x: barX + 20, y: Self.top + barH - 9, color: .black)
        return image
    }
}
