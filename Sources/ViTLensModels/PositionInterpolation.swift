/// Bicubic resampling of a position-embedding grid, equal to
/// `torch.nn.functional.interpolate(x, size=(rows, cols), mode="bicubic", align_corners=False)`
/// as Hugging Face's `interpolate_pos_encoding` calls it (transformers 5.23, ViT/DeiT/DINOv2/CLIP).
///
/// Per axis: `scale = in / out`, source coordinate `s = scale * (i + 0.5) - 0.5` (half-pixel
/// centres, not clamped), taps `floor(s) - 1 ... floor(s) + 2` clamped to the border, Keys cubic
/// weights with `A = -0.75`. Separable: columns interpolated inside each row tap, rows outside.
public enum PositionInterpolation {
    /// Cubic convolution weights for fractional offset `t` in [0, 1), `A = -0.75`.
    static func weights(_ t: Double) -> (Double, Double, Double, Double) {
        let a = -0.75
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return (far(t + 1), near(t), near(1 - t), far(2 - t))
    }

    /// Tap indices and weights for resampling an axis of `input` samples to `output` samples.
    static func taps(input: Int, output: Int) -> [(idx: (Int, Int, Int, Int), w: (Double, Double, Double, Double))] {
        // Computed in Float like PyTorch's CPU kernel, so the tap index agrees at boundaries.
        let scale = Float(input) / Float(output)
        return (0 ..< output).map { i in
            let src = scale * (Float(i) + 0.5) - 0.5
            let f = src.rounded(.down)
            let t = Double(src - f)
            let base = Int(f)
            func clamp(_ v: Int) -> Int { min(max(v, 0), input - 1) }
            return ((clamp(base - 1), clamp(base), clamp(base + 1), clamp(base + 2)), weights(t))
        }
    }

    /// Resamples `grid[inRows, inCols, dim]` (row-major, channels last) to `[outRows, outCols, dim]`.
    public static func bicubic(_ grid: UnsafePointer<Float>, inRows: Int, inCols: Int, dim: Int,
                               outRows: Int, outCols: Int, into out: UnsafeMutablePointer<Float>) {
        let rowTaps = taps(input: inRows, output: outRows)
        let colTaps = taps(input: inCols, output: outCols)
        var acc = [Double](repeating: 0, count: dim)
        var inner = [Double](repeating: 0, count: dim)
        for (r, rt) in rowTaps.enumerated() {
            for (c, ct) in colTaps.enumerated() {
                for k in 0 ..< dim { acc[k] = 0 }
                let rows = [rt.idx.0, rt.idx.1, rt.idx.2, rt.idx.3]
                let rw = [rt.w.0, rt.w.1, rt.w.2, rt.w.3]
                let cols = [ct.idx.0, ct.idx.1, ct.idx.2, ct.idx.3]
                let cw = [ct.w.0, ct.w.1, ct.w.2, ct.w.3]
                for i in 0 ..< 4 {
                    for k in 0 ..< dim { inner[k] = 0 }
                    for j in 0 ..< 4 {
                        let src = grid + (rows[i] * inCols + cols[j]) * dim
                        let w = cw[j]
                        for k in 0 ..< dim { inner[k] += w * Double(src[k]) }
                    }
                    let w = rw[i]
                    for k in 0 ..< dim { acc[k] += w * inner[k] }
                }
                let dst = out + (r * outCols + c) * dim
                for k in 0 ..< dim { dst[k] = Float(acc[k]) }
            }
        }
    }

    /// Antialiased bicubic resampling, equal to `interpolate(..., mode="bicubic",
    /// align_corners=False, antialias=True)` (used by Hugging Face's DINOv2-with-registers).
    ///
    /// PyTorch's antialiased kernel follows Pillow: Keys cubic with `A = -0.5`, support
    /// `2 * max(scale, 1)` input samples (wider when downscaling), taps outside the input dropped
    /// (not clamped) and the remaining weights renormalised to sum to 1. Separable: columns first,
    /// then rows.
    public static func bicubicAntialiased(_ grid: UnsafePointer<Float>, inRows: Int, inCols: Int, dim: Int,
                                          outRows: Int, outCols: Int, into out: UnsafeMutablePointer<Float>) {
        func table(input: Int, output: Int) -> [(start: Int, weights: [Double])] {
            let scale = Double(Float(input) / Float(output))
            let support = scale >= 1 ? 2 * scale : 2
            let invScale = scale >= 1 ? 1 / scale : 1
            func filter(_ x: Double) -> Double {
                let a = -0.5
                let x = abs(x)
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                return 0
            }
            return (0 ..< output).map { i in
                let center = scale * (Double(i) + 0.5)
                let lo = max(Int(center - support + 0.5), 0)
                let hi = min(Int(center + support + 0.5), input)
                var w = (lo ..< max(lo, hi)).map { filter((Double($0) - center + 0.5) * invScale) }
                let total = w.reduce(0, +)
                if total != 0 { w = w.map { $0 / total } }
                return (lo, w)
            }
        }
        let cols = table(input: inCols, output: outCols)
        let rows = table(input: inRows, output: outRows)
        // Columns: [inRows, inCols, dim] -> [inRows, outCols, dim].
        var mid = [Double](repeating: 0, count: inRows * outCols * dim)
        for r in 0 ..< inRows {
            for (c, t) in cols.enumerated() {
                let dst = (r * outCols + c) * dim
                for (j, w) in t.weights.enumerated() {
                    let src = grid + (r * inCols + t.start + j) * dim
                    for k in 0 ..< dim { mid[dst + k] += w * Double(src[k]) }
                }
            }
        }
        // Rows: [inRows, outCols, dim] -> [outRows, outCols, dim].
        for (r, t) in rows.enumerated() {
            for c in 0 ..< outCols {
                let dst = out + (r * outCols + c) * dim
                var acc = [Double](repeating: 0, count: dim)
                for (i, w) in t.weights.enumerated() {
                    let src = ((t.start + i) * outCols + c) * dim
                    for k in 0 ..< dim { acc[k] += w * mid[src + k] }
                }
                for k in 0 ..< dim { dst[k] = Float(acc[k]) }
            }
        }
    }
}
