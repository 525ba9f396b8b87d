import ViTLensCore

/// A grid of captioned images (e.g. one attention overlay per head plus the mean) on a plain background.
///
/// Tiles fill rows left to right, top to bottom. Every cell is as large as the largest tile; smaller
/// tiles are centred in their cell. Captions are drawn centred under each tile in the ``BitmapFont``
/// (cut to the cell width with a trailing `..` when too long). With `spacing` `g`, `c` columns, `r`
/// rows, cells `w x h` and caption band `k` (0 when no tile has a caption), the mosaic is
/// `c * w + (c + 1) * g` wide and `t + r * (h + k) + (r + 1) * g` tall, `t` being the title band.
///
/// The mosaic always fits ``CanvasLimit``: when the tiles as given would make it larger, every tile
/// is box-downsampled by the smallest integer factor that fits (``Layout/downscale``; captions and
/// title are drawn afterwards, at the font scale of the smaller cells). Use
/// ``largestTileSide(count:spacing:captions:title:)`` to draw tiles small enough in the first place.
public struct Mosaic: Sendable, Equatable {
    /// One image and its caption.
    public struct Tile: Sendable, Equatable {
        /// The picture.
        public var image: RGBImage
        /// Text under the picture ("head 0", "mean"); may be empty.
        public var caption: String

        /// A captioned tile.
        public init(_ image: RGBImage, caption: String = "") {
            self.image = image
            self.caption = caption
        }
    }

    /// The tiles in reading order.
    public var tiles: [Tile]
    /// Columns; `nil` gives `ceil(sqrt(tiles.count))`.
    public var columns: Int?
    /// Pixels between cells and around the edge.
    public var spacing: Int
    /// Background colour.
    public var background: RGBColor
    /// Caption and title colour; `nil` picks black or white for contrast with the background.
    public var textColor: RGBColor?
    /// Optional title across the top.
    public var title: String?
    /// Font scale; `nil` gives `max(1, (cellHeight + 120) / 240)`.
    public var scale: Int?

    /// A mosaic of `tiles`.
    public init(
        tiles: [Tile], columns: Int? = nil, spacing: Int = 8, background: RGBColor = .white,
        textColor: RGBColor? = nil, title: String? = nil, scale: Int? = nil
    ) {
        self.tiles = tiles
        self.columns = columns
        self.spacing = spacing
        self.background = background
        self.textColor = textColor
        self.title = title
        self.scale = scale
    }

    /// Cell geometry and overall size.
    public struct Layout: Sendable, Equatable {
        /// Columns used.
        public var columns: Int
        /// Rows used.
        public var rows: Int
        /// Width of every cell (the widest tile).
        public var cellWidth: Int
        /// Height of every cell's image area (the tallest tile).
        public var cellHeight: Int
        /// Height of the caption band under each cell (0 without captions).
        public var captionHeight: Int
        /// Height of the title band (0 without a title).
        public var titleHeight: Int
        /// Font scale.
        public var scale: Int
        /// Mosaic width.
        public var width: Int
        /// Mosaic height.
        public var height: Int
        /// Spacing between cells.
        public var spacing: Int
        /// Factor every tile is shrunk by to fit ``CanvasLimit`` (1: drawn as given).
        public var downscale: Int = 1

        /// Top-left corner of cell `index`'s image area.
        public func cellOrigin(_ index: Int) -> (x: Int, y: Int) {
            let col = index % columns, row = index / columns
            return (spacing + col * (cellWidth + spacing), titleHeight + spacing + row * (cellHeight + captionHeight + spacing))
        }
    }

    /// The layout for the current tiles and options.
    /// - Throws: ``RenderError`` for no tiles, an empty tile, a non-positive column count or negative
    ///   spacing, or ``RenderError/canvasTooLarge(what:width:height:limit:)`` when even 1-pixel
    ///   tiles would not fit (e.g. millions of tiles).
    public func layout() throws -> Layout {
        guard !tiles.isEmpty else { throw RenderError.empty(what: "mosaic tiles") }
        for (i, t) in tiles.enumerated() where t.image.width == 0 || t.image.height == 0 {
            throw RenderError.empty(what: "mosaic tiles[\(i)] (\(t.image.width)x\(t.image.height))")
        }
        var columns = self.columns ?? 1
        if self.columns == nil { while columns * columns < tiles.count { columns += 1 } }
        guard columns > 0 else { throw RenderError.invalidParameter(name: "mosaic columns", value: "\(columns)", reason: "must be positive") }
        guard spacing >= 0 else { throw RenderError.invalidParameter(name: "mosaic spacing", value: "\(spacing)", reason: "must not be negative") }
        columns = Swift.min(columns, tiles.count)
        let rows = (tiles.count + columns - 1) / columns
        let widest = tiles.map(\.image.width).max() ?? 0
        let tallest = tiles.map(\.image.height).max() ?? 0
        var factor = 1
        while true {
            // Cells of tiles shrunk by `factor` (a tile w px wide becomes ceil(w / factor)).
            let l = geometry(columns: columns, rows: rows, cellWidth: (widest + factor - 1) / factor,
                             cellHeight: (tallest + factor - 1) / factor, downscale: factor)
            if CanvasLimit.allows(width: l.width, height: l.height) { return l }
            guard factor < Swift.max(widest, tallest) else {
                throw RenderError.canvasTooLarge(what: "mosaic of \(tiles.count) tiles", width: l.width, height: l.height, limit: CanvasLimit.summary)
            }
            factor += 1
        }
    }

    /// The layout for given cells, with overflow-checked sizes (`Int.max` when they overflow).
    private func geometry(columns: Int, rows: Int, cellWidth: Int, cellHeight: Int, downscale: Int) -> Layout {
        let s = scale.map { Swift.max($0, 1) } ?? Swift.max(1, (cellHeight + 120) / 240)
        let captionHeight = tiles.contains { !$0.caption.isEmpty } ? (3 + BitmapFont.glyphHeight) * s : 0
        let titleHeight = (title?.isEmpty ?? true) ? 0 : spacing + (BitmapFont.glyphHeight + 2) * s
        func sum(_ count: Int, _ each: Int, _ extra: Int) -> Int {
            let (p, o1) = count.multipliedReportingOverflow(by: each)
            let (q, o2) = p.addingReportingOverflow(extra)
            return o1 || o2 ? Int.max : q
        }
        let width = sum(columns, cellWidth, sum(columns + 1, spacing, 0))
        let height = sum(rows, cellHeight + captionHeight, sum(rows + 1, spacing, titleHeight))
        return Layout(
            columns: columns, rows: rows, cellWidth: cellWidth, cellHeight: cellHeight, captionHeight: captionHeight,
            titleHeight: titleHeight, scale: s, width: width, height: height, spacing: spacing, downscale: downscale)
    }

    /// The largest square tile side for which `count` tiles (auto columns) fit ``CanvasLimit``
    /// without downscaling, with `spacing` and with or without captions and a title (automatic
    /// font scale). Renderers of labelled tiles (``TokenMatrix``) use it to pick a cell size instead
    /// of having their text blurred by ``Layout/downscale``.
    public static func largestTileSide(count: Int, spacing: Int = 8, captions: Bool = true, title: Bool = true) -> Int {
        guard count > 0 else { return CanvasLimit.maxSide }
        // Only whether tiles have captions and the mosaic a title matters to the geometry.
        let m = Mosaic(tiles: [Tile(RGBImage(width: 1, height: 1), caption: captions ? "x" : "")], spacing: spacing,
                       title: title ? "x" : nil)
        var columns = 1
        while columns * columns < count { columns += 1 }
        let rows = (count + columns - 1) / columns
        func fits(_ side: Int) -> Bool {
            let l = m.geometry(columns: columns, rows: rows, cellWidth: side, cellHeight: side, downscale: 1)
            return CanvasLimit.allows(width: l.width, height: l.height)
        }
        var lo = 0, hi = CanvasLimit.maxSide
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Draws the mosaic.
    /// - Throws: as ``layout()``.
    public func render() throws -> RGBImage {
        let l = try layout()
        let s = l.scale
        let ink = textColor ?? background.contrastingText
        var out = RGBImage(width: l.width, height: l.height, color: background)
        if let title, !title.isEmpty {
            let text = Self.fit(title, width: l.width - 2 * spacing, scale: s)
            out.drawText(text, x: (l.width - BitmapFont.width(of: text, scale: s)) / 2, y: spacing, scale: s, color: ink)
        }
        for (i, tile) in tiles.enumerated() {
            let (x, y) = l.cellOrigin(i)
            let image = tile.image.downsampled(by: l.downscale)
            out.paste(image, x: x + (l.cellWidth - image.width) / 2, y: y + (l.cellHeight - image.height) / 2)
            guard !tile.caption.isEmpty else { continue }
            let text = Self.fit(tile.caption, width: l.cellWidth, scale: s)
            out.drawText(text, x: x + (l.cellWidth - BitmapFont.width(of: text, scale: s)) / 2, y: y + l.cellHeight + 3 * s, scale: s, color: ink)
        }
        return out
    }

    /// `text`, cut with a trailing `..` so that it is at most `width` pixels wide at `scale`.
    static func fit(_ text: String, width: Int, scale: Int) -> String {
        guard BitmapFont.width(of: text, scale: scale) > width else { return text }
        var scalars = Array(text.unicodeScalars)
        while !scalars.isEmpty {
            scalars.removeLast()
            var s = String(String.UnicodeScalarView(scalars))
            s += ".."
            if BitmapFont.width(of: s, scale: scale) <= width { return s }
        }
        return ""
    }
}
