import Foundation
import Testing
import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// Moments, confidence intervals, per-image attention statistics and outliers against the NumPy/SciPy
/// reference of tools/make_stats_fixtures.py (Tests/Fixtures/stats/reference.json).
@Suite("Statistics reference")
struct StatisticsReferenceTests {
    let reference: [String: Any] = {
        let data = (try? Data(contentsOf: Fixtures.url("stats/reference.json"))) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:]
    }()

    private func relClose(_ a: Double, _ b: Double, _ tol: Double, _ what: String) {
        #expect(abs(a - b) <= tol * max(1, abs(b)), "\(what): \(a) vs \(b)")
    }

    @Test func studentTQuantilesMatchSciPy() throws {
        let q = try #require(reference["t_quantiles"] as? [String: Double])
        #expect(q.count == 8)
        for (df, value) in q { relClose(StudentT.quantile(0.975, degreesOfFreedom: Double(df)!), value, 1e-9, "t(0.975, \(df))") }
        #expect(StudentT.quantile(0.5, degreesOfFreedom: 4) == 0)
        relClose(StudentT.quantile(0.025, degreesOfFreedom: 9), -q["9"]!, 1e-9, "lower tail")
        #expect(StudentT.quantile(1, degreesOfFreedom: 3).isNaN)
    }

    @Test func welfordMeansStdsAndIntervalsMatchSciPy() throws {
        let sets = try #require(reference["ci"] as? [String: [String: Any]])
        #expect(sets.count == 5)
        for (name, set) in sets {
            let values = try #require(set["values"] as? [Double])
            var m = MomentArray(cells: 1)
            for v in values { m.add([v]) }
            #expect(m.count == values.count)
            relClose(m.mean[0], set["mean"] as! Double, 1e-12, "\(name) mean")
            relClose(m.standardDeviation(0), set["std"] as! Double, 1e-9, "\(name) std")
            let ci = m.confidenceInterval(0), ref = set["ci95"] as! [Double]
            relClose(ci.low, ref[0], 1e-9, "\(name) ci low")
            relClose(ci.high, ref[1], 1e-9, "\(name) ci high")
        }
        var one = MomentArray(cells: 1)
        one.add([3])
        #expect(one.confidenceInterval(0).low.isNaN && one.standardDeviation(0).isNaN)
    }

    @Test func chanMergeOfAnySplitEqualsOnePass() throws {
        let sets = try #require(reference["ci"] as? [String: [String: Any]])
        let values = try #require(sets["normal_n57"]?["values"] as? [Double])
        var whole = MomentArray(cells: 2)
        for v in values { whole.add([v, v * v]) }
        for parts in [2, 3, 7, 57] {
            var merged = MomentArray(cells: 2)
            for k in 0 ..< parts {
                var part = MomentArray(cells: 2)
                for (i, v) in values.enumerated() where i % parts == k { part.add([v, v * v]) }
                try merged.merge(part)
            }
            #expect(merged.count == whole.count)
            for c in 0 ..< 2 {
                relClose(merged.mean[c], whole.mean[c], 1e-12, "mean, \(parts) parts")
                relClose(merged.variance(c), whole.variance(c), 1e-10, "variance, \(parts) parts")
            }
        }
        var wrong = MomentArray(cells: 3)
        #expect(throws: StatisticsError.self) { try wrong.merge(whole) }
        // Averaging averages would be wrong for unequal parts: the merge weighs by counts.
        var a = MomentArray(cells: 1), b = MomentArray(cells: 1)
        a.add([0]); b.add([3]); b.add([3])
        try a.merge(b)
        #expect(a.mean[0] == 2)
    }

    /// Replays a committed attention stack into the observer (with dummy hidden states) and compares
    /// every attention statistic with the float64 NumPy reference.
    @Test(arguments: ["dinov2_registers", "deit_distilled"])
    func attentionStatisticsMatchNumPy(_ name: String) throws {
        let all = try #require(reference["attention"] as? [String: [String: Any]])
        let ref = try #require(all[name])
        let layoutInfo = try #require(ref["layout"] as? [String: Any])
        let prefix = (layoutInfo["prefix"] as! [String]).map { PrefixToken(rawValue: $0)! }
        let grid = layoutInfo["grid"] as! [Int]
        let layout = TokenLayout(prefix: prefix, grid: PatchGrid(rows: grid[0], columns: grid[1], patchSize: layoutInfo["patch_size"] as! Int))
        let stack = try NPY.read(Fixtures.url("analysis/\(name)_attentions.npy")).tensor
        let (layers, heads, n) = (stack.shape[0], stack.shape[1], stack.shape[2])
        #expect(n == layout.tokenCount)
        var observer = try ImageStatisticsObserver()
        try observer.begin(AttentionGeometry(layers: layers, heads: heads, tokens: n, headDim: 0, layout: layout))
        let hidden = [Float](repeating: 1, count: n * 4)
        try stack.values.withUnsafeBufferPointer { all in
            for l in 0 ..< layers {
                let view = UnsafeBufferPointer(rebasing: all[(l * heads * n * n) ..< ((l + 1) * heads * n * n)])
                try observer.replay(layer: l, heads: heads, tokens: n, layout: layout, probabilities: view, statistics: observer.rowStatistics)
                try hidden.withUnsafeBufferPointer { try observer.observeHiddenState(layer: l, tokens: n, hidden: 4, states: $0) }
            }
        }
        try observer.finish()
        let result = try #require(observer.result)
        for kind in StatisticKind.all(for: layout) where kind.shape(layers: 1, heads: 1, prefix: 1).count > 1 && kind != .prefixTokenNorm {
            let expected = flatten(try #require(ref[kind.rawValue], "\(kind.rawValue)"))
            let got = try #require(result.values[kind])
            #expect(got.count == expected.count, "\(kind.rawValue)")
            for (i, (g, e)) in zip(got, expected).enumerated() { relClose(g, e, 2e-5, "\(name) \(kind.rawValue)[\(i)]") }
        }
        // Constant hidden states: every norm 2, no outlier.
        #expect(result.values[.tokenNormMean] == [Double](repeating: 2, count: layers))
        #expect(result.values[.outlierCount] == [Double](repeating: 0, count: layers))
    }

    private func flatten(_ value: Any) -> [Double] {
        if let v = value as? Double { return [v] }
        if let v = value as? [Any] { return v.flatMap(flatten) }
        return []
    }

    @Test func plantedHighNormTokensAreFound() throws {
        let planted = try #require(reference["planted"] as? [String: Any])
        let x = try NPY.read(Fixtures.url("stats/planted_hidden.npy")).tensor
        let grid = planted["grid"] as! [Int], hidden = planted["hidden"] as! Int
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: grid[0], columns: grid[1], patchSize: 16))
        let n = layout.tokenCount
        #expect(x.shape == [n, hidden])
        for (threshold, key) in [(4.0, "outliers_threshold_4"), (2.0, "outliers_threshold_2")] {
            var image = ImageStatistics(layers: 1, heads: 1, layout: layout)
            let norms = (0 ..< n).map { t in (0 ..< hidden).reduce(0.0) { $0 + Double(x.values[t * hidden + $1]) * Double(x.values[t * hidden + $1]) }.squareRoot() }
            image.recordNorms(layer: 0, norms: norms, threshold: threshold)
            #expect(image.outliers[0] == planted[key] as! [Int])
            #expect(image.values[.outlierCount] == [Double((planted[key] as! [Int]).count)])
            relClose(image.values[.tokenNormMedian]![0], planted["median"] as! Double, 1e-6, "median")
            relClose(image.values[.tokenNormMean]![0], planted["mean"] as! Double, 1e-6, "mean")
            relClose(image.values[.tokenNormMax]![0], planted["max"] as! Double, 1e-6, "max")
            relClose(image.values[.prefixTokenNorm]![0], planted["cls_norm"] as! Double, 1e-6, "cls norm")
            #expect(image.normHistogram.reduce(0, +) == layout.grid!.count)
        }
        #expect(planted["planted"] as! [Int] == [3, 11, 17])
        #expect(TokenNormOutliers.median([1, 9, 3, 7]) == 5)
        #expect(TokenNormOutliers.detect([1, 1, 1, 5, 1], threshold: 4) == [3])
    }

    @Test func histogramBinsAreFixedLogBins() {
        #expect(TokenNormHistogram.count == 122)
        #expect(TokenNormHistogram.bin(0) == 0)
        #expect(TokenNormHistogram.bin(0.0099) == 0)
        #expect(TokenNormHistogram.bin(0.01) == 1)
        #expect(TokenNormHistogram.bin(1) == 41)
        #expect(TokenNormHistogram.bin(10) == 61)
        #expect(TokenNormHistogram.bin(9999) == 120)
        #expect(TokenNormHistogram.bin(1e4) == 121)
        #expect(TokenNormHistogram.bin(.infinity) == 121)
        #expect(TokenNormHistogram.bin(.nan) == 121)
        #expect(abs(TokenNormHistogram.lowerEdge(41) - 1) < 1e-12 && TokenNormHistogram.upperEdge(121) == .infinity)
        for k in 1 ..< 121 {
            let mid = (TokenNormHistogram.lowerEdge(k) * TokenNormHistogram.upperEdge(k)).squareRoot()
            #expect(TokenNormHistogram.bin(mid) == k)
        }
    }

    @Test func statesRoundTripAndCorruptOnesAreRefused() throws {
        let layout = TokenLayout(prefix: [.cls, .register], grid: PatchGrid(rows: 2, columns: 2, patchSize: 14))
        var stats = DatasetStatistics(layers: 2, heads: 3, layout: layout, outlierThreshold: 4)
        var image = ImageStatistics(layers: 2, heads: 3, layout: layout)
        image.values[.sinkShare] = [0.1, 0.2, 0.3, 0.4, 0.5, 1.0 / 3]
        image.recordNorms(layer: 1, norms: [5, 5, 1, 1, 1, 20], threshold: 4)
        try stats.add(image)
        try stats.add(image)
        #expect(stats.outlierPositions == [0, 0, 0, 0, 0, 0, 0, 2])
        let data = try JSONEncoder().encode(stats)
        #expect(try JSONDecoder().decode(DatasetStatistics.self, from: data) == stats)
        var text = String(decoding: data, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"images\":2", with: "\"images\":3")
        #expect(throws: StatisticsError.self) { try JSONDecoder().decode(DatasetStatistics.self, from: Data(text.utf8)) }
        let other = ImageStatistics(layers: 2, heads: 3, layout: TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 14)))
        #expect(throws: StatisticsError.self) { try stats.add(other) }
        #expect(throws: StatisticsError.badThreshold(1)) { try ImageStatisticsObserver(outlierThreshold: 1) }
    }
}
