import ViTLensCore

/// Computes one image's ``ImageStatistics`` from one forward pass: every statistic of
/// ``StatisticKind`` from each layer's attention, and the token norms from each block's output
/// (``AttentionObserver/observeHiddenState(layer:tokens:hidden:states:)``).
///
/// Use a fresh observer per image, or read ``result`` after each pass (``begin(_:)`` starts over).
/// Memory: the patch distance table (``PatchDistances``, kept across passes of the same grid) and `N` doubles.
/// Cost per layer: a few reads of `[heads, N, N]`.
public struct ImageStatisticsObserver: AttentionObserver {
    /// Outlier threshold, a multiple of the median patch norm (``TokenNormOutliers``).
    public let outlierThreshold: Double
    /// The finished image's statistics; `nil` before the first ``finish()``.
    public private(set) var result: ImageStatistics?

    private var current: ImageStatistics?
    private var grid: PatchGrid?
    private var distances: PatchDistances?
    private var seenLayers = 0
    private var seenNorms = 0

    /// - Throws: ``StatisticsError/badThreshold(_:)`` unless `outlierThreshold` is finite and above 1.
    public init(outlierThreshold: Double = TokenNormOutliers.defaultThreshold) throws {
        guard outlierThreshold.isFinite, outlierThreshold > 1 else { throw StatisticsError.badThreshold(outlierThreshold) }
        self.outlierThreshold = outlierThreshold
    }

    public var wantsHiddenStates: Bool { true }

    /// The patch distance table (``PatchDistances``).
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        PatchDistances.bytes(geometry.layout.grid)
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        guard let g = geometry.layout.grid else { throw AnalysisError.needsPatchGrid(analysis: "dataset statistics") }
        if g != grid || distances == nil { distances = PatchDistances(g) }
        grid = g
        current = ImageStatistics(layers: geometry.layers, heads: geometry.heads, layout: geometry.layout)
        result = nil
        seenLayers = 0
        seenNorms = 0
    }

    public mutating func observe(_ attention: LayerAttention) throws {
        guard var stats = current, let grid, let distances else { return }
        let layout = stats.layout
        let n = attention.tokens, p = layout.prefixCount, g = grid.count
        guard n == layout.tokenCount, attention.heads == stats.heads, attention.layer >= 0, attention.layer < stats.layers else {
            throw AnalysisError.geometryMismatch(analysis: "dataset statistics", expected: "\(layout.tokenCount) tokens, \(stats.heads) heads",
                                                 found: "\(n) tokens, \(attention.heads) heads, layer \(attention.layer)")
        }
        guard let probs = attention.probabilities.baseAddress else { return }
        let l = attention.layer, heads = stats.heads
        let cls = layout.clsIndex
        var columns = [Double](repeating: 0, count: n)
        for h in 0 ..< heads {
            let a = probs + h * n * n
            var published = 0.0, renormalized = 0.0, entropy = 0.0
            for j in 0 ..< n { columns[j] = 0 }
            for i in 0 ..< g {
                let row = a + (p + i) * n
                let (dot, sum) = distances.dotAndSum(row + p, query: i)
                published += Double(dot)
                if sum > 0 { renormalized += Double(dot) / Double(sum) }
                entropy -= AnalysisKernels.plogp(row, n)
                for j in 0 ..< n { columns[j] += Double(row[j]) }
            }
            let cell = l * heads + h
            stats.values[.meanAttentionDistance]?[cell] = published / Double(g)
            stats.values[.meanAttentionDistanceRenormalized]?[cell] = renormalized / Double(g)
            stats.values[.attentionEntropy]?[cell] = entropy / Double(g)
            var sink = 0
            for j in 1 ..< n where columns[j] > columns[sink] { sink = j }
            stats.values[.sinkShare]?[cell] = columns[sink] / Double(g)
            stats.values[.sinkIsPrefix]?[cell] = sink < p ? 1 : 0
            for k in 0 ..< p { stats.values[.prefixMass]?[cell * p + k] = columns[k] / Double(g) }
            if let c = cls {
                let row = a + c * n
                var prefixMass = 0.0, patchMass = 0.0
                for j in 0 ..< p { prefixMass += Double(row[j]) }
                for j in p ..< n { patchMass += Double(row[j]) }
                stats.values[.clsPatchMass]?[cell] = patchMass
                stats.values[.clsPrefixMass]?[cell] = prefixMass
            }
        }
        current = stats
        seenLayers += 1
    }

    public mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws {
        guard var stats = current else { return }
        guard tokens == stats.layout.tokenCount, layer >= 0, layer < stats.layers, states.count == tokens * hidden else {
            throw AnalysisError.geometryMismatch(analysis: "dataset statistics (token norms)", expected: "\(stats.layout.tokenCount) tokens",
                                                 found: "\(tokens) tokens at layer \(layer)")
        }
        var norms = [Double](repeating: 0, count: tokens)
        for t in 0 ..< tokens {
            var s = 0.0
            for k in 0 ..< hidden { let x = Double(states[t * hidden + k]); s += x * x }
            norms[t] = s.squareRoot()
        }
        stats.recordNorms(layer: layer, norms: norms, threshold: outlierThreshold)
        current = stats
        seenNorms += 1
    }

    public mutating func finish() throws {
        guard let stats = current else { return }
        guard seenLayers == stats.layers, seenNorms == stats.layers else {
            throw AnalysisError.noLayersObserved(analysis: "dataset statistics (\(seenLayers) of \(stats.layers) layers' attention, \(seenNorms) token norms)")
        }
        result = stats
        current = nil
    }
}
