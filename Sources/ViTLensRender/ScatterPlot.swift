import ViTLensCore

/// One `(x, y)` data point.
public struct PlotPoint: Sendable, Equatable, Hashable {
    /// Horizontal value (a layer index in ViTLens's plots).
    public var x: Double
    /// Vertical value.
    public var y: Double

    /// A point.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A named set of points drawn in one colour.
public struct PlotSeries: Sendable, Equatable {
    /// How the points are drawn.
    public enum Style: String, Sendable, Codable, CaseIterable {
        /// A filled dot per point (the ViT paper's mean-attention-distance figure).
        case markers
        /// A polyline through the points in the given order.
        case line
        /// A polyline plus a dot per point (per-layer entropy, sink mass).
        case lineAndMarkers
    }

    /// Legend text; empty series are left out of the legend.
    public var label: String
    /// The data; non-finite points are skipped when drawing.
    public var points: [PlotPoint]
    /// Drawing style.
    public var style: Style
    /// Colour; `nil` takes the series' place in ``Palette/forSeries(count:)``.
    public var color: RGBColor?

    /// A series.
    public init(label: String, points: [PlotPoint], style: Style = .markers, color: RGBColor? = nil) {
        self.label = label
        self.points = points
        self.style = style
        self.color = color
    }
}

/// An x-y chart in the style of the ViT paper's Fig. 7 (mean attention distance per head against depth),
/// rendered as standalone SVG 1.1 text (``svg(width:height:)``) or as pixels (``render(width:height:)``).
///
/// Axes: with `integerX` the x ticks are integers (step 1, 2, 5, 10, ... so at most 12 ticks) and the
/// x range is padded by half a unit each side; otherwise both axes pick "nice" ticks: the smallest step
/// of 1, 2 or 5 times a power of ten that leaves at most 8 intervals. An automatic y range covers the data plus 5 % each side, except that
/// with `yIncludesZero` and non-negative data it starts exactly at 0. Explicit ranges are used as given
/// and points outside them are clipped at the frame. Output is deterministic: same plot, same bytes.
public struct ScatterPlot: Sendable, Equatable {
    /// Text above the plot.
    public var title: String
    /// Text under the x axis.
    public var xLabel: String
    /// Text left of the y axis (drawn vertically).
    public var yLabel: String
    /// The data.
    public var series: [PlotSeries]
    /// Fixed x range, or `nil` for automatic.
    public var xRange: ClosedRange<Double>?
    /// Fixed y range, or `nil` for automatic (the ViT authors used `0...130` for 224-pixel inputs).
    public var yRange: ClosedRange<Double>?
    /// Whether the automatic y range must include 0.
    public var yIncludesZero: Bool
    /// Whether x values are integers (layers): integer ticks and half-unit padding.
    public var integerX: Bool
    /// Whether to draw a legend; `nil` draws one when more than one series has a label.
    public var showLegend: Bool?
    /// Dot radius at the reference size (640 x 480), scaled with the picture.
    public var markerRadius: Double
    /// Line width at the reference size, scaled with the picture.
    public var lineWidth: Double
    /// Whether to draw light horizontal grid lines at the y ticks.
    public var grid: Bool

    /// A plot of `series`.
    public init(
        title: String = "", xLabel: String = "", yLabel: String = "", series: [PlotSeries],
        xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, yIncludesZero: Bool = true,
        integerX: Bool = true, showLegend: Bool? = nil, markerRadius: Double = 3.5, lineWidth: Double = 1.5, grid: Bool = true
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.yIncludesZero = yIncludesZero
        self.integerX = integerX
        self.showLegend = showLegend
        self.markerRadius = markerRadius
        self.lineWidth = lineWidth
        self.grid = grid
    }

    /// The colour each series is drawn in.
    public var seriesColors: [RGBColor] {
        let palette = Palette.forSeries(count: series.count)
        return series.enumerated().map { $0.element.color ?? palette[$0.offset] }
    }

    /// Whether the legend is drawn.
    public var legendShown: Bool {
        showLegend ?? (series.filter { !$0.label.isEmpty }.count > 1)
    }

    /// The ViT paper's Fig. 7: one dot per head per layer.
    ///
    /// - Parameters:
    ///   - distances: mean attention distance in pixels, `[layers, heads]`.
    ///   - firstLayer: the x value of row 0 (0 matches ViTLens's zero-based layer indices).
    ///   - colorPerHead: one colour and legend entry per head (`"head 0"`, ...); otherwise all dots share one colour.
    ///   - title: plot title.
    ///   - yRange: fixed y range (e.g. `0...130` as in the ViT authors' code), or `nil` for automatic from 0.
    /// - Throws: ``RenderError`` when `distances` is not a non-empty rank-2 tensor or holds NaN or
    ///   an infinity (a plot would silently drop those heads).
    public static func meanAttentionDistance(
        _ distances: Tensor, firstLayer: Int = 0, colorPerHead: Bool = true,
        title: String = "Mean attention distance", yRange: ClosedRange<Double>? = nil
    ) throws -> ScatterPlot {
        let (layers, heads) = try distances.gridSize("mean attention distance")
        try RenderError.requireFinite(distances.values, what: "mean attention distance")
        func points(_ h: Int) -> [PlotPoint] {
            (0 ..< layers).map { PlotPoint(x: Double(firstLayer + $0), y: Double(distances.values[$0 * heads + h])) }
        }
        let series = colorPerHead
            ? (0 ..< heads).map { PlotSeries(label: "head \($0)", points: points($0)) }
            : [PlotSeries(label: "heads", points: (0 ..< heads).flatMap(points))]
        return ScatterPlot(
            title: title, xLabel: "Network depth (layer)", yLabel: "Mean attention distance (pixels)", series: series,
            yRange: yRange, yIncludesZero: true, integerX: true, showLegend: colorPerHead)
    }

    /// A per-layer line chart (entropy, sink mass, ...): one line with dots per column of `values`.
    ///
    /// - Parameters:
    ///   - values: `[layers]` (one series) or `[layers, series]`.
    ///   - labels: series names (`nil`: `"series 0"`, ... or none for a single series).
    ///   - title: plot title.
    ///   - yLabel: y axis label.
    ///   - firstLayer: the x value of row 0.
    /// - Throws: ``RenderError`` when `values` is empty, of rank above 2, or `labels` has the wrong count.
    public static func perLayer(
        _ values: Tensor, labels: [String]? = nil, title: String = "", yLabel: String = "", firstLayer: Int = 0
    ) throws -> ScatterPlot {
        guard values.shape.count == 1 || values.shape.count == 2 else {
            throw RenderError.badShape(what: "per-layer values", expected: "[layers] or [layers, series]", found: values.shape)
        }
        guard values.count > 0 else { throw RenderError.empty(what: "per-layer values") }
        let layers = values.shape[0]
        let count = values.shape.count == 2 ? values.shape[1] : 1
        if let labels, labels.count != count {
            throw RenderError.sizeMismatch(what: "per-layer labels", expected: "\(count)", found: "\(labels.count)")
        }
        let series = (0 ..< count).map { k in
            PlotSeries(
                label: labels?[k] ?? (count == 1 ? "" : "series \(k)"),
                points: (0 ..< layers).map { PlotPoint(x: Double(firstLayer + $0), y: Double(values.values[$0 * count + k])) },
                style: .lineAndMarkers)
        }
        return ScatterPlot(title: title, xLabel: "Layer", yLabel: yLabel, series: series, yIncludesZero: false, integerX: true)
    }
}

// MARK: - Axes

/// An axis: its value range and tick positions.
struct PlotAxis: Equatable {
    var low: Double
    var high: Double
    var ticks: [Double]
    var decimals: Int

    func label(_ v: Double) -> String { NumberFormat.fixed(v, decimals: decimals) }

    /// A nice step (1, 2 or 5 times a power of ten) at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= raw { magnitude *= 10 }
        while magnitude > raw { magnitude /= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where m * magnitude >= raw * (1 - 1e-12) { return m * magnitude }
        return 10 * magnitude
    }

    /// Decimals needed to print multiples of `step` exactly (0...6).
    static func decimals(for step: Double) -> Int {
        for d in 0 ... 6 {
            var scaled = step
            for _ in 0 ..< d { scaled *= 10 }
            if abs(scaled - scaled.rounded()) < 1e-9 * Swift.max(1, abs(scaled)) { return d }
        }
        return 6
    }

    /// Ticks `k * step` inside `[low, high]`.
    static func ticks(low: Double, high: Double, step: Double) -> [Double] {
        let first = (low / step - 1e-9).rounded(.up)
        let last = (high / step + 1e-9).rounded(.down)
        guard first <= last, last - first < 1000 else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step == 0 ? 0 : $0 * step }
    }

    /// An axis over `values` whose tick step leaves at most `maxTicks` intervals.
    static func make(values: [Double], fixed: ClosedRange<Double>?, integer: Bool, includeZero: Bool, maxTicks: Int) -> PlotAxis {
        var lo = values.min() ?? 0
        var hi = values.max() ?? 1
        if let fixed {
            lo = fixed.lowerBound
            hi = fixed.upperBound
        } else if integer {
            lo -= 0.5
            hi += 0.5
        } else {
            let pinned = includeZero && lo >= 0
            if includeZero {
                lo = Swift.min(lo, 0)
                hi = Swift.max(hi, 0)
            }
            if hi - lo <= 0 {
                let d = lo == 0 ? 1 : abs(lo) * 0.1
                hi += d
                if !pinned { lo -= d }
            }
            let margin = (hi - lo) * 0.05
            hi += margin
            if !pinned { lo -= margin }
        }
        if hi <= lo { hi = lo + 1 }
        var step = niceStep((hi - lo) / Double(maxTicks))
        if integer { step = Swift.max(step, 1) }
        return PlotAxis(low: lo, high: hi, ticks: ticks(low: lo, high: hi, step: step), decimals: integer ? 0 : decimals(for: step))
    }
}

/// Where everything goes in a plot of a given size, for given text metrics.
struct PlotLayout {
    /// Text measurements of the renderer.
    struct Metrics {
        var textWidth: (String) -> Double
        /// Height of a line of tick/label text (cap height plus descender room).
        var textHeight: Double
        /// Height of the title line.
        var titleHeight: Double
        /// Scale unit: 1 at 640 x 480.
        var unit: Double
    }

    var width: Double
    var height: Double
    var left: Double
    var top: Double
    var right: Double
    var bottom: Double
    var x: PlotAxis
    var y: PlotAxis
    var tickLength: Double
    var pad: Double
    var legendX: Double
    var legendRow: Double

    func px(_ v: Double) -> Double { left + (v - x.low) / (x.high - x.low) * (right - left) }
    func py(_ v: Double) -> Double { bottom - (v - y.low) / (y.high - y.low) * (bottom - top) }

    init(plot: ScatterPlot, width: Int, height: Int, metrics m: Metrics) {
        let all = plot.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let x = PlotAxis.make(values: all.map(\.x), fixed: plot.xRange, integer: plot.integerX, includeZero: false, maxTicks: 12)
        let y = PlotAxis.make(values: all.map(\.y), fixed: plot.yRange, integer: false, includeZero: plot.yIncludesZero, maxTicks: 8)
        self.x = x
        self.y = y
        self.width = Double(width)
        self.height = Double(height)
        let u = m.unit
        pad = 10 * u
        tickLength = 5 * u
        legendRow = Swift.max(m.textHeight * 1.25, 2.5 * plot.markerRadius * u)
        top = pad + (plot.title.isEmpty ? m.textHeight / 2 : m.titleHeight + pad)
        bottom = self.height - pad - (plot.xLabel.isEmpty ? 0 : m.textHeight + pad / 2) - m.textHeight - tickLength - pad / 2
        let yLabelWidth = y.ticks.map { m.textWidth(y.label($0)) }.max() ?? 0
        left = pad + (plot.yLabel.isEmpty ? 0 : m.textHeight + pad / 2) + yLabelWidth + tickLength + pad / 2
        var rightMargin = pad + (x.ticks.last.map { m.textWidth(x.label($0)) / 2 } ?? 0)
        if plot.legendShown {
            let labels = plot.series.map(\.label).filter { !$0.isEmpty }
            let legendWidth = legendRow + pad / 2 + (labels.map(m.textWidth).max() ?? 0)
            rightMargin = pad + legendWidth + pad
        }
        right = self.width - rightMargin
        legendX = right + pad
        // Squeeze legend rows (down to one text line each) when many series would run off the bottom.
        let entries = plot.series.filter { !$0.label.isEmpty }.count
        if plot.legendShown, entries > 0 {
            legendRow = Swift.min(legendRow, Swift.max(m.textHeight, (self.height - pad - top) / Double(entries)))
        }
        // Keep a usable plot area on tiny canvases.
        if right - left < 10 { right = left + 10 }
        if bottom - top < 10 { bottom = top + 10 }
        left = left.rounded()
        top = top.rounded()
        right = right.rounded()
        bottom = bottom.rounded()
    }
}
