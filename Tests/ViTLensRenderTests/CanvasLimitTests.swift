import Foundation
import Testing
import ViTLensCore
@testable import ViTLensRender

/// Every picture fits ``CanvasLimit`` whatever the input size; requests that cannot fit are clean
/// errors raised before any allocation (issue 7, class 7).
@Suite struct CanvasLimitTests {
    func fits(_ image: RGBImage) -> Bool {
        image.width <= CanvasLimit.maxSide && image.height <= CanvasLimit.maxSide
            && image.width * image.height <= CanvasLimit.maxPixels && image.pixels.count == image.width * image.height * 3
    }

    /// Peak resident memory of this process in MB (Linux; 0 elsewhere).
    func peakMB() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        let line = s.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    @Test func limitArithmeticIsChecked() {
        #expect(CanvasLimit.allows(width: 8192, height: 8192))
        #expect(!CanvasLimit.allows(width: 8193, height: 10))
        #expect(!CanvasLimit.allows(width: Int.max / 2, height: 3))
        #expect(!CanvasLimit.allows(width: 0, height: 5))
        #expect(throws: RenderError.canvasTooLarge(what: "upsampled map", width: 100_000, height: 100_000, limit: CanvasLimit.summary)) {
            try Upsampling.nearest.apply(Tensor(shape: [2, 2], values: [0, 1, 2, 3]), height: 100_000, width: 100_000)
        }
    }

    /// BERT's longest input: 512 tokens keep the preferred 14 px cells, labelled, inside the limit.
    @Test func tokenMatrixOf512Tokens() throws {
        let t = 512
        let tokens = (0 ..< t).map { "tok\($0)" }
        let values = (0 ..< t * t).map { Float(($0 * 7919) % 1000) / 1000 }
        let m = TokenMatrix(tokens: tokens, matrix: Tensor(shape: [t, t], values: values))
        let image = try m.render()
        #expect(fits(image))
        #expect(m.fittedCell == 14 && m.labelStep == 1)
        #expect(image.height == m.gridOrigin.y + t * 14 + 2)
        // Last cell of the last row carries its value's colour.
        let (ox, oy) = m.gridOrigin
        let norm = try MapNormalization.max.apply(Tensor(shape: [t, t], values: values))
        #expect(image.color(x: ox + (t - 1) * 14 + 7, y: oy + (t - 1) * 14 + 7) == Colormap.default.color(norm.values.values[t * t - 1]))
        #expect(peakMB() < 2048)
    }

    /// Heads + mean of a 512-token text in one mosaic: tiles sized by largestTileSide, no downscale.
    @Test func tokenMatrixMosaicOf512Tokens() throws {
        let t = 512, count = 3
        let side = Mosaic.largestTileSide(count: count)
        var tiles: [Mosaic.Tile] = []
        for h in 0 ..< count {
            var m = TokenMatrix(tokens: (0 ..< t).map { "w\($0)" }, matrix: Tensor(shape: [t, t], values: (0 ..< t * t).map { Float(($0 + h) % 5) }),
                                title: "head \(h)")
            m.maxSide = side
            #expect(m.fittedCell >= 1 && m.fittedCell < 14 && m.labelStep > 1)
            let image = try m.render()
            #expect(image.width <= side && image.height <= side)
            tiles.append(Mosaic.Tile(image, caption: "head \(h)"))
        }
        let mosaic = Mosaic(tiles: tiles, title: "layer 1")
        #expect(try mosaic.layout().downscale == 1)
        #expect(fits(try mosaic.render()))
        #expect(peakMB() < 2048)
    }

    @Test func tokenMatrixTooLongForItsLimitIsACleanError() {
        var m = TokenMatrix(tokens: (0 ..< 200).map { "\($0)" }, matrix: Tensor(zeros: [200, 200]))
        m.maxSide = 100
        #expect(m.fittedCell == 0)
        #expect(throws: RenderError.self) { try m.render() }
        do { _ = try m.render() } catch { #expect("\(error)".hasPrefix("token matrix of 200 tokens: a ")) }
    }

    @Test func mosaicDownscalesTilesThatWouldNotFit() throws {
        let tiles = (0 ..< 3).map { Mosaic.Tile(RGBImage(width: 5000, height: 60, color: RGBColor(200, 10, 10)), caption: "t\($0)") }
        let mosaic = Mosaic(tiles: tiles, columns: 3)
        let l = try mosaic.layout()
        #expect(l.downscale == 2 && l.cellWidth == 2500)
        let image = try mosaic.render()
        #expect(fits(image) && image.width == l.width)
        #expect(image.color(x: l.cellOrigin(2).x + 10, y: l.cellOrigin(2).y + 10) == RGBColor(200, 10, 10))
    }

    @Test func mosaicThatCannotFitIsACleanError() {
        let tiles = Array(repeating: Mosaic.Tile(RGBImage(width: 1, height: 1)), count: 10_000)
        #expect(throws: RenderError.self) { try Mosaic(tiles: tiles, spacing: 100).layout() }
    }

    /// One-row maps (a text rollout) and tiny images get a readable bar: the image is padded.
    @Test(arguments: [1, 5, 12, 13, 14, 31, 32, 200])
    func colorBarAtSmallHeights(_ height: Int) throws {
        let image = RGBImage(width: 40, height: height, color: RGBColor(1, 2, 3))
        let out = try ColorBar(low: 0, high: 0.25, title: "rollout").fitted(to: image)
        #expect(out.height == max(height, ColorBar.legibleHeight(scale: 1)))
        #expect(out.color(x: 0, y: (out.height - height) / 2) == RGBColor(1, 2, 3))
        let l = try ColorBar(low: 0, high: 0.25, title: "rollout").layout(forHeight: out.height)
        #expect(out.width == 40 + l.width)
        #expect(l.barHeight >= 2 * (BitmapFont.capHeight + 3))
    }

    @Test(arguments: [1, 37, 512, 5000])
    func tokenStripOfAnyLength(_ t: Int) throws {
        let strip = TokenStrip(tokens: (0 ..< t).map { "token\($0)" }, values: (0 ..< t).map { Float($0 % 17) })
        let image = try strip.render()
        #expect(fits(image))
        let (rows, columns) = strip.grid
        #expect(rows * columns >= t && (t <= 40 ? columns == 1 : true))
        #expect(image.height >= min(rows, t) * BitmapFont.lineHeight)
    }

    @Test func tokenStripTooLongIsACleanError() {
        let t = 1_000_000
        let strip = TokenStrip(tokens: Array(repeating: "x", count: t), values: Array(repeating: 1, count: t))
        #expect(throws: RenderError.self) { try strip.render() }
    }

    @Test func shrunkToFitKeepsRoomForTheBar() {
        let big = RGBImage(width: 9000, height: 30, color: .white)
        let small = big.shrunkToFit(reservingWidth: 1024)
        #expect(small.width + 1024 <= CanvasLimit.maxSide && small.width == 4500 && small.height == 15)
        #expect(RGBImage(width: 30, height: 30, color: .white).shrunkToFit(reservingWidth: 1024).width == 30)
    }
}
