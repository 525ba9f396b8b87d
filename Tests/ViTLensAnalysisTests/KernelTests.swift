import Foundation
import Testing
@testable import ViTLensAnalysis

@Suite struct KernelTests {
    /// The vector log agrees with libm's `logf` across the normal range (relative 3e-7, absolute
    /// 3e-7 near 1 where the log crosses zero).
    @Test func vectorLogMatchesLibm() {
        var worst: Float = 0
        var x = Float.leastNormalMagnitude
        while x < 1e30 {
            let lanes = SIMD8<Float>(x, x * 1.1, x * 1.3, x * 1.41, x * 1.42, x * 1.6, x * 1.9, x * 1.99)
            let got = AnalysisKernels.log(lanes)
            for i in 0 ..< 8 {
                let want = logf(lanes[i])
                worst = max(worst, abs(got[i] - want) / max(abs(want), 1))
            }
            x *= 1.37
        }
        #expect(worst < 3e-7)
        #expect(AnalysisKernels.log(SIMD8(repeating: 1))[0] == 0)
    }

    @Test func plogpHandlesZerosAndTails() {
        // 11 values: one vector block and a 3-value tail, zeros and a subnormal included.
        let p: [Float] = [0.5, 0, 0.25, 0.125, 0, Float(bitPattern: 0x0001_16C2), 0.0625, 0.03125, 0.03125, 0, 0]
        var expected = 0.0
        for x in p where x >= Float.leastNormalMagnitude { expected += Double(x) * log(Double(x)) }
        let got = p.withUnsafeBufferPointer { AnalysisKernels.plogp($0.baseAddress!, $0.count) }
        #expect(abs(got - expected) < 1e-6)
    }

    @Test func selectFindsOrderStatistics() {
        var values: [Float] = [5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
        let sorted = values.sorted()
        for k in values.indices {
            var copy = values
            let v = copy.withUnsafeMutableBufferPointer { Rollout.select($0.baseAddress!, count: $0.count, k: k) }
            #expect(v == sorted[k])
        }
        values = [Float](repeating: 2, count: 50)
        #expect(values.withUnsafeMutableBufferPointer { Rollout.select($0.baseAddress!, count: 50, k: 17) } == 2)
    }
}
