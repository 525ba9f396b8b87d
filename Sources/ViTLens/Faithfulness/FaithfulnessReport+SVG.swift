extension FaithfulnessReport {
    /// The deletion or insertion curves of every method (and the random baseline, grey,
    /// last) as a ``ScatterPlot`` of lines: x the fraction of patches, y the target.
    public func plot(insertion: Bool) -> ScatterPlot {
        let kind = insertion ? "Insertion" : "Deletion"
        func points(_ c: FaithfulnessCurve) -> [PlotPoint] { zip(c.fractions, c.values).map { PlotPoint(x: $0, y: $1) } }
        var series = methods.map { m in
            let c = insertion ? m.curves.insertion : m.curves.deletion
            return PlotSeries(label: "\(m.name) (AUC \(NumberFormat.fixed(c.auc, decimals: 3)))", points: points(c), style: .line)
        }
        if let random {
            let c = insertion ? random.curves.insertion : random.curves.deletion
            series.append(PlotSeries(label: "random x\(random.orders) (AUC \(NumberFormat.fixed(c.auc, decimals: 3)))",
                                     points: points(c), style: .line, color: RGBColor(128, 128, 128)))
        }
        return ScatterPlot(title: "\(kind): \(target), baseline \(baseline)",
                           xLabel: "fraction of patches \(insertion ? "revealed" : "removed")", yLabel: target,
                           series: series, xRange: 0 ... 1, yIncludesZero: false, integerX: false, showLegend: true)
    }

    /// ``plot(insertion:)`` as a standalone SVG document.
    public func svg(insertion: Bool, width: Int = 640, height: Int = 480) -> String {
        plot(insertion: insertion).svg(width: max(width, 1), height: max(height, 1))
    }
}
