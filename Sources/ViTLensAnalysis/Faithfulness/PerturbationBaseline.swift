import ViTLensCore

/// What a removed patch is replaced with (deletion) or what unrevealed patches show (insertion).
public enum PerturbationBaseline: Sendable, Equatable, Codable {
    /// Every pixel of a channel set to that channel's mean over the whole model input.
    case channelMean
    /// A box blur of the model input: each pixel the mean of the `(2 radius + 1)^2` window around
    /// it, per channel, with edge pixels replicated (separable: rows, then columns; sums in Double).
    case boxBlur(radius: Int)

    /// A short name for reports ("mean", "blur-r8").
    public var name: String {
        switch self {
        case .channelMean: return "mean"
        case .boxBlur(let r): return "blur-r\(r)"
        }
    }

    /// The baseline image for `pixels [channels, H, W]` (the normalised model input).
    /// - Throws: ``FaithfulnessError/blurRadius(_:)`` for a radius below 1,
    ///   ``FaithfulnessError/pixelShape(_:patchSize:)`` for a tensor that is not 3-D.
    public func image(for pixels: Tensor) throws -> Tensor {
        guard pixels.shape.count == 3, pixels.shape.allSatisfy({ $0 > 0 }) else { throw FaithfulnessError.pixelShape(pixels.shape, patchSize: 1) }
        let (c, h, w) = (pixels.shape[0], pixels.shape[1], pixels.shape[2])
        let plane = h * w
        var out = pixels.values
        switch self {
        case .channelMean:
            for ch in 0 ..< c {
                let range = (ch * plane) ..< ((ch + 1) * plane)
                let mean = Float(pixels.values[range].reduce(0.0) { $0 + Double($1) } / Double(plane))
                for i in range { out[i] = mean }
            }
        case .boxBlur(let r):
            guard r >= 1 else { throw FaithfulnessError.blurRadius(r) }
            for ch in 0 ..< c {
                let base = ch * plane
                let rows = Self.blur(Array(pixels.values[base ..< base + plane]), count: w, lines: h, stride: 1, lineStride: w, radius: r)
                let both = Self.blur(rows, count: h, lines: w, stride: w, lineStride: 1, radius: r)
                for i in 0 ..< plane { out[base + i] = both[i] }
            }
        }
        return Tensor(shape: pixels.shape, values: out)
    }

    /// A 1-D box blur along `lines` lines of `count` samples (`stride` apart, lines `lineStride` apart).
    private static func blur(_ x: [Float], count: Int, lines: Int, stride: Int, lineStride: Int, radius r: Int) -> [Float] {
        var y = x
        let window = Double(2 * r + 1)
        for line in 0 ..< lines {
            let o = line * lineStride
            for i in 0 ..< count {
                var sum = 0.0
                for k in (i - r) ... (i + r) { sum += Double(x[o + Swift.min(Swift.max(k, 0), count - 1) * stride]) }
                y[o + i * stride] = Float(sum / window)
            }
        }
        return y
    }
}
