import Foundation
import Testing
import ViTLensCore
@testable import ViTLensRender
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Counts elements by name and collects `<text>` contents while checking well-formedness.
final class SVGInspector: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var texts: [String] = []
    var root: String?
    var rootAttributes: [String: String] = [:]
    private var inText = false
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if root == nil {
            root = name
            rootAttributes = attributes
        }
        counts[name, default: 0] += 1
        if name == "text" {
            inText = true
            current = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" {
            texts.append(current)
            inText = false
        }
    }

    static func inspect(_ svg: String) -> SVGInspector? {
        let parser = XMLParser(data: Data(svg.utf8))
        let inspector = SVGInspector()
        parser.delegate = inspector
        return parser.parse() ? inspector : nil
    }
}

@Suite("ScatterPlot")
struct ScatterPlotTests {
    /// 4 layers x 3 heads of made-up distances.
    static let distances = Tensor(shape: [4, 3], values: [
        20, 60, 110,
        35, 80, 112,
        70, 100, 115,
        105, 110, 118,
    ])

    @Test func madPlotHasOneSeriesPerHead() throws {
        let plot = try ScatterPlot.meanAttentionDistance(Self.distances)
        #expect(plot.series.count == 3)
        #expect(plot.series[2].label == "head 2")
        #expect(plot.series[1].points.map(\.y) == [60, 80, 100, 110])
        #expect(plot.series[0].points.map(\.x) == [0, 1, 2, 3])
        #expect(plot.legendShown)
        let single = try ScatterPlot.meanAttentionDistance(Self.distances, firstLayer: 1, colorPerHead: false)
        #expect(single.series.count == 1 && single.series[0].points.count == 12 && !single.legendShown)
        #expect(single.series[0].points.map(\.x).min() == 1)
        #expect(throws: RenderError.self) { try ScatterPlot.meanAttentionDistance(Tensor(shape: [3], values: [1, 2, 3])) }
    }

    @Test func svgIsWellFormedWithOneCirclePerPoint() throws {
        var plot = try ScatterPlot.meanAttentionDistance(Self.distances, title: "ViT <S/16> & friends")
        plot.series[0].points.append(PlotPoint(x: 4, y: .nan))  // skipped
        let svg = plot.svg()
        let doc = try #require(SVGInspector.inspect(svg), "SVG does not parse as XML")
        #expect(doc.root == "svg")
        #expect(doc.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(doc.rootAttributes["version"] == "1.1")
        #expect(doc.rootAttributes["width"] == "640" && doc.rootAttributes["height"] == "480")
        #expect(doc.counts["circle"] == 12)
        #expect(doc.texts.contains("ViT <S/16> & friends"))
        #expect(doc.texts.contains("Mean attention distance (pixels)"))
        #expect(doc.texts.contains("head 1"))
        #expect(doc.texts.contains("120") && doc.texts.contains("0"))
        #expect(plot.svg() == svg)  // deterministic
    }

    @Test func axesTicks() {
        #expect(PlotAxis.niceStep(23) == 50)
        #expect(PlotAxis.niceStep(0.13) == 0.2)
        #expect(PlotAxis.niceStep(1) == 1)
        #expect(PlotAxis.decimals(for: 0.25) == 2)
        #expect(PlotAxis.decimals(for: 20) == 0)
        let y = PlotAxis.make(values: [20, 118], fixed: nil, integer: false, includeZero: true, maxTicks: 8)
        #expect(y.low == 0 && abs(y.high - 123.9) < 1e-9)
        #expect(y.ticks == [0, 20, 40, 60, 80, 100, 120])
        let x = PlotAxis.make(values: [0, 23], fixed: nil, integer: true, includeZero: false, maxTicks: 12)
        #expect(x.low == -0.5 && x.high == 23.5)
        #expect(x.ticks == stride(from: 0.0, through: 22, by: 2).map { $0 })
        let fixed = PlotAxis.make(values: [1], fixed: 0 ... 130, integer: false, includeZero: true, maxTicks: 8)
        #expect(fixed.low == 0 && fixed.high == 130 && fixed.ticks.last == 120)
        let flat = PlotAxis.make(values: [5, 5], fixed: nil, integer: false, includeZero: false, maxTicks: 8)
        #expect(flat.low < 5 && flat.high > 5)
    }

    @Test func svgSnapshot() throws {
        let plot = ScatterPlot(
            title: "Entropy & MAD", xLabel: "layer", yLabel: "value",
            series: [
                PlotSeries(label: "head 0", points: [PlotPoint(x: 0, y: 1), PlotPoint(x: 1, y: 2.5), PlotPoint(x: 2, y: 2)]),
                PlotSeries(label: "mean", points: [PlotPoint(x: 0, y: 0.5), PlotPoint(x: 2, y: 3)], style: .lineAndMarkers),
            ])
        try assertSnapshot(plot.svg(width: 320, height: 240), named: "scatter_small.svg")
    }

    @Test func perLayerLinePlot() throws {
        let plot = try ScatterPlot.perLayer(Tensor(shape: [3, 2], values: [4.1, 3.0, 4.5, 3.2, 4.9, 3.9]), labels: ["cls", "patches"], title: "Entropy", yLabel: "nats")
        #expect(plot.series.count == 2 && plot.series.allSatisfy { $0.style == .lineAndMarkers })
        #expect(plot.series[1].points.map(\.y) == [3.0, 3.2, 3.9].map { Double(Float($0)) })
        let doc = try #require(SVGInspector.inspect(plot.svg()))
        #expect(doc.counts["polyline"] == 2)
        #expect(doc.counts["circle"] == 6)
        let lineOnly = ScatterPlot(series: [PlotSeries(label: "", points: [PlotPoint(x: 0, y: 1), PlotPoint(x: 1, y: 2)], style: .line)])
        let d2 = try #require(SVGInspector.inspect(lineOnly.svg()))
        #expect(d2.counts["circle"] == nil && d2.counts["polyline"] == 1)
        #expect(throws: RenderError.self) { try ScatterPlot.perLayer(Tensor(shape: [3], values: [1, 2, 3]), labels: ["a", "b"]) }
    }

    @Test func rasterHasSizeAndInkInPlotArea() throws {
        let plot = try ScatterPlot.meanAttentionDistance(Self.distances)
        let img = plot.render(width: 640, height: 480)
        #expect(img.width == 640 && img.height == 480)
        #expect(img.color(x: 0, y: 0) == .white)
        let s = ScatterPlot.rasterScale(width: 640, height: 480)
        #expect(s == 2)
        let l = PlotLayout(plot: plot, width: 640, height: 480, metrics: .init(
            textWidth: { Double(BitmapFont.width(of: $0, scale: s)) }, textHeight: Double(10 * s), titleHeight: Double(10 * s), unit: 1))
        // Each data point's centre pixel has its series colour.
        let colors = plot.seriesColors
        for (i, series) in plot.series.enumerated() {
            for p in series.points {
                let x = Int(l.px(p.x).rounded(.down)), y = Int(l.py(p.y).rounded(.down))
                #expect(img.color(x: x, y: y) == colors[i], "head \(i) at \(p)")
            }
        }
        // Frame: black pixels along the left edge of the plot area; legend swatches to the right of it.
        #expect(img.color(x: Int(l.left) - 1, y: Int((l.top + l.bottom) / 2)) == .black)
        #expect(img.pixels.contains(where: { $0 != 255 }))
        let small = plot.render(width: 200, height: 150)
        #expect(small.width == 200 && small.height == 150)
    }
}
