import Foundation

/// The pictures of `vitlens stats`, each as SVG and PNG.
enum StatsPlots {
    struct Picture {
        var svg: String
        var png: RGBImage
    }

    /// `mean_attention_distance` (per head, with 95% CI bars), `sink_share` and `prefix_mass`
    /// heatmaps, `token_norms` (histogram per layer).
    static func all(_ stats: DatasetStatistics) throws -> [(String, Picture)] {
        var out: [(String, Picture)] = []
        if let mad = stats.moments[.meanAttentionDistance] { out.append(("mean_attention_distance", try distance(mad, stats))) }
        if let sink = stats.moments[.sinkShare] {
            let map = try LayerHeadHeatmap(title: "Sink share (mean over \(stats.images) images)", values: Tensor(shape: [stats.layers, stats.heads], values: sink.mean.map { Float($0) }))
            out.append(("sink_share", Picture(svg: map.svg(), png: map.render())))
        }
        if let prefix = stats.moments[.prefixMass] {
            let p = stats.layout.prefixCount
            let summed = (0 ..< stats.layers * stats.heads).map { cell in Float((0 ..< p).reduce(0.0) { $0 + prefix.mean[cell * p + $1] }) }
            let map = try LayerHeadHeatmap(title: "Mass on prefix tokens (mean over \(stats.images) images)", values: Tensor(shape: [stats.layers, stats.heads], values: summed))
            out.append(("prefix_mass", Picture(svg: map.svg(), png: map.render())))
        }
        out.append(("token_norms", try norms(stats)))
        return out
    }

    /// Markers per head and layer, a vertical bar over each 95% interval.
    private static func distance(_ mad: MomentArray, _ stats: DatasetStatistics) throws -> Picture {
        let heads = stats.heads
        let offsets = (0 ..< heads).map { heads > 1 ? (Double($0) / Double(heads - 1) - 0.5) * 0.5 : 0 }
        let colors = Palette.forSeries(count: heads)
        var series = (0 ..< heads).map { h in
            PlotSeries(label: "head \(h)", points: (0 ..< stats.layers).map { PlotPoint(x: Double($0) + offsets[h], y: mad.mean[$0 * heads + h]) },
                       color: colors[h])
        }
        for l in 0 ..< stats.layers {
            for h in 0 ..< heads {
                let ci = mad.confidenceInterval(l * heads + h)
                guard ci.low.isFinite else { continue }
                let x = Double(l) + offsets[h]
                series.append(PlotSeries(label: "", points: [PlotPoint(x: x, y: ci.low), PlotPoint(x: x, y: ci.high)], style: .line, color: colors[h]))
            }
        }
        let plot = ScatterPlot(title: "Mean attention distance, 95% CI (\(stats.images) images)", xLabel: "Network depth (layer)",
                               yLabel: "Mean attention distance (pixels)", series: series, yIncludesZero: true, integerX: true, showLegend: heads <= 16)
        return Picture(svg: plot.svg(), png: plot.render())
    }

    /// One line per layer: fraction of patch tokens per bin against log10 of the bin centre.
    private static func norms(_ stats: DatasetStatistics) throws -> Picture {
        let bins = TokenNormHistogram.count
        var used = 1 ..< 1
        for l in 0 ..< stats.layers {
            for k in 1 ..< bins - 1 where stats.normHistogram[l * bins + k] > 0 {
                used = used.isEmpty ? k ..< k + 1 : min(used.lowerBound, k) ..< max(used.upperBound, k + 1)
            }
        }
        let colors = Palette.forSeries(count: stats.layers)
        let series = (0 ..< stats.layers).map { l -> PlotSeries in
            let total = Double(max(1, (0 ..< bins).reduce(0) { $0 + stats.normHistogram[l * bins + $1] }))
            let points = used.map { k in
                PlotPoint(x: (log10(TokenNormHistogram.lowerEdge(k)) + log10(TokenNormHistogram.upperEdge(k))) / 2, y: Double(stats.normHistogram[l * bins + k]) / total)
            }
            return PlotSeries(label: "layer \(l)", points: points, style: .line, color: colors[l])
        }
        let plot = ScatterPlot(title: "Patch token norms per layer (\(stats.images) images)", xLabel: "log10 L2 norm", yLabel: "Fraction of patch tokens",
                               series: series, yIncludesZero: true, integerX: false, showLegend: stats.layers <= 16)
        return Picture(svg: plot.svg(), png: plot.render())
    }
}
