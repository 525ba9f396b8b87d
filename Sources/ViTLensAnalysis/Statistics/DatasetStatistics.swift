import ViTLensCore

/// Statistics over a set of images, accumulated one image at a time in memory independent of the
/// number of images, and mergeable across disjoint sets (shards) exactly up to rounding.
///
/// Holds, for every ``StatisticKind`` that applies to the layout, a ``MomentArray`` (count, mean,
/// M2 per cell: Welford per image, Chan et al. to merge), the token-norm histograms (integer counts
/// in the fixed bins of ``TokenNormHistogram``), and how often each patch was a high-norm outlier
/// (integer counts per layer and patch). Codable: the partial state `vitlens stats` writes.
public struct DatasetStatistics: Codable, Sendable, Equatable {
    public let layers: Int
    public let heads: Int
    public let layout: TokenLayout
    /// The outlier threshold (multiple of the median patch norm) the counts were made with.
    public let outlierThreshold: Double
    /// Images accumulated.
    public private(set) var images: Int
    /// Moments per statistic.
    public private(set) var moments: [StatisticKind: MomentArray]
    /// Patch tokens per histogram bin, `[layers, TokenNormHistogram.count]`.
    public private(set) var normHistogram: [Int]
    /// Images in which each patch was an outlier, `[layers, G]`.
    public private(set) var outlierPositions: [Int]

    /// Empty statistics for passes of this shape.
    public init(layers: Int, heads: Int, layout: TokenLayout, outlierThreshold: Double) {
        self.layers = layers
        self.heads = heads
        self.layout = layout
        self.outlierThreshold = outlierThreshold
        images = 0
        var moments: [StatisticKind: MomentArray] = [:]
        for kind in StatisticKind.all(for: layout) {
            moments[kind] = MomentArray(cells: kind.shape(layers: layers, heads: heads, prefix: layout.prefixCount).reduce(1, *))
        }
        self.moments = moments
        normHistogram = [Int](repeating: 0, count: layers * TokenNormHistogram.count)
        outlierPositions = [Int](repeating: 0, count: layers * (layout.grid?.count ?? 0))
    }

    /// The statistics present, in catalogue order.
    public var kinds: [StatisticKind] { StatisticKind.allCases.filter { moments[$0] != nil } }

    /// The cell shape of `kind`.
    public func shape(_ kind: StatisticKind) -> [Int] { kind.shape(layers: layers, heads: heads, prefix: layout.prefixCount) }

    /// Adds one image.
    /// - Throws: ``StatisticsError/layoutMismatch(expected:found:)`` for an image of another layout,
    ///   layer or head count.
    public mutating func add(_ image: ImageStatistics) throws {
        guard image.layout == layout, image.layers == layers, image.heads == heads else {
            throw StatisticsError.layoutMismatch(expected: "\(layout), \(layers) layers x \(heads) heads",
                                                 found: "\(image.layout), \(image.layers) layers x \(image.heads) heads")
        }
        for kind in kinds {
            guard let v = image.values[kind], v.count == moments[kind]?.cells else {
                throw StatisticsError.shapeMismatch(what: "\(kind.rawValue) of one image")
            }
            moments[kind]?.add(v)
        }
        for i in normHistogram.indices { normHistogram[i] += image.normHistogram[i] }
        let g = layout.grid?.count ?? 0
        for (l, found) in image.outliers.enumerated() { for k in found where k < g { outlierPositions[l * g + k] += 1 } }
        images += 1
    }

    /// Combines the statistics of a disjoint set of images (another shard) into these.
    /// - Throws: ``StatisticsError/shapeMismatch(what:)`` when the layout, shape or threshold differ.
    public mutating func merge(_ other: DatasetStatistics) throws {
        guard other.layout == layout, other.layers == layers, other.heads == heads else {
            throw StatisticsError.shapeMismatch(what: "\(other.layout) with \(other.layers) layers x \(other.heads) heads, expected \(layout) with \(layers) x \(heads)")
        }
        guard other.outlierThreshold == outlierThreshold else {
            throw StatisticsError.shapeMismatch(what: "outlier threshold \(other.outlierThreshold), expected \(outlierThreshold)")
        }
        for kind in kinds {
            guard let m = other.moments[kind] else { throw StatisticsError.shapeMismatch(what: "\(kind.rawValue) missing") }
            try moments[kind]?.merge(m)
        }
        for i in normHistogram.indices { normHistogram[i] += other.normHistogram[i] }
        for i in outlierPositions.indices { outlierPositions[i] += other.outlierPositions[i] }
        images += other.images
    }

    enum CodingKeys: String, CodingKey {
        case layers, heads, layout, outlierThreshold = "outlier_threshold", images, moments
        case normHistogram = "norm_histogram", outlierPositions = "outlier_positions"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(layout, forKey: .layout)
        try c.encode(outlierThreshold, forKey: .outlierThreshold)
        try c.encode(images, forKey: .images)
        try c.encode(Dictionary(uniqueKeysWithValues: moments.map { ($0.key.rawValue, $0.value) }), forKey: .moments)
        try c.encode(normHistogram, forKey: .normHistogram)
        try c.encode(outlierPositions, forKey: .outlierPositions)
    }

    /// Decodes and checks a stored state: every count, shape and value consistent.
    /// - Throws: ``StatisticsError/corruptState(reason:)`` naming what is wrong.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let layers = try c.decode(Int.self, forKey: .layers), heads = try c.decode(Int.self, forKey: .heads)
        let layout = try c.decode(TokenLayout.self, forKey: .layout)
        let threshold = try c.decode(Double.self, forKey: .outlierThreshold)
        guard (1 ... 10_000).contains(layers), (1 ... 10_000).contains(heads), layout.grid != nil, threshold.isFinite, threshold > 1 else {
            throw StatisticsError.corruptState(reason: "layers, heads, grid or outlier threshold out of range")
        }
        self.init(layers: layers, heads: heads, layout: layout, outlierThreshold: threshold)
        images = try c.decode(Int.self, forKey: .images)
        let stored = try c.decode([String: MomentArray].self, forKey: .moments)
        guard Set(stored.keys) == Set(kinds.map(\.rawValue)) else { throw StatisticsError.corruptState(reason: "the statistics present do not match the layout") }
        for kind in kinds {
            guard let m = stored[kind.rawValue], m.cells == moments[kind]?.cells, m.count == images else {
                throw StatisticsError.corruptState(reason: "\(kind.rawValue) has the wrong size or count")
            }
            moments[kind] = m
        }
        let histogram = try c.decode([Int].self, forKey: .normHistogram)
        let positions = try c.decode([Int].self, forKey: .outlierPositions)
        guard images >= 0, histogram.count == normHistogram.count, positions.count == outlierPositions.count,
              histogram.allSatisfy({ $0 >= 0 }), positions.allSatisfy({ $0 >= 0 && $0 <= images }) else {
            throw StatisticsError.corruptState(reason: "histogram or outlier counts of the wrong size or out of range")
        }
        normHistogram = histogram
        outlierPositions = positions
    }
}
