import Foundation
import ViTLensCore

/// Pillow's `Image.resize((width, height), resample)` for 8-bit RGB, reproduced bit for bit.
///
/// The facts (Pillow `src/libImaging/Resample.c`, `Geometry.c`, `_imaging.c`, re-implemented here):
/// - Same size in and out: a copy, whatever the filter.
/// - `nearest`: an affine scale. With `a = Double(Float(inSize)) / outSize`, the source of output
///   pixel `i` is `Int(x_i)` where `x_0 = a / 2` and `x_{i+1} = x_i + a` (accumulated in double, as
///   Pillow does); sources outside the image give black.
/// - Other filters: separable convolution in two passes; a pass is skipped when that dimension does
///   not change. Pillow 13 runs the vertical pass first when `inH - outH > 2 * (inW - outW)` (and
///   the height shrinks), else the horizontal pass first; the order changes the result because the
///   intermediate image is rounded to uint8. For each output index `o`, with
///   `scale = inSize / outSize`, `filterscale = max(scale, 1)` (antialiasing when shrinking),
///   `support = filter.support * filterscale`, `center = (o + 0.5) * scale`, the taps are the inputs
///   `[Int(center - support + 0.5), Int(center + support + 0.5))` clipped to the image, with weights
///   `w_i = filter((i - center + 0.5) / filterscale)` normalised to sum 1, then quantised to fixed
///   point with 22 fractional bits (`PRECISION_BITS`), rounding half away from zero.
/// - Each pass computes `(2^21 + Σ pixel·w) >> 22` in 32-bit integers and clips to `0...255`, so the
///   intermediate image is uint8. The first pass only computes the rows (or columns) the second reads.
public enum PillowResize {
    /// Resizes `image` to `width x height` with `filter`, exactly as Pillow 13 does for mode `"RGB"`.
    /// - Parameters:
    ///   - image: The source image; both dimensions must be at least 1.
    ///   - width: Output width, at least 1.
    ///   - height: Output height, at least 1.
    ///   - filter: The resampling filter.
    /// - Returns: The resized image (a copy when the size does not change).
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter) -> RGBImage {
        precondition(width > 0 && height > 0, "resize target \(width) x \(height) must be at least 1 x 1")
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty \(image.width) x \(image.height) image")
        if width == image.width && height == image.height { return image }
        if filter == .nearest { return nearest(image, width: width, height: height) }

        let vertical = Taps(inSize: image.height, outSize: height, filter: filter)
        if width == image.width {
            return verticalPass(image, taps: vertical, columns: 0 ..< image.width)
        }
        let horizontal = Taps(inSize: image.width, outSize: width, filter: filter)
        if height == image.height {
            return horizontalPass(image, taps: horizontal, rows: 0 ..< image.height, columnOffset: 0)
        }
        // Pillow 13's order rule (ImagingResampleInner): vertical first when the height loses more
        // than twice as many pixels as the width.
        let rowsRemoved = image.height - height
        if rowsRemoved > 0 && rowsRemoved > 2 * (image.width - width) {
            let columns = horizontal.start[0] ..< horizontal.start[width - 1] + horizontal.count[width - 1]
            let narrow = verticalPass(image, taps: vertical, columns: columns)
            return horizontalPass(narrow, taps: horizontal, rows: 0 ..< height, columnOffset: columns.lowerBound)
        }
        let rows = vertical.start[0] ..< vertical.start[height - 1] + vertical.count[height - 1]
        let short = horizontalPass(image, taps: horizontal, rows: rows, columnOffset: 0)
        return verticalPass(short, taps: vertical, rowOffset: rows.lowerBound, columns: 0 ..< width)
    }

    // MARK: - Coefficients

    /// Fractional bits of the fixed-point weights: `32 - 8 - 2`.
    static let precisionBits = 22

    /// One pass's taps: for output `o`, inputs `start[o] ..< start[o] + count[o]` with weights
    /// `weights[o * stride ..< o * stride + count[o]]` in fixed point.
    struct Taps {
        var start: [Int]
        var count: [Int]
        var weights: [Int32]
        var stride: Int

        init(inSize: Int, outSize: Int, filter: ResampleFilter) {
            // Pillow passes the box edges as float, hence Double(Float(inSize)).
            let scale = Double(Float(inSize)) / Double(outSize)
            let filterscale = max(scale, 1)
            let support = filter.support * filterscale
            let stride = Int(support.rounded(.up)) * 2 + 1
            let one = Double(1 << PillowResize.precisionBits)
            var start = [Int](repeating: 0, count: outSize)
            var count = [Int](repeating: 0, count: outSize)
            var weights = [Int32](repeating: 0, count: outSize * stride)
            var k = [Double](repeating: 0, count: stride)
            let ss = 1 / filterscale
            for o in 0 ..< outSize {
                let center = (Double(o) + 0.5) * scale
                let lo = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, like C
                let n = min(Int(center + support + 0.5), inSize) - lo
                var sum = 0.0
                for i in 0 ..< max(n, 0) {
                    let w = filter.weight((Double(i + lo) - center + 0.5) * ss)
                    k[i] = w
                    sum += w
                }
                for i in 0 ..< max(n, 0) {
                    let w = sum != 0 ? k[i] / sum : k[i]
                    weights[o * stride + i] = Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one)
                }
                start[o] = lo
                count[o] = max(n, 0)
            }
            self.start = start
            self.count = count
            self.weights = weights
            self.stride = stride
        }
    }

    // MARK: - Passes

    /// `(2^21 + sum) >> 22`, clipped to `0...255` (Pillow's `clip8`).
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> Int32(precisionBits)
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(truncatingIfNeeded: v)
    }

    /// Splits `rows` into chunks run on up to two threads when the work is large enough to pay for it.
    static func forEachRowChunk(rows: Int, work: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let threads = work >= 400_000 ? min(2, ProcessInfo.processInfo.activeProcessorCount, rows) : 1
        if threads <= 1 {
            body(0 ..< rows)
            return
        }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            body((rows * t / threads) ..< (rows * (t + 1) / threads))
        }
    }

    /// Horizontal pass over input rows `rows` of `image`, whose column 0 is input column `columnOffset`.
    static func horizontalPass(_ image: RGBImage, taps: Taps, rows inputRows: Range<Int>, columnOffset: Int) -> RGBImage {
        let outWidth = taps.start.count
        let inRow = image.width * 3
        let outRow = outWidth * 3
        let rows = inputRows.count
        let firstRow = inputRows.lowerBound
        var out = [UInt8](repeating: 0, count: outRow * rows)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            taps.weights.withUnsafeBufferPointer { w in
                taps.start.withUnsafeBufferPointer { start in
                    taps.count.withUnsafeBufferPointer { count in
                        out.withUnsafeMutableBufferPointer { dst in
                            guard let s0 = src.baseAddress, let w0 = w.baseAddress, let st = start.baseAddress,
                                  let ct = count.baseAddress, let d0 = dst.baseAddress else { return }
                            nonisolated(unsafe) let (inBase, weightBase, startBase, countBase, outBase) = (s0, w0, st, ct, d0)
                            let stride = taps.stride
                            forEachRowChunk(rows: rows, work: rows * outWidth * stride * 3) { range in
                                for y in range {
                                    let row = inBase + (y + firstRow) * inRow
                                    let o = outBase + y * outRow
                                    for x in 0 ..< outWidth {
                                        let k = weightBase + x * stride
                                        var p = row + (startBase[x] - columnOffset) * 3
                                        var r = half, g = half, b = half
                                        for i in 0 ..< countBase[x] {
                                            let kw = k[i]
                                            r &+= Int32(p[0]) &* kw
                                            g &+= Int32(p[1]) &* kw
                                            b &+= Int32(p[2]) &* kw
                                            p += 3
                                        }
                                        o[3 * x] = clip8(r)
                                        o[3 * x + 1] = clip8(g)
                                        o[3 * x + 2] = clip8(b)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: rows, pixels: out)
    }

    /// Vertical pass over columns `columns` of `image`, whose row 0 is input row `rowOffset` of the taps.
    static func verticalPass(_ image: RGBImage, taps: Taps, rowOffset: Int = 0, columns: Range<Int>) -> RGBImage {
        let outHeight = taps.start.count
        let inRow = image.width * 3
        let rowLength = columns.count * 3
        let columnStart = columns.lowerBound * 3
        var out = [UInt8](repeating: 0, count: rowLength * outHeight)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { src in
            taps.weights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { dst in
                    guard let s0 = src.baseAddress, let w0 = w.baseAddress, let d0 = dst.baseAddress else { return }
                    nonisolated(unsafe) let (inBase, weightBase, outBase) = (s0, w0, d0)
                    let stride = taps.stride
                    let start = taps.start, count = taps.count
                    forEachRowChunk(rows: outHeight, work: outHeight * rowLength * stride) { range in
                        let accumulator = UnsafeMutablePointer<Int32>.allocate(capacity: rowLength)
                        defer { accumulator.deallocate() }
                        for y in range {
                            accumulator.update(repeating: half, count: rowLength)
                            let k = weightBase + y * stride
                            for t in 0 ..< count[y] {
                                let row = inBase + (start[y] - rowOffset + t) * inRow + columnStart
                                let kw = k[t]
                                for i in 0 ..< rowLength {
                                    accumulator[i] &+= Int32(row[i]) &* kw
                                }
                            }
                            let o = outBase + y * rowLength
                            for i in 0 ..< rowLength { o[i] = clip8(accumulator[i]) }
                        }
                    }
                }
            }
        }
        return RGBImage(width: columns.count, height: outHeight, pixels: out)
    }

    /// Pillow's nearest-neighbour resize (`ImagingScaleAffine`), accumulation order included.
    static func nearest(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        func sources(inSize: Int, outSize: Int) -> [Int] {
            let a = Double(Float(inSize)) / Double(outSize)
            var position = a * 0.5
            var result = [Int](repeating: -1, count: outSize)
            for o in 0 ..< outSize {
                let i = position < 0 ? -1 : Int(position)
                if i >= 0 && i < inSize { result[o] = i }
                position += a
            }
            return result
        }
        let xs = sources(inSize: image.width, outSize: width)
        let ys = sources(inSize: image.height, outSize: height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< height where ys[y] >= 0 {
                    let row = ys[y] * image.width * 3
                    for x in 0 ..< width where xs[x] >= 0 {
                        let s = row + xs[x] * 3
                        let d = (y * width + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
