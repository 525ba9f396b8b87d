import Foundation

/// Streaming mean and variance of many cells over the same samples (images): one count, and per cell
/// the running mean and `M2 = Σ (x − mean)²`.
///
/// ``add(_:)`` is Welford's update (one sample per cell); ``merge(_:)`` is the pairwise combination of
/// Chan, Golub and LeVeque (1979): `n = n_a + n_b`, `δ = mean_b − mean_a`,
/// `mean = mean_a + δ n_b / n`, `M2 = M2_a + M2_b + δ² n_a n_b / n`. Merging partial results this way
/// gives the single-pass values up to rounding; averaging averages does not.
public struct MomentArray: Codable, Sendable, Equatable {
    /// Samples seen (the same for every cell).
    public private(set) var count: Int
    /// Running mean per cell.
    public private(set) var mean: [Double]
    /// Sum of squared deviations from the mean per cell.
    public private(set) var m2: [Double]

    /// An empty accumulator of `cells` cells.
    public init(cells: Int) {
        count = 0
        mean = [Double](repeating: 0, count: cells)
        m2 = mean
    }

    /// Rebuilds an accumulator from stored parts (a state file).
    /// - Throws: ``StatisticsError/corruptState(reason:)`` for mismatched lengths, a negative count or
    ///   non-finite values.
    public init(count: Int, mean: [Double], m2: [Double]) throws {
        guard count >= 0, mean.count == m2.count else { throw StatisticsError.corruptState(reason: "moment arrays of different lengths or a negative count") }
        guard mean.allSatisfy(\.isFinite), m2.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw StatisticsError.corruptState(reason: "non-finite or negative moments")
        }
        self.count = count
        self.mean = mean
        self.m2 = m2
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(count: c.decode(Int.self, forKey: .count), mean: c.decode([Double].self, forKey: .mean), m2: c.decode([Double].self, forKey: .m2))
    }

    /// Number of cells.
    public var cells: Int { mean.count }

    /// Adds one sample: `values[i]` for cell `i` (Welford). `values.count` must equal ``cells``.
    public mutating func add(_ values: [Double]) {
        precondition(values.count == mean.count, "MomentArray.add: \(values.count) values for \(mean.count) cells")
        count += 1
        let n = Double(count)
        for i in 0 ..< values.count {
            let delta = values[i] - mean[i]
            mean[i] += delta / n
            m2[i] += delta * (values[i] - mean[i])
        }
    }

    /// Combines `other` (samples disjoint from this one's) into this accumulator (Chan et al.).
    /// - Throws: ``StatisticsError/shapeMismatch(what:)`` when the cell counts differ.
    public mutating func merge(_ other: MomentArray) throws {
        guard other.cells == cells else { throw StatisticsError.shapeMismatch(what: "\(other.cells) cells, expected \(cells)") }
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let na = Double(count), nb = Double(other.count), n = na + nb
        for i in 0 ..< cells {
            let delta = other.mean[i] - mean[i]
            mean[i] += delta * nb / n
            m2[i] += other.m2[i] + delta * delta * na * nb / n
        }
        count += other.count
    }

    /// Sample variance `M2 / (n − 1)` of cell `i`; NaN below two samples.
    public func variance(_ i: Int) -> Double { count > 1 ? m2[i] / Double(count - 1) : .nan }

    /// Sample standard deviation of cell `i`; NaN below two samples.
    public func standardDeviation(_ i: Int) -> Double { variance(i).squareRoot() }

    /// The two-sided `level` confidence interval of cell `i`'s mean by Student's t on the per-sample
    /// values: `mean ± t_{(1+level)/2, n−1} · s / √n`. `(NaN, NaN)` below two samples.
    public func confidenceInterval(_ i: Int, level: Double = 0.95) -> (low: Double, high: Double) {
        guard count > 1 else { return (.nan, .nan) }
        let half = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(count - 1)) * standardDeviation(i) / Double(count).squareRoot()
        return (mean[i] - half, mean[i] + half)
    }
}
