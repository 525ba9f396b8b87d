import ViTLensCore

extension ScatterPlot {
    /// The bitmap-font scale used for a raster of this size: `max(1, floor(min(width / 320, height / 240)))`
    /// (2 at 640 x 480).
    public static func rasterScale(width: Int, height: Int) -> Int {
        Swift.max(1, Swift.min(width / 320, height / 240))
    }

    /// The plot as pixels, drawn with ViTLens's own primitives and ``BitmapFont``.
    ///
    /// Same layout rules as ``svg(width:height:)``: white background, light grid, series clipped to
    /// the frame (dots and lines anti-aliased by coverage), a 1-unit black frame with outward ticks,
    /// tick labels, axis labels (the y label reads bottom to top), title and legend. Sizes scale with
    /// the font scale ``rasterScale(width:height:)``.
    public func render(width: Int = 640, height: Int = 480) -> RGBImage {
        precondition(width > 0 && height > 0, "plot size must be positive")
        let s = Self.rasterScale(width: width, height: height)
        let u = Double(s) / 2
        let textBox = Double((BitmapFont.glyphHeight + 1) * s)
        let metrics = PlotLayout.Metrics(
            textWidth: { Double(BitmapFont.width(of: $0, scale: s)) }, textHeight: textBox, titleHeight: textBox, unit: u)
        let l = PlotLayout(plot: self, width: width, height: height, metrics: metrics)
        let colors = seriesColors
        let ink = RGBColor.black
        let line = Swift.max(1, s / 2)
        var img = RGBImage(width: width, height: height, color: .white)

        // Plot area drawn separately so that series clip at the frame.
        let left = Int(l.left), top = Int(l.top), right = Int(l.right), bottom = Int(l.bottom)
        var area = RGBImage(width: Swift.max(right - left, 1), height: Swift.max(bottom - top, 1), color: .white)
        if grid {
            for t in l.y.ticks {
                area.fill(x: 0, y: Int(l.py(t).rounded(.down)) - top, width: area.width, height: line, color: Self.gridColor)
            }
        }
        for (i, series) in series.enumerated() {
            let pts = series.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (l.px($0.x) - Double(left), l.py($0.y) - Double(top)) }
            if series.style != .markers {
                for (a, b) in zip(pts, pts.dropFirst()) {
                    area.drawLine(x0: a.0, y0: a.1, x1: b.0, y1: b.1, lineWidth: lineWidth * u, color: colors[i])
                }
            }
            if series.style != .line {
                for p in pts { area.fillCircle(cx: p.0, cy: p.1, radius: markerRadius * u, color: colors[i]) }
            }
        }
        img.paste(area, x: left, y: top)

        // Frame and ticks.
        img.fill(x: left - line, y: top - line, width: right - left + 2 * line, height: line, color: ink)
        img.fill(x: left - line, y: bottom, width: right - left + 2 * line, height: line, color: ink)
        img.fill(x: left - line, y: top, width: line, height: bottom - top, color: ink)
        img.fill(x: right, y: top, width: line, height: bottom - top, color: ink)
        let tick = Int(l.tickLength.rounded())
        let capHalf = BitmapFont.capHeight * s / 2
        for t in l.x.ticks {
            let x = Int(l.px(t).rounded(.down))
            img.fill(x: x, y: bottom + line, width: line, height: tick, color: ink)
            let text = l.x.label(t)
            img.drawText(text, x: x - BitmapFont.width(of: text, scale: s) / 2, y: bottom + tick + Int(l.pad / 2), scale: s, color: ink)
        }
        for t in l.y.ticks {
            let y = Int(l.py(t).rounded(.down))
            img.fill(x: left - line - tick, y: y, width: tick, height: line, color: ink)
            let text = l.y.label(t)
            img.drawText(text, x: left - line - tick - Int(l.pad / 2) - BitmapFont.width(of: text, scale: s), y: y - capHalf, scale: s, color: ink)
        }

        // Labels, title, legend.
        let centerX = (left + right) / 2
        if !xLabel.isEmpty {
            let y = bottom + tick + Int(l.pad) + Int(textBox)
            img.drawText(xLabel, x: centerX - BitmapFont.width(of: xLabel, scale: s) / 2, y: y, scale: s, color: ink)
        }
        if !yLabel.isEmpty {
            let length = BitmapFont.width(of: yLabel, scale: s)
            img.drawText(yLabel, x: Int(l.pad), y: (top + bottom) / 2 - length / 2, scale: s, color: ink, vertical: true)
        }
        if !title.isEmpty {
            img.drawText(title, x: centerX - BitmapFont.width(of: title, scale: s) / 2, y: Int(l.pad), scale: s, color: ink)
        }
        if legendShown {
            var row = 0.0
            for (i, series) in series.enumerated() where !series.label.isEmpty {
                let cy = l.top + (row + 0.5) * l.legendRow
                let cx = l.legendX + l.legendRow / 2
                if series.style != .markers {
                    img.drawLine(x0: l.legendX, y0: cy, x1: l.legendX + l.legendRow, y1: cy, lineWidth: lineWidth * u, color: colors[i])
                }
                if series.style != .line {
                    img.fillCircle(cx: cx, cy: cy, radius: markerRadius * u, color: colors[i])
                }
                img.drawText(series.label, x: Int(l.legendX + l.legendRow + l.pad / 2), y: Int(cy) - capHalf, scale: s, color: ink)
                row += 1
            }
        }
        return img
    }
}
