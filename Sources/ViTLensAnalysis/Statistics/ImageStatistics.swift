import ViTLensCore

/// One image's statistics: one value per cell of each ``StatisticKind`` that applies, the token-norm
/// histogram counts and the outlier patches per layer. Built by ``ImageStatisticsObserver`` (or by
/// hand, for tests), added to a ``DatasetStatistics``.
public struct ImageStatistics: Sendable, Equatable {
    /// Layers, heads and token layout of the forward pass.
    public var layers: Int
    public var heads: Int
    public var layout: TokenLayout
    /// Values per statistic, row-major in ``StatisticKind/shape(layers:heads:prefix:)``.
    public var values: [StatisticKind: [Double]]
    /// Patch tokens per histogram bin, `[layers, TokenNormHistogram.count]`.
    public var normHistogram: [Int]
    /// Outlier patch indices (0 ..< G) per layer.
    public var outliers: [[Int]]

    /// Empty statistics (all zero) for a pass of this shape.
    public init(layers: Int, heads: Int, layout: TokenLayout) {
        self.layers = layers
        self.heads = heads
        self.layout = layout
        var values: [StatisticKind: [Double]] = [:]
        for kind in StatisticKind.all(for: layout) {
            values[kind] = [Double](repeating: 0, count: kind.shape(layers: layers, heads: heads, prefix: layout.prefixCount).reduce(1, *))
        }
        self.values = values
        normHistogram = [Int](repeating: 0, count: layers * TokenNormHistogram.count)
        outliers = [[Int]](repeating: [], count: layers)
    }

    /// Records layer `layer`'s token norms (`[N]`, prefix first): mean, max, median, outliers and
    /// histogram of the patch norms, and the prefix norms.
    public mutating func recordNorms(layer: Int, norms: [Double], threshold: Double) {
        let p = layout.prefixCount
        let patches = Array(norms[p...])
        guard !patches.isEmpty else { return }
        let median = TokenNormOutliers.median(patches)
        let found = TokenNormOutliers.detect(patches, threshold: threshold)
        values[.tokenNormMean]?[layer] = patches.reduce(0, +) / Double(patches.count)
        values[.tokenNormMax]?[layer] = patches.max() ?? 0
        values[.tokenNormMedian]?[layer] = median
        values[.outlierCount]?[layer] = Double(found.count)
        for k in 0 ..< p { values[.prefixTokenNorm]?[layer * p + k] = norms[k] }
        for x in patches { normHistogram[layer * TokenNormHistogram.count + TokenNormHistogram.bin(x)] += 1 }
        outliers[layer] = found
    }
}
