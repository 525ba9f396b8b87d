import ViTLensCore

/// How a map's values are brought to `[0, 1]` before colouring.
///
/// Every mode picks a range `(low, high)` and maps `v -> (v - low) / (high - low)`, clamped to
/// `[0, 1]`. The range is reported with the values (``NormalizedMap``) so a colour bar can label it.
/// Only finite values enter the statistics (min, max, percentile); NaN stays NaN (drawn as the
/// colormap's "bad" colour or left transparent in overlays) and `±inf` clamp to 1 or 0.
///
/// A degenerate range (`high <= low`, e.g. a constant map) never divides: values `<= low` become 0
/// and values above become 1, so a constant map is all 0 (matplotlib's `Normalize` does the same).
public enum MapNormalization: Sendable, Equatable, Hashable {
    /// `low = 0`, `high = max`: `v / max` (vit-explain, the ViT paper's attention figures).
    case max
    /// `low = min`, `high = max`: per-map contrast stretch (DINO's per-head PNGs, pytorch-grad-cam).
    case minMax
    /// A caller-chosen range, so figures across heads, layers or images share one scale.
    case fixed(low: Float, high: Float)
    /// `low = min`, `high` = the `p`-th percentile (`p` in `[0, 100]`, NumPy's default "linear"
    /// interpolation): values above it saturate, so one outlier (an artifact token) cannot wash out
    /// the rest of the map.
    case percentile(Float)

    /// The `(low, high)` range this mode uses for `values`.
    ///
    /// With no finite values the range is `(0, 0)`.
    /// - Throws: ``RenderError/invalidParameter(name:value:reason:)`` for a percentile outside
    ///   `[0, 100]` or a fixed range that is not finite with `low < high`.
    public func range(of values: [Float]) throws -> (low: Float, high: Float) {
        switch self {
        case .fixed(let low, let high):
            guard low.isFinite, high.isFinite, low < high else {
                throw RenderError.invalidParameter(name: "fixed range", value: "(\(low), \(high))", reason: "needs finite low < high")
            }
            return (low, high)
        case .percentile(let p):
            guard p >= 0, p <= 100 else {
                throw RenderError.invalidParameter(name: "percentile", value: "\(p)", reason: "must be in [0, 100]")
            }
            let sorted = values.filter { $0.isFinite }.sorted()
            guard let first = sorted.first else { return (0, 0) }
            return (first, Self.percentile(sorted: sorted, p))
        case .max, .minMax:
            var lo = Float.infinity
            var hi = -Float.infinity
            values.withUnsafeBufferPointer { v in
                for x in v where x.isFinite {
                    lo = Swift.min(lo, x)
                    hi = Swift.max(hi, x)
                }
            }
            guard lo <= hi else { return (0, 0) }
            return self == .max ? (0, hi) : (lo, hi)
        }
    }

    /// Normalises `map` (any shape) to `[0, 1]` and reports the range used.
    /// - Throws: as ``range(of:)``.
    public func apply(_ map: Tensor) throws -> NormalizedMap {
        let (low, high) = try range(of: map.values)
        return NormalizedMap(values: Tensor(shape: map.shape, values: Self.rescale(map.values, low: low, high: high)), low: low, high: high)
    }

    /// `clamp((v - low) / (high - low), 0, 1)` for each value, NaN kept, degenerate ranges as
    /// described on the type.
    public static func rescale(_ values: [Float], low: Float, high: Float) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        let degenerate = !(high > low)
        let span = high - low
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< src.count {
                    let v = src[i]
                    if v.isNaN {
                        dst[i] = .nan
                    } else if degenerate {
                        dst[i] = v > low ? 1 : 0
                    } else {
                        dst[i] = Swift.min(Swift.max((v - low) / span, 0), 1)
                    }
                }
            }
        }
        return out
    }

    /// NumPy's `percentile(a, p)` with the default `method="linear"` on sorted finite values:
    /// position `(n - 1) p / 100`, linear between its two neighbours.
    static func percentile(sorted: [Float], _ p: Float) -> Float {
        let position = Double(sorted.count - 1) * Double(p) / 100
        let i = Int(position.rounded(.down))
        let j = Swift.min(i + 1, sorted.count - 1)
        let t = position - Double(i)
        let a = Double(sorted[i])
        let b = Double(sorted[j])
        // NumPy's _lerp: a + (b - a) t, computed from the nearer end for t >= 0.5.
        return Float(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t)
    }
}

/// A normalised map and the value range that was mapped to `[0, 1]`.
public struct NormalizedMap: Sendable, Equatable {
    /// The values in `[0, 1]` (NaN where the input was NaN), same shape as the input.
    public var values: Tensor
    /// The input value shown as 0 (the bottom of a colour bar).
    public var low: Float
    /// The input value shown as 1 (the top of a colour bar).
    public var high: Float

    /// Wraps normalised values and their range.
    public init(values: Tensor, low: Float, high: Float) {
        self.values = values
        self.low = low
        self.high = high
    }
}
