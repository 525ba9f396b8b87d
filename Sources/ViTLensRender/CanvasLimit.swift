import ViTLensCore

/// The largest picture ViTLens draws: at most ``maxSide`` pixels per side and ``maxPixels`` pixels
/// in all (8192 x 8192, 64 Mpx, 192 MiB of RGB).
///
/// Renderers scale their content down to stay inside (smaller cells and labels in ``TokenMatrix``
/// and ``TokenStrip``, label subsampling, box-downsampled tiles in ``Mosaic``); a request that
/// still does not fit is ``RenderError/canvasTooLarge(what:width:height:limit:)`` before any
/// allocation, never an attempt to allocate it.
public enum CanvasLimit {
    /// Largest width or height in pixels.
    public static let maxSide = 8192
    /// Largest `width * height`.
    public static let maxPixels = 1 << 26

    /// The limit as text for messages.
    public static var summary: String { "\(maxSide) px per side, \(maxPixels) px in all" }

    /// Whether a `width x height` picture is allowed (positive sides inside both limits).
    public static func allows(width: Int, height: Int) -> Bool {
        guard width > 0, height > 0, width <= maxSide, height <= maxSide else { return false }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return !overflow && pixels <= maxPixels
    }

    /// Throws unless a `width x height` picture is allowed.
    /// - Throws: ``RenderError/canvasTooLarge(what:width:height:limit:)`` naming `what`.
    public static func check(width: Int, height: Int, what: String) throws {
        guard allows(width: width, height: height) else {
            throw RenderError.canvasTooLarge(what: what, width: width, height: height, limit: summary)
        }
    }
}

extension RGBImage {
    /// The image shrunk by an integer `factor`, each output pixel the rounded mean of a
    /// `factor x factor` block (partial blocks at the right and bottom edges average what they hold).
    /// `factor <= 1` returns the image unchanged.
    public func downsampled(by factor: Int) -> RGBImage {
        guard factor > 1, width > 0, height > 0 else { return self }
        let w = (width + factor - 1) / factor, h = (height + factor - 1) / factor
        var out = [UInt8](repeating: 0, count: w * h * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< h {
                    let y0 = y * factor, y1 = Swift.min(y0 + factor, height)
                    for x in 0 ..< w {
                        let x0 = x * factor, x1 = Swift.min(x0 + factor, width)
                        var sum = (0, 0, 0)
                        for yy in y0 ..< y1 {
                            for xx in x0 ..< x1 {
                                let o = (yy * width + xx) * 3
                                sum.0 += Int(src[o]); sum.1 += Int(src[o + 1]); sum.2 += Int(src[o + 2])
                            }
                        }
                        let n = (y1 - y0) * (x1 - x0)
                        let o = (y * w + x) * 3
                        dst[o] = UInt8((sum.0 + n / 2) / n)
                        dst[o + 1] = UInt8((sum.1 + n / 2) / n)
                        dst[o + 2] = UInt8((sum.2 + n / 2) / n)
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// The image box-downsampled (``downsampled(by:)``) by the smallest integer factor that leaves
    /// room for `reservingWidth` more columns (e.g. a colour bar) inside ``CanvasLimit``; the
    /// image itself when it already fits.
    public func shrunkToFit(reservingWidth: Int = 0) -> RGBImage {
        downsampled(by: Self.fitFactor(width: width, height: height, extraWidth: reservingWidth))
    }

    /// The smallest integer factor that brings a `width x height` picture plus `extraWidth` columns
    /// inside ``CanvasLimit`` (1 when it already fits).
    static func fitFactor(width: Int, height: Int, extraWidth: Int = 0) -> Int {
        var f = 1
        while f < Swift.max(width, height),
              !CanvasLimit.allows(width: (width + f - 1) / f + extraWidth, height: (height + f - 1) / f) {
            f += 1
        }
        return f
    }
}
