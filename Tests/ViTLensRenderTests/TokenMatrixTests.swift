import Testing
import ViTLensCore
@testable import ViTLensRender

@Suite struct TokenMatrixTests {
    @Test func cellsCarryTheColormapAndLabelsTakeTheMargins() throws {
        let tokens = ["[CLS]", "it", "animal"]
        let m = Tensor(shape: [3, 3], values: [1, 0, 0, 0.5, 0, 0.5, 0, 0.25, 0.75])
        let tm = TokenMatrix(tokens: tokens, matrix: m, colormap: .viridis, normalization: .max, cell: 10)
        let img = try tm.render()
        let (ox, oy) = tm.gridOrigin
        #expect(ox == BitmapFont.width(of: "animal") + 6 && oy == ox)
        // Cell (0,0) holds the max -> top colour; cell (0,1) holds 0 -> bottom colour; (2,2) = 0.75.
        #expect(img.color(x: ox + 5, y: oy + 5) == Colormap.viridis.color(1))
        #expect(img.color(x: ox + 15, y: oy + 5) == Colormap.viridis.color(0))
        #expect(img.color(x: ox + 25, y: oy + 25) == Colormap.viridis.color(0.75))
        // Some label ink left of the grid on row 2 and above column 2.
        let rowInk = (0 ..< ox).contains { img.color(x: $0, y: oy + 22) == .black }
        let colInk = (0 ..< oy).contains { img.color(x: ox + 24, y: $0) == .black }
        #expect(rowInk && colInk)
        #expect(img.width > ox + 30 && img.height >= oy + 30)
    }

    @Test func refusesAMatrixOfTheWrongShape() {
        #expect(throws: RenderError.self) {
            try TokenMatrix(tokens: ["a", "b"], matrix: Tensor(zeros: [3, 3])).render()
        }
    }
}
