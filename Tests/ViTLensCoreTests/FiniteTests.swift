import Testing
import ViTLensCore

@Suite struct FiniteTests {
    /// Every position (vector body and scalar tail) and every kind of non-finite value is found.
    @Test(arguments: [Float.nan, .infinity, -.infinity, -Float.nan, Float(bitPattern: 0x7F80_0001)])
    func findsTheFirstNonFiniteValue(_ bad: Float) {
        for count in [1, 15, 16, 17, 64, 1000] {
            for position in Set([0, count / 2, count - 1]) {
                var x = [Float](repeating: 1.5, count: count)
                x[position] = bad
                if position + 1 < count { x[count - 1] = .nan }
                #expect(Finite.firstNonFinite(x) == position, "count \(count), position \(position)")
            }
        }
    }

    @Test func finiteExtremesAreFinite() {
        let x: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
                          -.leastNormalMagnitude, 0, -0.0, 1]
        #expect(Finite.firstNonFinite(x) == nil)
        #expect(Finite.firstNonFinite([]) == nil)
        #expect([Float.nan, .infinity, -.infinity, 2].map(Finite.describe) == ["NaN", "inf", "-inf", "2.0"])
    }
}
