import ViTLensCore

/// Drawing primitives on ``RGBImage`` used by the colour bar, mosaics and raster plots.
///
/// Coordinates are pixels with the origin at the top-left corner; pixel `(x, y)` covers the square
/// `[x, x + 1) x [y, y + 1)` and its centre is `(x + 0.5, y + 0.5)`. Everything clips to the image.
/// Anti-aliased shapes blend by coverage: `out = round_half_up((1 - c) * old + c * colour)`.
extension RGBImage {
    /// Fills the rectangle with top-left corner (`x`, `y`) and the given size, clipped to the image.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor) {
        let x0 = Swift.max(x, 0), x1 = Swift.min(x + w, width)
        let y0 = Swift.max(y, 0), y1 = Swift.min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        let imageWidth = width
        pixels.withUnsafeMutableBufferPointer { px in
            for row in y0 ..< y1 {
                for col in x0 ..< x1 {
                    let o = (row * imageWidth + col) * 3
                    px[o] = color.red
                    px[o + 1] = color.green
                    px[o + 2] = color.blue
                }
            }
        }
    }

    /// Copies `image` with its top-left corner at (`x`, `y`), clipped to this image.
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        for row in Swift.max(0, -y) ..< Swift.min(image.height, height - y) {
            let srcStart = row * image.width
            let colStart = Swift.max(0, -x), colEnd = Swift.min(image.width, width - x)
            guard colStart < colEnd else { return }
            let dst = ((y + row) * width + x + colStart) * 3
            let src = (srcStart + colStart) * 3
            let n = (colEnd - colStart) * 3
            pixels.replaceSubrange(dst ..< dst + n, with: image.pixels[src ..< src + n])
        }
    }

    /// Draws `text` in the built-in ``BitmapFont`` with the top of its glyph box at (`x`, `y`).
    ///
    /// The baseline is at `y + 7 * scale`; descenders reach `y + 9 * scale`. With `vertical` the
    /// text reads bottom to top (rotated 90 degrees counter-clockwise): (`x`, `y`) is then the top-left
    /// corner of its `9 * scale` wide, `BitmapFont.width(of: text, scale:)` tall box, glyph tops facing left.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor, vertical: Bool = false) {
        let s = Swift.max(scale, 1)
        let length = BitmapFont.width(of: text, scale: 1)
        for (k, ch) in text.unicodeScalars.enumerated() {
            for row in 0 ..< BitmapFont.glyphHeight {
                for col in 0 ..< BitmapFont.glyphWidth where BitmapFont.isSet(ch, column: col, row: row) {
                    let u = k * BitmapFont.advance + col
                    if vertical {
                        fill(x: x + row * s, y: y + (length - 1 - u) * s, width: s, height: s, color: color)
                    } else {
                        fill(x: x + u * s, y: y + row * s, width: s, height: s, color: color)
                    }
                }
            }
        }
    }

    /// Blends `color` into pixel (`x`, `y`) with coverage `c` in `[0, 1]`; out-of-image pixels are skipped.
    mutating func blend(x: Int, y: Int, color: RGBColor, coverage c: Double) {
        guard x >= 0, y >= 0, x < width, y < height, c > 0 else { return }
        let o = (y * width + x) * 3
        if c >= 1 {
            pixels[o] = color.red
            pixels[o + 1] = color.green
            pixels[o + 2] = color.blue
            return
        }
        let old = RGBColor(pixels[o], pixels[o + 1], pixels[o + 2])
        let new = old.mixed(with: color, c)
        pixels[o] = new.red
        pixels[o + 1] = new.green
        pixels[o + 2] = new.blue
    }

    /// A filled disc centred at (`cx`, `cy`) of radius `r`, anti-aliased: coverage = `clamp(r + 0.5 - d, 0, 1)`
    /// with `d` the distance from the pixel centre.
    public mutating func fillCircle(cx: Double, cy: Double, radius r: Double, color: RGBColor) {
        let x0 = Int((cx - r - 1).rounded(.down)), x1 = Int((cx + r + 1).rounded(.up))
        let y0 = Int((cy - r - 1).rounded(.down)), y1 = Int((cy + r + 1).rounded(.up))
        guard x1 >= 0, y1 >= 0, x0 < width, y0 < height, r > 0 else { return }
        for y in Swift.max(y0, 0) ... Swift.min(y1, height - 1) {
            for x in Swift.max(x0, 0) ... Swift.min(x1, width - 1) {
                let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                blend(x: x, y: y, color: color, coverage: Swift.min(Swift.max(r + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1))
            }
        }
    }

    /// An anti-aliased line segment of the given stroke width with round caps:
    /// coverage = `clamp(width / 2 + 0.5 - d, 0, 1)` with `d` the distance from the pixel centre to the segment.
    public mutating func drawLine(x0: Double, y0: Double, x1: Double, y1: Double, lineWidth: Double = 1, color: RGBColor) {
        let half = lineWidth / 2
        let minX = Int((Swift.min(x0, x1) - half - 1).rounded(.down)), maxX = Int((Swift.max(x0, x1) + half + 1).rounded(.up))
        let minY = Int((Swift.min(y0, y1) - half - 1).rounded(.down)), maxY = Int((Swift.max(y0, y1) + half + 1).rounded(.up))
        let dx = x1 - x0, dy = y1 - y0
        let length2 = dx * dx + dy * dy
        guard maxX >= 0, maxY >= 0, minX < width, minY < height else { return }
        for y in Swift.max(minY, 0) ... Swift.min(maxY, height - 1) {
            for x in Swift.max(minX, 0) ... Swift.min(maxX, width - 1) {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let t = length2 > 0 ? Swift.min(Swift.max(((px - x0) * dx + (py - y0) * dy) / length2, 0), 1) : 0
                let ex = px - (x0 + t * dx), ey = py - (y0 + t * dy)
                let d = (ex * ex + ey * ey).squareRoot()
                blend(x: x, y: y, color: color, coverage: Swift.min(Swift.max(half + 0.5 - d, 0), 1))
            }
        }
    }
}
