/// Spearman's rank correlation, the similarity measure of the model-randomisation sanity check
/// (Adebayo et al. 2018, "Sanity Checks for Saliency Maps").
public enum SpearmanCorrelation {
    /// Pearson's correlation of the ranks of `a` and `b` (ties get their average rank, as
    /// `scipy.stats.spearmanr` does); sums in Double.
    /// - Throws: ``FaithfulnessError`` for different lengths, fewer than two values, NaN or
    ///   infinity, or a constant vector.
    public static func value(_ a: [Float], _ b: [Float]) throws -> Double {
        guard a.count == b.count, a.count >= 2 else { throw FaithfulnessError.correlationLength(a.count, b.count) }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw FaithfulnessError.nonFiniteCorrelation }
        let ra = ranks(a), rb = ranks(b)
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in ra.indices {
            cov += (ra[i] - ma) * (rb[i] - mb)
            va += (ra[i] - ma) * (ra[i] - ma)
            vb += (rb[i] - mb) * (rb[i] - mb)
        }
        guard va > 0, vb > 0 else { throw FaithfulnessError.constantRanks }
        return cov / (va * vb).squareRoot()
    }

    /// 1-based ranks of `values` in ascending order, tied values sharing their average rank.
    public static func ranks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start ... end { ranks[order[k]] = rank }
            start = end + 1
        }
        return ranks
    }
}
