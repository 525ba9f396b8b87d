/// One deletion or insertion curve: the target's value after each step against the fraction of
/// patches removed (deletion) or revealed (insertion).
public struct FaithfulnessCurve: Sendable, Equatable, Codable {
    /// Fractions of patches perturbed, from 0 to 1, increasing.
    public var fractions: [Double]
    /// The target's value at each fraction.
    public var values: [Double]

    /// A curve from matching fractions and values.
    public init(fractions: [Double], values: [Double]) {
        self.fractions = fractions
        self.values = values
    }

    /// The area under the curve by the trapezoid rule over the fraction axis `[0, 1]`, in the
    /// target's units: the normalisation of RISE (Petsiuk et al. 2018), where the x axis is the
    /// fraction of pixels, so the AUC is the curve's mean height. Deletion: lower is better;
    /// insertion: higher is better.
    public var auc: Double { Self.trapezoid(x: fractions, y: values) }

    /// `sum_k (x[k+1] - x[k]) (y[k] + y[k+1]) / 2`; 0 for fewer than two points.
    public static func trapezoid(x: [Double], y: [Double]) -> Double {
        guard x.count == y.count, x.count > 1 else { return 0 }
        var area = 0.0
        for k in 0 ..< (x.count - 1) { area += (x[k + 1] - x[k]) * (y[k] + y[k + 1]) / 2 }
        return area
    }

    /// The pointwise mean of curves that share their fractions (the random-order baseline).
    static func mean(_ curves: [FaithfulnessCurve]) -> FaithfulnessCurve {
        guard let first = curves.first else { return FaithfulnessCurve(fractions: [], values: []) }
        var values = [Double](repeating: 0, count: first.values.count)
        for c in curves { for i in values.indices { values[i] += c.values[i] } }
        return FaithfulnessCurve(fractions: first.fractions, values: values.map { $0 / Double(curves.count) })
    }
}
