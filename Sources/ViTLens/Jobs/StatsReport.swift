import Foundation

/// The files of `vitlens stats` and `vitlens merge`, built from a ``StatsState`` alone, so a merge of
/// shards writes exactly what a single run writes from the same statistics.
///
/// - `mean_attention_distance.npy` float32 `[layers, heads]`: the mean over images (the `distance`
///   command's contract); one `NAME.npy` float32 per further ``StatisticKind`` (its mean over images,
///   in its shape); `outlier_positions.npy` float32 `[layers, rows, columns]`: the fraction of images
///   in which each patch was a high-norm outlier.
/// - `stats.csv`: `statistic,layer,head,index,count,mean,std,ci95_low,ci95_high` per cell (`head` and
///   `index` empty where the statistic has none); `token_norm_histogram.csv`:
///   `layer,bin,lower,upper,count` (exact integer counts in the fixed bins of ``TokenNormHistogram``).
/// - `stats.json`: image count, failures, provenance, CI method, outlier rule, shard and whether the
///   result is complete; `stats_state.json`: the mergeable state; `failures.csv` when inputs failed.
/// - Plots, SVG and PNG: `mean_attention_distance` (per head with 95% CI bars), `sink_share` and
///   `prefix_mass` heatmaps (layer x head; prefix mass summed over the prefix tokens), `token_norms`
///   (one histogram line per layer).
public enum StatsReport {
    /// The confidence-interval method, as stats.json states it.
    public static let ciMethod = "Student t on per-image values: mean +- t(0.975, n-1) * s / sqrt(n), s the sample standard deviation (n-1); counts (outlier_count) are treated as per-image values the same way; empty below 2 images"

    /// Every output file of `state`.
    /// - Throws: ``StatsError/noImages(failed:)`` when no image succeeded; render errors.
    public static func product(_ state: StatsState) throws -> AnalysisProduct {
        guard let stats = state.statistics, stats.images > 0 else { throw StatsError.noImages(failed: state.failures.count) }
        var product = AnalysisProduct()
        var shapes: [String: [Int]] = [:]
        for kind in stats.kinds {
            guard let m = stats.moments[kind] else { continue }
            let shape = stats.shape(kind)
            product.add(kind.rawValue + ".npy", .array(Tensor(shape: shape, values: m.mean.map { Float($0) })))
            shapes[kind.rawValue + ".npy"] = shape
        }
        if let grid = stats.layout.grid {
            let fractions = stats.outlierPositions.map { Float(Double($0) / Double(stats.images)) }
            product.add("outlier_positions.npy", .array(Tensor(shape: [stats.layers, grid.rows, grid.columns], values: fractions)))
            shapes["outlier_positions.npy"] = [stats.layers, grid.rows, grid.columns]
        }
        product.add("stats.csv", .bytes(Data(csv(stats).utf8)))
        product.add("token_norm_histogram.csv", .bytes(Data(histogramCSV(stats).utf8)))
        for (name, plot) in try StatsPlots.all(stats) {
            product.add(name + ".svg", .bytes(Data(plot.svg.utf8)))
            product.add(name + ".png", .png(plot.png))
        }
        let outliers = stats.moments[.outlierCount]
        let fields = Fields(
            imageCount: stats.images, failureCount: state.failures.count, failures: state.failures, inputCount: state.identity.inputCount,
            shard: state.shard.description, complete: state.complete, ciMethod: ciMethod,
            outlierThreshold: stats.outlierThreshold,
            outlierRule: "a patch token is an outlier in a layer when its L2 norm > threshold x the median patch norm of that image and layer",
            outliersPerImage: outliers.map { m in (0 ..< m.cells).map { m.mean[$0] } } ?? [],
            histogramBins: "\(TokenNormHistogram.binsPerDecade) per decade from 1e\(TokenNormHistogram.lowestDecade) to 1e\(TokenNormHistogram.highestDecade), plus underflow and overflow bins",
            layout: LayoutRecord(stats.layout), statistics: stats.kinds.map(\.rawValue), files: shapes)
        product.add("stats.json", .json(Metadata(state.provenance, fields)))
        if !state.failures.isEmpty {
            product.add(ImageBatch.failuresFileName, .bytes(ImageBatch.failuresCSV(state.failures.map { ImageBatch.Failure(file: $0.file, reason: $0.reason) })))
        }
        product.add(StatsState.fileName, .bytes(try state.encoded()))
        if let mad = stats.moments[.meanAttentionDistance] {
            let first = (0 ..< stats.heads).map { mad.mean[$0] }, last = (0 ..< stats.heads).map { mad.mean[(stats.layers - 1) * stats.heads + $0] }
            func range(_ v: [Double]) -> String { String(format: "%.1f-%.1f", v.min() ?? 0, v.max() ?? 0) }
            product.summary.append("\(stats.images) image(s)\(state.failures.isEmpty ? "" : ", \(state.failures.count) failed")\(state.complete ? "" : ", partial (shard \(state.shard))"); mean attention distance layer 0: \(range(first)) px, layer \(stats.layers - 1): \(range(last)) px")
        }
        return product
    }

    /// `stats.csv`.
    public static func csv(_ stats: DatasetStatistics) -> String {
        var out = "statistic,layer,head,index,count,mean,std,ci95_low,ci95_high\n"
        func num(_ v: Double) -> String { v.isFinite ? String(format: "%.9g", v) : "" }
        for kind in stats.kinds {
            guard let m = stats.moments[kind] else { continue }
            let shape = stats.shape(kind)
            for cell in 0 ..< m.cells {
                let layer = cell / (shape.dropFirst().reduce(1, *))
                var head = "", index = ""
                switch shape.count {
                case 3: head = "\((cell / shape[2]) % shape[1])"; index = "\(cell % shape[2])"
                case 2 where kind == .prefixTokenNorm: index = "\(cell % shape[1])"
                case 2: head = "\(cell % shape[1])"
                default: break
                }
                let ci = m.confidenceInterval(cell)
                out += "\(kind.rawValue),\(layer),\(head),\(index),\(m.count),\(num(m.mean[cell])),\(num(m.standardDeviation(cell))),\(num(ci.low)),\(num(ci.high))\n"
            }
        }
        return out
    }

    /// `token_norm_histogram.csv`.
    public static func histogramCSV(_ stats: DatasetStatistics) -> String {
        var out = "layer,bin,lower,upper,count\n"
        let bins = TokenNormHistogram.count
        for l in 0 ..< stats.layers {
            for k in 0 ..< bins {
                let upper = TokenNormHistogram.upperEdge(k)
                out += "\(l),\(k),\(String(format: "%.6g", TokenNormHistogram.lowerEdge(k))),\(upper.isFinite ? String(format: "%.6g", upper) : "inf"),\(stats.normHistogram[l * bins + k])\n"
            }
        }
        return out
    }

    struct Fields: Encodable, Sendable {
        var imageCount: Int
        var failureCount: Int
        var failures: [StatsState.Failure]
        var inputCount: Int
        var shard: String?
        var complete: Bool
        var ciMethod: String
        var outlierThreshold: Double
        var outlierRule: String
        var outliersPerImage: [Double]
        var histogramBins: String
        var layout: LayoutRecord
        var statistics: [String]
        var files: [String: [Int]]

        enum CodingKeys: String, CodingKey {
            case imageCount = "image_count", failureCount = "failure_count", failures, inputCount = "input_count", shard, complete
            case ciMethod = "ci_method", outlierThreshold = "outlier_threshold", outlierRule = "outlier_rule"
            case outliersPerImage = "outliers_per_image", histogramBins = "histogram_bins", layout, statistics, files
        }
    }
}
