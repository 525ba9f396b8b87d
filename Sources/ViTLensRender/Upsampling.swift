import ViTLensCore

/// How a patch-grid map `[rows, columns]` is resized to image pixels `[height, width]`.
///
/// Both modes use half-pixel centres: output pixel `d` samples the input at
/// `s = (d + 0.5) * in / out - 0.5`, so the map stays centred on the image whatever the factor.
public enum Upsampling: String, CaseIterable, Sendable, Codable {
    /// Each output pixel takes the value of the input cell it falls in: `floor((d + 0.5) * in / out)`
    /// (computed in integers). Patch-faithful: with `out = p * in` every patch becomes a `p x p`
    /// block, as in DINO's `interpolate(scale_factor=p, mode="nearest")`. For non-integer factors it
    /// equals PyTorch's `mode="nearest-exact"` and Pillow's `NEAREST`.
    case nearest
    /// Bilinear interpolation between the four nearest cell centres, edges clamped (the sample
    /// position is clamped to `>= 0` and the upper neighbour to the last cell). Equals PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False, antialias=False)` (to float32 rounding)
    /// and OpenCV's `resize(INTER_LINEAR)` on float images. Downscaling does not antialias.
    case bilinear

    /// Resizes a `[rows, columns]` map to `[height, width]`.
    /// - Throws: ``RenderError`` when `map` is not a non-empty rank-2 tensor or the target size is not
    ///   positive or exceeds ``CanvasLimit``.
    public func apply(_ map: Tensor, height: Int, width: Int) throws -> Tensor {
        let (rows, columns) = try map.gridSize("map")
        guard height > 0, width > 0 else {
            throw RenderError.invalidParameter(name: "output size", value: "\(height)x\(width)", reason: "must be positive")
        }
        try CanvasLimit.check(width: width, height: height, what: "upsampled map")
        var out = [Float](repeating: 0, count: height * width)
        switch self {
        case .nearest:
            let sx = (0 ..< width).map { Swift.min((2 * $0 + 1) * columns / (2 * width), columns - 1) }
            map.values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0 ..< height {
                        let sy = Swift.min((2 * y + 1) * rows / (2 * height), rows - 1)
                        let row = sy * columns
                        for x in 0 ..< width { dst[y * width + x] = src[row + sx[x]] }
                    }
                }
            }
        case .bilinear:
            let xs = Self.linearTaps(input: columns, output: width)
            let ys = Self.linearTaps(input: rows, output: height)
            map.values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for y in 0 ..< height {
                        let ty = ys[y]
                        let r0 = ty.i0 * columns
                        let r1 = ty.i1 * columns
                        for x in 0 ..< width {
                            let tx = xs[x]
                            let top = tx.w0 * src[r0 + tx.i0] + tx.w1 * src[r0 + tx.i1]
                            let bottom = tx.w0 * src[r1 + tx.i0] + tx.w1 * src[r1 + tx.i1]
                            dst[y * width + x] = ty.w0 * top + ty.w1 * bottom
                        }
                    }
                }
            }
        }
        return Tensor(shape: [height, width], values: out)
    }

    /// Source indices and weights along one axis, computed in `Float` as PyTorch does on the CPU.
    static func linearTaps(input: Int, output: Int) -> [(i0: Int, i1: Int, w0: Float, w1: Float)] {
        let scale = Float(input) / Float(output)
        return (0 ..< output).map { d in
            let s = Swift.max(scale * (Float(d) + 0.5) - 0.5, 0)
            let i0 = Swift.min(Int(s), input - 1)
            let i1 = Swift.min(i0 + 1, input - 1)
            let w1 = Swift.min(Swift.max(s - Float(i0), 0), 1)
            return (i0, i1, 1 - w1, w1)
        }
    }
}
