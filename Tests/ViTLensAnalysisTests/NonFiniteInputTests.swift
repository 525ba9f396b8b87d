import Testing
import ViTLensCore
@testable import ViTLensAnalysis

/// Analyses refuse NaN and infinities instead of sorting or fusing them into meaningless maps.
@Suite struct NonFiniteInputTests {
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func headFusionRefusesNonFiniteStacks(_ bad: Float) {
        var stack = Tensor(shape: [2, 2, 2], values: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
        stack.values[5] = bad
        for fusion in [HeadFusion.mean, .max, .min, .std, .head(0)] {
            #expect(throws: AnalysisError.nonFinite(what: "head stack [2, 2, 2]", index: 5, value: Finite.describe(bad))) {
                try fusion.fuse(stack)
            }
        }
    }

    @Test func dinoMasksRefuseNonFiniteMaps() {
        let maps = Tensor(shape: [1, 2, 2], values: [0.1, .nan, 0.3, 0.6])
        #expect(throws: AnalysisError.nonFinite(what: "mask maps [1, 2, 2]", index: 1, value: "NaN")) { try DINOMasks.masks(maps) }
        #expect(throws: AnalysisError.nonFinite(what: "mask values", index: 2, value: "inf")) { try DINOMasks.keep([0.1, 0.2, .infinity]) }
        #expect("\(AnalysisError.nonFinite(what: "mask values", index: 2, value: "inf"))" == "mask values holds inf at index 2; analyses take only finite values")
    }
}
