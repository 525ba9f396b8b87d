import Testing
import ViTLensAnalysis

/// The trapezoid AUC on curves whose area is known.
@Suite struct FaithfulnessCurveTests {
    @Test func constantCurveHasItsValueAsAUC() {
        let x = (0 ... 16).map { Double($0) / 16 }
        #expect(abs(FaithfulnessCurve(fractions: x, values: x.map { _ in 0.7 }).auc - 0.7) < 1e-12)
    }

    /// The trapezoid rule is exact on lines: y = 1 - x has area 1/2 on any grid, also uneven ones.
    @Test func linearCurveIsExact() {
        let x = [0, 0.1, 0.25, 0.7, 1]
        #expect(abs(FaithfulnessCurve(fractions: x, values: x.map { 1 - $0 }).auc - 0.5) < 1e-12)
        #expect(FaithfulnessCurve(fractions: [0], values: [3]).auc == 0)
    }
}
