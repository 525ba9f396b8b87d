import ViTLensCore

/// DINO's attention masks (Caron et al. 2021, Fig. 3/4): per head, the smallest set of highest-
/// attention patches that holds a fraction `t` of the head's patch attention mass.
///
/// Exactly as the DINO code does it, for one head's values `a` over the `G` patches:
/// 1. sort `a` ascending (stable: among equal values the lower patch index comes first);
/// 2. divide the sorted values by their sum `S` (so the patch mass is 1 after dropping prefix columns);
/// 3. cumulative sums `c_k` (sequential, in double);
/// 4. keep sorted position `k` iff `c_k > 1 − t` (strict), then scatter back to patch order.
///
/// The kept set holds at least `t` of the mass, and dropping its smallest member leaves less than
/// `t` (up to float rounding at the boundary). With ties the lower-index patch is dropped first:
/// uniform `[0.25, 0.25, 0.25, 0.25]` at `t = 0.6` keeps patches 1, 2, 3. A head with `S = 0`
/// keeps nothing.
public enum DINOMasks {
    /// DINO's default, `t = 0.6` ("keep 60% of the mass").
    public static let defaultThreshold = 0.6

    /// Which of `values` a mask at `threshold` keeps, in input order.
    /// - Throws: ``AnalysisError/thresholdOutOfRange(_:)`` unless `0 < threshold ≤ 1`,
    ///   ``AnalysisError/nonFinite(what:index:value:)`` for a NaN or infinity in `values`.
    public static func keep(_ values: [Double], threshold: Double = defaultThreshold) throws -> [Bool] {
        try check(threshold)
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw AnalysisError.nonFinite(what: "mask values", index: i, value: Finite.describe(Float(values[i])))
        }
        return keepUnchecked(values, threshold: threshold)
    }

    /// Masks for a stack of maps `[heads, ...]`: `1` where kept, same shape, one head at a time.
    /// - Throws: ``AnalysisError/thresholdOutOfRange(_:)`` unless `0 < threshold ≤ 1`,
    ///   ``AnalysisError/nonFinite(what:index:value:)`` for a NaN or infinity in `maps`.
    public static func masks(_ maps: Tensor, threshold: Double = defaultThreshold) throws -> MaskStack {
        try check(threshold)
        try AnalysisError.requireFinite(maps.values, what: "mask maps \(maps.shape)")
        precondition(!maps.shape.isEmpty, "masks need a [heads, ...] tensor")
        let heads = maps.shape[0]
        let g = heads == 0 ? 0 : maps.count / heads
        var out = [UInt8](repeating: 0, count: maps.count)
        var kept = [Double](repeating: 0, count: heads)
        for h in 0 ..< heads {
            let v = maps.values[(h * g) ..< ((h + 1) * g)].map { Double($0) }
            let keep = keepUnchecked(v, threshold: threshold)
            var total = 0.0, mass = 0.0
            for i in 0 ..< g {
                total += v[i]
                if keep[i] {
                    out[h * g + i] = 1
                    mass += v[i]
                }
            }
            kept[h] = total > 0 ? mass / total : 0
        }
        return MaskStack(shape: maps.shape, values: out, keptMass: kept, threshold: threshold)
    }

    private static func check(_ t: Double) throws {
        guard t > 0 && t <= 1 else { throw AnalysisError.thresholdOutOfRange(t) }
    }

    private static func keepUnchecked(_ values: [Double], threshold: Double) -> [Bool] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var sum = 0.0
        for i in order { sum += values[i] }
        var keep = [Bool](repeating: false, count: values.count)
        guard sum > 0 else { return keep }
        let bound = 1 - threshold
        var c = 0.0
        for i in order {
            c += values[i] / sum
            if c > bound { keep[i] = true }
        }
        return keep
    }
}

/// Binary masks `[heads, ...]` (1 = kept) with the patch mass each head's mask holds.
public struct MaskStack: Sendable, Equatable {
    /// The shape of the maps the masks were taken from, `[heads, rows, columns]` for images.
    public var shape: [Int]
    /// Row-major 0/1 values.
    public var values: [UInt8]
    /// Per head, the fraction of its patch mass inside the mask (≥ threshold unless the head has no mass).
    public var keptMass: [Double]
    /// The threshold `t` used.
    public var threshold: Double
}
