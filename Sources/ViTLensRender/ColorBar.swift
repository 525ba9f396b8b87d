import ViTLensCore

/// A vertical colour bar with `low`, middle and `high` tick labels, appended to the right of an image.
///
/// The strip has the image's height. The bar runs from `high` (top row, the colormap's last entry)
/// to `low` (bottom row, its first entry), row `y` of an `n`-row bar showing
/// `colormap.color((n - 1 - y) / (n - 1))`, inside a 1-pixel frame. Ticks sit at the top row, the middle row
/// and the bottom row, labelled with ``NumberFormat/significant(_:digits:)`` (3 significant digits).
/// An optional title runs bottom to top along the right edge, like matplotlib's colour bar label.
///
/// All sizes are multiples of the font scale `s` (``fontScale(forHeight:)``): 6s gap, 10s bar,
/// 3s ticks, labels in the 5x7 ``BitmapFont``, 6s margins above and below the bar.
public struct ColorBar: Sendable, Equatable {
    /// The colormap drawn in the bar.
    public var colormap: Colormap
    /// The value at the bottom of the bar.
    public var low: Float
    /// The value at the top of the bar.
    public var high: Float
    /// Optional label drawn vertically to the right of the tick labels.
    public var title: String?
    /// Font scale; `nil` picks one from the image height.
    public var scale: Int?
    /// Strip background.
    public var background: RGBColor
    /// Frame, tick and text colour.
    public var foreground: RGBColor

    /// A colour bar for the range `low...high`.
    public init(
        colormap: Colormap = .default, low: Float, high: Float, title: String? = nil, scale: Int? = nil,
        background: RGBColor = .white, foreground: RGBColor = .black
    ) {
        self.colormap = colormap
        self.low = low
        self.high = high
        self.title = title
        self.scale = scale
        self.background = background
        self.foreground = foreground
    }

    /// A colour bar labelled with the range a ``MapNormalization`` reported.
    public init(colormap: Colormap = .default, range map: NormalizedMap, title: String? = nil) {
        self.init(colormap: colormap, low: map.low, high: map.high, title: title)
    }

    /// The font scale used for an image `height` pixels tall: ``scale`` if set, else
    /// `max(1, (height + 120) / 240)` (1 up to 359 px, 2 up to 599 px, ...).
    public func fontScale(forHeight height: Int) -> Int {
        scale.map { Swift.max($0, 1) } ?? Swift.max(1, (height + 120) / 240)
    }

    /// Tick labels from top to bottom: `high`, the midpoint, `low`.
    public var tickLabels: [String] {
        let mid = (Double(low) + Double(high)) / 2
        return [Double(high), mid, Double(low)].map { NumberFormat.significant($0, digits: 3) }
    }

    /// Where things go in a strip for an image `height` pixels tall (x measured from the strip's left edge).
    public struct Layout: Sendable, Equatable {
        /// Font scale.
        public var scale: Int
        /// Left edge of the bar's colours (the frame is one pixel outside).
        public var barX: Int
        /// Top row of the bar's colours.
        public var barY: Int
        /// Width of the bar's colours.
        public var barWidth: Int
        /// Height of the bar's colours.
        public var barHeight: Int
        /// Left edge of the tick labels.
        public var labelX: Int
        /// Left edge of the vertical title, if any.
        public var titleX: Int?
        /// Total strip width.
        public var width: Int
    }

    /// The strip layout for an image `height` pixels tall.
    /// - Throws: ``RenderError/invalidParameter(name:value:reason:)`` when the height leaves no room for a bar.
    public func layout(forHeight height: Int) throws -> Layout {
        let s = fontScale(forHeight: height)
        let barHeight = height - 12 * s
        guard barHeight >= 2 else {
            throw RenderError.invalidParameter(name: "colour bar height", value: "\(height)", reason: "needs at least \(12 * s + 2) pixels at font scale \(s)")
        }
        let barX = 6 * s + 1
        let barWidth = 10 * s
        let labelX = barX + barWidth + 1 + 3 * s + 2 * s
        let labelWidth = tickLabels.map { BitmapFont.width(of: $0, scale: s) }.max() ?? 0
        var width = labelX + labelWidth + 4 * s
        var titleX: Int? = nil
        if let title, !title.isEmpty {
            titleX = width
            width += BitmapFont.glyphHeight * s + 4 * s
        }
        return Layout(scale: s, barX: barX, barY: 6 * s, barWidth: barWidth, barHeight: barHeight, labelX: labelX, titleX: titleX, width: width)
    }

    /// The strip alone, `layout(forHeight: height).width` x `height`.
    /// - Throws: as ``layout(forHeight:)``.
    public func strip(height: Int) throws -> RGBImage {
        let l = try layout(forHeight: height)
        try CanvasLimit.check(width: l.width, height: height, what: "colour bar")
        let s = l.scale
        var img = RGBImage(width: l.width, height: height, color: background)
        img.fill(x: l.barX - 1, y: l.barY - 1, width: l.barWidth + 2, height: l.barHeight + 2, color: foreground)
        for y in 0 ..< l.barHeight {
            let t = Float(l.barHeight - 1 - y) / Float(l.barHeight - 1)
            img.fill(x: l.barX, y: l.barY + y, width: l.barWidth, height: 1, color: colormap.color(t))
        }
        let tickRows = [l.barY, l.barY + (l.barHeight - 1) / 2, l.barY + l.barHeight - 1]
        let capHalf = BitmapFont.capHeight * s / 2
        for (row, label) in zip(tickRows, tickLabels) {
            img.fill(x: l.barX + l.barWidth + 1, y: row - (s - 1) / 2, width: 3 * s, height: s, color: foreground)
            img.drawText(label, x: l.labelX, y: row - capHalf, scale: s, color: foreground)
        }
        if let titleX = l.titleX, let title {
            let length = BitmapFont.width(of: title, scale: s)
            img.drawText(title, x: titleX, y: Swift.max((height - length) / 2, 0), scale: s, color: foreground, vertical: true)
        }
        return img
    }

    /// `image` with the colour-bar strip appended on its right.
    /// - Throws: as ``layout(forHeight:)`` (an image too short for a bar is an error; see
    ///   ``fitted(to:)``), or ``RenderError/canvasTooLarge(what:width:height:limit:)``.
    public func appended(to image: RGBImage) throws -> RGBImage {
        let l = try layout(forHeight: image.height)
        try CanvasLimit.check(width: image.width + l.width, height: image.height, what: "picture with colour bar")
        let bar = try strip(height: image.height)
        var out = RGBImage(width: image.width + bar.width, height: image.height, color: background)
        out.paste(image, x: 0, y: 0)
        out.paste(bar, x: image.width, y: 0)
        return out
    }

    /// The shortest strip whose three tick labels do not overlap at font scale `s`:
    /// `(12 + 2 * (capHeight + 3)) * s`, 32 px at scale 1.
    public static func legibleHeight(scale s: Int) -> Int { (12 + 2 * (BitmapFont.capHeight + 3)) * Swift.max(s, 1) }

    /// `image` with the strip appended, for an image of any height: one shorter than
    /// ``legibleHeight(scale:)`` is first centred vertically on a band of ``background`` that tall
    /// (e.g. a one-row token map), so the bar and its labels stay readable.
    /// - Throws: ``RenderError/canvasTooLarge(what:width:height:limit:)`` when the result would
    ///   exceed ``CanvasLimit``.
    public func fitted(to image: RGBImage) throws -> RGBImage {
        let s = fontScale(forHeight: Swift.max(image.height, Self.legibleHeight(scale: 1)))
        let height = Swift.max(image.height, Self.legibleHeight(scale: s))
        guard height > image.height else { return try appended(to: image) }
        try CanvasLimit.check(width: image.width, height: height, what: "picture with colour bar")
        var padded = RGBImage(width: image.width, height: height, color: background)
        padded.paste(image, x: 0, y: (height - image.height) / 2)
        return try appended(to: padded)
    }
}
