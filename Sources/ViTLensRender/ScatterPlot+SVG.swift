import ViTLensCore

extension ScatterPlot {
    /// Font size of tick labels and axis labels at the reference size (640 x 480); the title is 14/12 of it.
    static let svgFontSize = 12.0

    /// The plot as a standalone SVG 1.1 document.
    ///
    /// Text is real `<text>` (font family "DejaVu Sans, Helvetica, Arial, sans-serif"), every number
    /// has two decimals, and each finite data point of a marker style is exactly one `<circle>`
    /// (legend swatches are rounded `<rect>`s), so the output is deterministic and easy to inspect.
    /// Sizes (text, dots, lines, margins) scale with `max(min(width / 640, height / 480), 0.75)`, so text
    /// stays at least 9 px tall on small plots. Series are clipped to the plot frame.
    public func svg(width: Int = 640, height: Int = 480) -> String {
        precondition(width > 0 && height > 0, "plot size must be positive")
        let u = Swift.max(Swift.min(Double(width) / 640, Double(height) / 480), 0.75)
        let fs = Self.svgFontSize * u
        let tfs = fs * 14 / 12
        let metrics = PlotLayout.Metrics(
            textWidth: { Double($0.unicodeScalars.count) * 0.6 * fs }, textHeight: 1.2 * fs, titleHeight: 1.2 * tfs, unit: u)
        let l = PlotLayout(plot: self, width: width, height: height, metrics: metrics)
        let colors = seriesColors
        func f(_ v: Double) -> String { NumberFormat.fixed(v, decimals: 2) }
        var out: [String] = []
        out.append("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>")
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">")
        if !title.isEmpty { out.append("<title>\(XMLText.escape(title))</title>") }
        out.append("<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>")
        let plotBox = "x=\"\(f(l.left))\" y=\"\(f(l.top))\" width=\"\(f(l.right - l.left))\" height=\"\(f(l.bottom - l.top))\""
        out.append("<defs><clipPath id=\"plot-area\"><rect \(plotBox)/></clipPath></defs>")
        if grid {
            out.append("<g class=\"grid\" stroke=\"\(Self.gridColor.hexString)\" stroke-width=\"\(f(u))\">")
            for t in l.y.ticks {
                out.append("<line x1=\"\(f(l.left))\" y1=\"\(f(l.py(t)))\" x2=\"\(f(l.right))\" y2=\"\(f(l.py(t)))\"/>")
            }
            out.append("</g>")
        }
        out.append("<g class=\"series\" clip-path=\"url(#plot-area)\">")
        for (i, s) in series.enumerated() {
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let color = colors[i].hexString
            out.append("<g class=\"series-\(i)\">")
            if s.style != .markers, pts.count > 1 {
                let coords = pts.map { "\(f(l.px($0.x))),\(f(l.py($0.y)))" }.joined(separator: " ")
                out.append("<polyline points=\"\(coords)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(f(lineWidth * u))\" stroke-linejoin=\"round\"/>")
            }
            if s.style != .line {
                for p in pts {
                    out.append("<circle cx=\"\(f(l.px(p.x)))\" cy=\"\(f(l.py(p.y)))\" r=\"\(f(markerRadius * u))\" fill=\"\(color)\"/>")
                }
            }
            out.append("</g>")
        }
        out.append("</g>")
        out.append("<rect class=\"frame\" \(plotBox) fill=\"none\" stroke=\"#000000\" stroke-width=\"\(f(u))\"/>")
        out.append("<g class=\"ticks\" stroke=\"#000000\" stroke-width=\"\(f(u))\">")
        for t in l.x.ticks {
            out.append("<line x1=\"\(f(l.px(t)))\" y1=\"\(f(l.bottom))\" x2=\"\(f(l.px(t)))\" y2=\"\(f(l.bottom + l.tickLength))\"/>")
        }
        for t in l.y.ticks {
            out.append("<line x1=\"\(f(l.left - l.tickLength))\" y1=\"\(f(l.py(t)))\" x2=\"\(f(l.left))\" y2=\"\(f(l.py(t)))\"/>")
        }
        out.append("</g>")
        out.append("<g class=\"tick-labels\" font-size=\"\(f(fs))\" fill=\"#000000\">")
        let xLabelBaseline = l.bottom + l.tickLength + l.pad / 2 + 0.75 * fs
        for t in l.x.ticks {
            out.append("<text x=\"\(f(l.px(t)))\" y=\"\(f(xLabelBaseline))\" text-anchor=\"middle\">\(XMLText.escape(l.x.label(t)))</text>")
        }
        for t in l.y.ticks {
            out.append("<text x=\"\(f(l.left - l.tickLength - l.pad / 2))\" y=\"\(f(l.py(t) + 0.35 * fs))\" text-anchor=\"end\">\(XMLText.escape(l.y.label(t)))</text>")
        }
        out.append("</g>")
        let centerX = (l.left + l.right) / 2
        if !xLabel.isEmpty {
            let y = l.bottom + l.tickLength + l.pad + 1.2 * fs + 0.75 * fs
            out.append("<text class=\"x-label\" x=\"\(f(centerX))\" y=\"\(f(y))\" font-size=\"\(f(fs))\" text-anchor=\"middle\">\(XMLText.escape(xLabel))</text>")
        }
        if !yLabel.isEmpty {
            let cx = l.pad + 0.6 * fs, cy = (l.top + l.bottom) / 2
            out.append("<text class=\"y-label\" x=\"\(f(cx))\" y=\"\(f(cy))\" dy=\"\(f(0.35 * fs))\" font-size=\"\(f(fs))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(cx)) \(f(cy)))\">\(XMLText.escape(yLabel))</text>")
        }
        if !title.isEmpty {
            out.append("<text class=\"title\" x=\"\(f(centerX))\" y=\"\(f(l.pad + 0.85 * tfs))\" font-size=\"\(f(tfs))\" text-anchor=\"middle\">\(XMLText.escape(title))</text>")
        }
        if legendShown {
            out.append("<g class=\"legend\" font-size=\"\(f(fs))\">")
            var row = 0.0
            for (i, s) in series.enumerated() where !s.label.isEmpty {
                let cy = l.top + (row + 0.5) * l.legendRow
                let cx = l.legendX + l.legendRow / 2
                let color = colors[i].hexString
                if s.style != .markers {
                    out.append("<line x1=\"\(f(cx - l.legendRow / 2))\" y1=\"\(f(cy))\" x2=\"\(f(cx + l.legendRow / 2))\" y2=\"\(f(cy))\" stroke=\"\(color)\" stroke-width=\"\(f(lineWidth * u))\"/>")
                }
                if s.style != .line {
                    let r = markerRadius * u
                    out.append("<rect x=\"\(f(cx - r))\" y=\"\(f(cy - r))\" width=\"\(f(2 * r))\" height=\"\(f(2 * r))\" rx=\"\(f(r))\" ry=\"\(f(r))\" fill=\"\(color)\"/>")
                }
                out.append("<text x=\"\(f(l.legendX + l.legendRow + l.pad / 2))\" y=\"\(f(cy + 0.35 * fs))\">\(XMLText.escape(s.label))</text>")
                row += 1
            }
            out.append("</g>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Light grey of the grid lines.
    static let gridColor = RGBColor(hex: 0xE5E5E5)
}
