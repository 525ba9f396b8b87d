import Testing
import ViTLensCore
@testable import ViTLensRender

@Suite("MapNormalization")
struct NormalizationTests {
    let map = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])

    @Test func maxDividesByMaximum() throws {
        let n = try MapNormalization.max.apply(map)
        #expect(n.low == 0 && n.high == 6)
        #expect(n.values.shape == [2, 3])
        #expect(n.values.values == [1, 2, 3, 4, 5, 6].map { Float($0) / 6 })
    }

    @Test func minMaxStretches() throws {
        let n = try MapNormalization.minMax.apply(map)
        #expect(n.low == 1 && n.high == 6)
        #expect(n.values.values == [0, 0.2, 0.4, 0.6, 0.8, 1])
    }

    @Test func fixedClampsOutside() throws {
        let n = try MapNormalization.fixed(low: 2, high: 4).apply(map)
        #expect(n.low == 2 && n.high == 4)
        #expect(n.values.values == [0, 0, 0.5, 1, 1, 1])
        #expect(throws: RenderError.self) { try MapNormalization.fixed(low: 3, high: 3).apply(map) }
        #expect(throws: RenderError.self) { try MapNormalization.fixed(low: 0, high: .infinity).apply(map) }
    }

    /// `np.percentile([1..6], 90)` = 5.5; `np.percentile(arange(11), 37)` = 3.7.
    @Test func percentileMatchesNumPyLinear() throws {
        let n = try MapNormalization.percentile(90).apply(map)
        #expect(n.low == 1 && n.high == 5.5)
        let expected = [0, 2.0 / 9, 4.0 / 9, 6.0 / 9, 8.0 / 9, 1]
        #expect(zip(n.values.values, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(n.values.values)")
        let r = try MapNormalization.percentile(37).range(of: (0 ... 10).map { Float($0) }.reversed())
        #expect(abs(r.high - 3.7) < 1e-6 && r.low == 0)
        #expect(try MapNormalization.percentile(100).range(of: [3, 1, 2]).high == 3)
        #expect(try MapNormalization.percentile(0).range(of: [3, 1, 2]).high == 1)
        #expect(throws: RenderError.self) { try MapNormalization.percentile(101).apply(map) }
        #expect(throws: RenderError.self) { try MapNormalization.percentile(-1).apply(map) }
    }

    @Test(arguments: [MapNormalization.max, .minMax, .percentile(99)])
    func constantMapGivesZerosWithoutDividing(_ mode: MapNormalization) throws {
        let n = try mode.apply(Tensor(shape: [2, 2], values: [0, 0, 0, 0]))
        #expect(n.values.values == [0, 0, 0, 0])
        #expect(n.low == 0 && n.high == 0)
        // A positive constant: `.max` divides by it (all 1); min-max and percentile ranges are degenerate (all 0).
        let c = try mode.apply(Tensor(shape: [3], values: [2.5, 2.5, 2.5]))
        let expected: Float = mode == .max ? 1 : 0
        #expect(c.values.values == [expected, expected, expected])
        #expect(c.high == 2.5 && c.low == (mode == .max ? 0 : 2.5))
    }

    @Test func spikeAbovePercentileSaturates() throws {
        var values = [Float](repeating: 0, count: 100)
        values[7] = 50
        let n = try MapNormalization.percentile(98).apply(Tensor(shape: [100], values: values))
        #expect(n.low == 0 && n.high == 0)
        #expect(n.values.values[7] == 1)
        #expect(n.values.values.filter { $0 != 0 }.count == 1)
    }

    @Test func nanPassesThroughAndIsIgnoredInStatistics() throws {
        let n = try MapNormalization.minMax.apply(Tensor(shape: [4], values: [.nan, 2, 4, .infinity]))
        #expect(n.low == 2 && n.high == 4)
        #expect(n.values.values[0].isNaN)
        #expect(Array(n.values.values[1...]) == [0, 1, 1])
        let allNaN = try MapNormalization.max.apply(Tensor(shape: [2], values: [.nan, .nan]))
        #expect(allNaN.low == 0 && allNaN.high == 0 && allNaN.values.values.allSatisfy(\.isNaN))
    }
}
