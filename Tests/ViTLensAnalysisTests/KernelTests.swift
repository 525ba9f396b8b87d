import Foundation
import Testing
import ViTLensTestSupport
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

    /// The half-precision row-times-matrix equals the float one on the widened matrix bit for bit:
    /// 531 columns (two column blocks, a tail of 3), zeros in `x` skipped, the diagonal exact.
    @Test func rowTimesHalfMatrixEqualsTheWidenedFloatProduct() {
        let n = 531
        var state: UInt64 = 7
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        let a = (0 ..< n * n).map { _ in next() * next() * next() }
        var half = [Float16](repeating: 0, count: n * n)
        let inRange = a.withUnsafeBufferPointer { src in
            half.withUnsafeMutableBufferPointer { AnalysisKernels.narrow(src.baseAddress!, $0.baseAddress!, count: n * n, scale: 32_768) }
        }
        #expect(inRange)
        #expect(half == a.map { Float16($0 * 32_768) })
        let diagonal = (0 ..< n).map { a[$0 * n + $0] }
        var widened = half.map { Float($0) / 32_768 }
        for i in 0 ..< n { widened[i * n + i] = diagonal[i] }
        let x = (0 ..< n).map { Double($0 % 7 == 3 ? 0 : next()) }
        let want = widened.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(x, $0, n: n) }
        let got = half.withUnsafeBufferPointer { h in
            diagonal.withUnsafeBufferPointer { AnalysisKernels.rowTimesHalfMatrix(x, h.baseAddress!, diagonal: $0.baseAddress!, unscale: 0x1p-15, n: n) }
        }
        #expect(got == want)
        #expect(widened != a)
    }

    /// The products sum every entry over k ascending whatever the column blocks (one per thread,
    /// at least 512 wide): bit for bit a plain double loop, at 1,100 columns (blocks of 512 or 560,
    /// and a tail), in float and in half precision.
    @Test func rowTimesMatrixEqualsAPlainLoopAcrossBlocks() {
        let n = 1_100
        let u = seededValues(2 * n * n + n, seed: 11).map { ($0 + 1) / 2 }  // in [0, 1)
        let m = (0 ..< n * n).map { u[2 * $0] * u[2 * $0 + 1] }
        let x = (0 ..< n).map { Double($0 % 5 == 1 ? 0 : u[2 * n * n + $0]) }
        var want = [Double](repeating: 0, count: n)
        for k in 0 ..< n where x[k] != 0 { for j in 0 ..< n { want[j] += x[k] * Double(m[k * n + j]) } }
        let got = m.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(x, $0, n: n) }
        #expect(got.count == n && zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count == 0, "float: entries differ from the plain loop")

        let half = m.map { Float16($0 * 32_768) }
        let diagonal = (0 ..< n).map { m[$0 * n + $0] }
        var wantHalf = [Double](repeating: 0, count: n)
        for k in 0 ..< n where x[k] != 0 {
            for j in 0 ..< n { wantHalf[j] += x[k] * Double(j == k ? diagonal[k] : Float(half[k * n + j]) * 0x1p-15) }
        }
        let gotHalf = half.withUnsafeBufferPointer { h in
            diagonal.withUnsafeBufferPointer { AnalysisKernels.rowTimesHalfMatrix(x, h.baseAddress!, diagonal: $0.baseAddress!, unscale: 0x1p-15, n: n) }
        }
        #expect(gotHalf.count == n && zip(gotHalf, wantHalf).filter { $0.bitPattern != $1.bitPattern }.count == 0,
                "float16: entries differ from the plain loop")
    }

    /// `narrow` rounds to nearest even, flags values beyond ±65,504 (which would become ∞) in the
    /// vector body and in the tail, and keeps NaN.
    @Test func narrowFlagsValuesBeyondTheHalfRange() {
        func run(_ values: [Float]) -> (Bool, [Float16]) {
            var out = [Float16](repeating: 0, count: values.count)
            let ok = values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { AnalysisKernels.narrow(v.baseAddress!, $0.baseAddress!, count: values.count, scale: 1) }
            }
            return (ok, out)
        }
        var values = [Float](repeating: 0.25, count: 19)
        values[3] = 65_504
        values[4] = -65_504
        values[5] = 2049  // a tie between 2048 and 2050: to even, 2048
        values[18] = 2051  // a tie in the tail: 2052
        let (ok, out) = run(values)
        #expect(ok && out[3] == 65_504 && out[4] == -65_504 && out[5] == 2048 && out[18] == 2052)
        for (index, bad) in [(7, Float(65_520)), (7, -Float.infinity), (17, Float(70_000)), (17, .infinity)] {
            var v = values
            v[index] = bad
            #expect(!run(v).0, "\(bad) at \(index)")
        }
        values[2] = .nan
        values[17] = .nan
        let (_, nan) = run(values)
        #expect(nan[2].isNaN && nan[17].isNaN)
    }
}
