import Testing
import ViTLensCore
@testable import ViTLensRender

@Suite("Mosaic")
struct MosaicTests {
    func tiles(_ n: Int, width: Int = 20, height: Int = 10) -> [Mosaic.Tile] {
        (0 ..< n).map { Mosaic.Tile(RGBImage(width: width, height: height, color: RGBColor(UInt8(50 + $0 * 10), 0, 0)), caption: $0 == n - 1 ? "mean" : "head \($0)") }
    }

    @Test func autoColumnsAndSize() throws {
        let m = Mosaic(tiles: tiles(7), spacing: 4)
        let l = try m.layout()
        #expect(l.columns == 3 && l.rows == 3)
        #expect(l.captionHeight == 12)
        #expect(l.width == 3 * 20 + 4 * 4)
        #expect(l.height == 3 * (10 + 12) + 4 * 4)
        let img = try m.render()
        #expect(img.width == l.width && img.height == l.height)
        // Tile 4 (row 1, column 1) is pasted at its cell origin.
        let (x, y) = l.cellOrigin(4)
        #expect(x == 4 + 24 && y == 4 + 22 + 4)
        #expect(img.color(x: x, y: y) == RGBColor(90, 0, 0))
        #expect(img.color(x: x + 19, y: y + 9) == RGBColor(90, 0, 0))
        #expect(img.color(x: x - 1, y: y) == .white)
        // Captions: black ink under the tile.
        let captionInk = (y + 10 ..< y + 22).contains { yy in (x ..< x + 20).contains { img.color(x: $0, y: yy) == .black } }
        #expect(captionInk)
        // Unused cells stay background.
        let (ex, ey) = l.cellOrigin(8)
        #expect(img.color(x: ex + 10, y: ey + 5) == .white)
    }

    @Test func fixedColumnsTitleAndMixedSizes() throws {
        var t = tiles(3)
        t[1] = Mosaic.Tile(RGBImage(width: 10, height: 30, color: RGBColor(0, 200, 0)), caption: "")
        let m = Mosaic(tiles: t, columns: 4, spacing: 2, background: .black, title: "layer 11", scale: 2)
        let l = try m.layout()
        #expect(l.columns == 3 && l.rows == 1)
        #expect(l.cellWidth == 20 && l.cellHeight == 30)
        #expect(l.titleHeight == 2 + 11 * 2)
        #expect(l.height == l.titleHeight + 30 + 24 + 2 * 2)
        let img = try m.render()
        // The 20x10 tile is centred in its 20x30 cell: rows 10...19; white text on the black background.
        let (x, y) = l.cellOrigin(0)
        #expect(img.color(x: x, y: y + 9) == .black)
        #expect(img.color(x: x, y: y + 10) == RGBColor(50, 0, 0))
        #expect(img.color(x: x + 19, y: y + 19) == RGBColor(50, 0, 0))
        #expect(img.color(x: x, y: y + 20) == .black)
        // The 10x30 tile is centred horizontally: columns 5...14 of cell 1.
        let (x1, y1) = l.cellOrigin(1)
        #expect(img.color(x: x1 + 4, y: y1) == .black)
        #expect(img.color(x: x1 + 5, y: y1) == RGBColor(0, 200, 0))
        #expect(img.color(x: x1 + 14, y: y1 + 29) == RGBColor(0, 200, 0))
        #expect(img.color(x: x1 + 15, y: y1) == .black)
        let whiteInk = img.pixels.contains(255)
        #expect(whiteInk)
    }

    @Test func emptyInputsThrow() {
        #expect(throws: RenderError.self) { try Mosaic(tiles: []).render() }
        #expect(throws: RenderError.self) { try Mosaic(tiles: [Mosaic.Tile(RGBImage(width: 0, height: 0))]).render() }
        #expect(throws: RenderError.self) { try Mosaic(tiles: tiles(2), columns: 0).render() }
    }

    @Test func longCaptionsAreCut() {
        #expect(Mosaic.fit("head 10", width: 100, scale: 1) == "head 10")
        let cut = Mosaic.fit("a very long caption", width: 40, scale: 1)
        #expect(cut.hasSuffix("..") && BitmapFont.width(of: cut) <= 40)
    }
}
