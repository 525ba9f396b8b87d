import Testing
import ViTLensCore
@testable import ViTLensRender

@Suite("ColorBar and BitmapFont")
struct ColorBarTests {
    @Test func tickLabelsUseThreeSignificantDigits() {
        #expect(ColorBar(low: 0, high: 0.0123456).tickLabels == ["0.0123", "0.00617", "0"])
        #expect(ColorBar(low: -1, high: 1).tickLabels == ["1", "0", "-1"])
        #expect(ColorBar(low: 2, high: 1234.5).tickLabels == ["1.23e+03", "618", "2"])
        #expect(NumberFormat.significant(-0.0) == "0")
        #expect(NumberFormat.fixed(-0.001, decimals: 2) == "0.00")
        #expect(NumberFormat.fixed(116.494, decimals: 2) == "116.49")
    }

    @Test func appendedHasExpectedSizeAndKeepsImage() throws {
        let image = RGBImage(width: 224, height: 224, color: RGBColor(9, 9, 9))
        let bar = ColorBar(colormap: .viridis, low: 0, high: 1, title: "attention")
        let layout = try bar.layout(forHeight: 224)
        #expect(layout.scale == 1)
        #expect(layout.barHeight == 224 - 12)
        #expect(layout.barWidth == 10)
        // labels "1", "0.5", "0": widest 17 px; title adds 9 + 4.
        #expect(layout.width == layout.labelX + 17 + 4 + 9 + 4)
        let out = try bar.appended(to: image)
        #expect(out.height == 224)
        #expect(out.width == 224 + layout.width)
        for (x, y) in [(0, 0), (223, 223), (100, 50)] { #expect(out.color(x: x, y: y) == RGBColor(9, 9, 9)) }
    }

    @Test(arguments: Colormap.allCases)
    func barContainsExtremeColoursTopAndBottom(_ map: Colormap) throws {
        let bar = ColorBar(colormap: map, low: 3, high: 7)
        let strip = try bar.strip(height: 300)
        let l = try bar.layout(forHeight: 300)
        let cx = l.barX + l.barWidth / 2
        #expect(strip.color(x: cx, y: l.barY) == map.color(at: 255))
        #expect(strip.color(x: cx, y: l.barY + l.barHeight - 1) == map.color(at: 0))
        // The middle row shows the middle of the table; every bar row is some table entry.
        let mid = strip.color(x: cx, y: l.barY + (l.barHeight - 1) / 2)
        #expect(mid == map.color(at: 128) || mid == map.color(at: 127))
        let entries = Set((0 ..< 256).map { map.color(at: $0) })
        #expect((l.barY ..< l.barY + l.barHeight).allSatisfy { entries.contains(strip.color(x: cx, y: $0)) })
        // Frame around the bar and text pixels in the label column.
        #expect(strip.color(x: l.barX - 1, y: l.barY + 10) == .black)
        let labelInk = (0 ..< 300).contains { y in (l.labelX ..< l.width).contains { strip.color(x: $0, y: y) == .black } }
        #expect(labelInk)
    }

    @Test func scaleGrowsWithHeight() throws {
        #expect(ColorBar(low: 0, high: 1).fontScale(forHeight: 224) == 1)
        #expect(ColorBar(low: 0, high: 1).fontScale(forHeight: 512) == 2)
        #expect(ColorBar(low: 0, high: 1, scale: 3).fontScale(forHeight: 100) == 3)
        let l1 = try ColorBar(low: 0, high: 1).layout(forHeight: 200)
        let l2 = try ColorBar(low: 0, high: 1).layout(forHeight: 600)
        #expect(l2.barWidth == 3 * l1.barWidth)
        #expect(throws: RenderError.self) { try ColorBar(low: 0, high: 1).appended(to: RGBImage(width: 5, height: 10)) }
    }

    @Test func fontCoversPrintableASCII() {
        #expect(BitmapFont.glyphs.count == 95)
        #expect(BitmapFont.glyphs.allSatisfy { $0.count == BitmapFont.glyphHeight && $0.allSatisfy { $0 < 32 } })
        // Every printable character except space has ink; glyphs are pairwise distinct.
        #expect(BitmapFont.glyphs.dropFirst().allSatisfy { $0.contains { $0 != 0 } })
        #expect(Set(BitmapFont.glyphs.map { $0.map(String.init).joined(separator: ",") }).count == 95)
        // Descenders only where expected.
        let descending = Set("gjpqy,;_".unicodeScalars.map { Int($0.value) - 32 })
        for (i, g) in BitmapFont.glyphs.enumerated() { #expect((g[7] | g[8] != 0) == descending.contains(i), "glyph \(i + 32)") }
        #expect(BitmapFont.width(of: "abc", scale: 2) == (3 * 6 - 1) * 2)
        #expect(BitmapFont.width(of: "") == 0)
    }

    @Test func drawTextPlacesGlyphPixels() {
        var img = RGBImage(width: 12, height: 9, color: .white)
        img.drawText("L", x: 1, y: 0, color: .black)
        // "L": left column rows 0-6, bottom row 6 columns 0-4.
        #expect((0 ..< 7).allSatisfy { img.color(x: 1, y: $0) == .black })
        #expect((1 ..< 6).allSatisfy { img.color(x: $0, y: 6) == .black })
        #expect(img.color(x: 2, y: 0) == .white)
        var v = RGBImage(width: 9, height: 6, color: .white)
        v.drawText("L", x: 0, y: 0, color: .black, vertical: true)
        // Rotated counter-clockwise: the stem becomes the top edge's row x = 0...6 at y = 4 (bottom up),
        // the foot the column x = 6.
        #expect((0 ..< 7).allSatisfy { v.color(x: $0, y: 4) == .black })
        #expect((0 ..< 5).allSatisfy { v.color(x: 6, y: $0) == .black })
        #expect(v.color(x: 0, y: 0) == .white)
        // Unknown characters draw as "?".
        var a = RGBImage(width: 6, height: 9, color: .white), b = a
        a.drawText("\u{00E9}", x: 0, y: 0, color: .black)
        b.drawText("?", x: 0, y: 0, color: .black)
        #expect(a == b)
    }
}
