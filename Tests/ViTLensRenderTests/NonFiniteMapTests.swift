import Testing
import ViTLensCore
@testable import ViTLensRender

/// A non-finite map given to a renderer is an error, never a black or blank picture.
@Suite struct NonFiniteMapTests {
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func overlayRenderRefusesNonFiniteMaps(_ bad: Float) {
        let photo = RGBImage(width: 4, height: 4, color: RGBColor(10, 20, 30))
        let map = Tensor(shape: [2, 2], values: [0.1, 0.2, bad, 0.4])
        #expect(throws: RenderError.nonFinite(what: "map [2, 2]", index: 2, value: Finite.describe(bad))) {
            try Overlay().render(map, on: photo)
        }
    }

    @Test func tokenMatrixRefusesNonFiniteValues() {
        let m = TokenMatrix(tokens: ["a", "b"], matrix: Tensor(shape: [2, 2], values: [1, 0, .nan, 1]))
        #expect(throws: RenderError.nonFinite(what: "token matrix", index: 2, value: "NaN")) { try m.render() }
        #expect("\(RenderError.nonFinite(what: "token matrix", index: 2, value: "NaN"))" == "token matrix: holds NaN at index 2; only finite maps can be drawn")
    }

    @Test func distancePlotRefusesNonFiniteDistances() {
        let d = Tensor(shape: [2, 2], values: [10, 20, .infinity, 40])
        #expect(throws: RenderError.nonFinite(what: "mean attention distance", index: 2, value: "inf")) {
            try ScatterPlot.meanAttentionDistance(d)
        }
    }
}
