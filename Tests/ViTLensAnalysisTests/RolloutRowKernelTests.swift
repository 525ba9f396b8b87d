import Foundation
import Testing
@testable import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// The last head of a mean-fused layer is finished in two passes per row (add, divide, residual and
/// the float16 copy fused); every entry must be bit for bit what the unfused path gives: the add
/// and division over the block, ``Rollout/addResidualRow(_:diagonal:n:_:)``, then
/// ``RolloutHalfLayer/store(row:from:)``.
@Suite struct RolloutRowKernelTests {
    /// Softmax-like rows (positive, summing to about 1/heads per head) from seeded values.
    static func rows(_ count: Int, seed: UInt64) -> [Float] {
        seededValues(count, seed: seed).map {
            let u = ($0 + 1) / 2
            return u * u * u * 2 / 97
        }
    }

    /// Lengths with and without a 16-lane tail, and diagonals inside the lanes and in the tail.
    @Test(arguments: [Rollout.Residual.identityRenormalized, .halfIdentity, .none])
    func fusedLastHeadEqualsTheUnfusedPath(_ residual: Rollout.Residual) {
        for n in [1, 15, 16, 17, 97, 197, 3_601] {
            let heads = 6
            let sumOfFirst = Self.rows(n, seed: UInt64(n)), last = Self.rows(n, seed: UInt64(n) + 99)
            for diagonal in Set([0, n / 2, n - 1]) {
                // Unfused: add the last head, divide, residual, store.
                var plain = sumOfFirst
                for j in 0 ..< n { plain[j] += last[j] }
                for j in 0 ..< n { plain[j] /= Float(heads) }
                let expected = RolloutHalfLayer(tokens: n)
                let plainInRange = plain.withUnsafeMutableBufferPointer { p -> Bool in
                    let base = p.baseAddress!
                    Rollout.addResidualRow(base, diagonal: diagonal, n: n, residual)
                    return expected.store(row: diagonal, from: base)
                }
                // Fused.
                var fused = sumOfFirst
                let got = RolloutHalfLayer(tokens: n)
                let fusedInRange = fused.withUnsafeMutableBufferPointer { f in
                    last.withUnsafeBufferPointer { l in
                        RolloutRowKernel.finishMeanRow(f.baseAddress!, adding: l.baseAddress!, heads: Float(heads), diagonal: diagonal,
                                                       n: n, residual, into: got)
                    }
                }
                #expect(fusedInRange == plainInRange)
                #expect(fused.map(\.bitPattern) == plain.map(\.bitPattern), "n \(n) diagonal \(diagonal): float row")
                let row = diagonal * n
                let halves = (0 ..< n).map { got.values.pointer[row + $0].bitPattern }
                let expectedHalves = (0 ..< n).map { expected.values.pointer[row + $0].bitPattern }
                #expect(halves == expectedHalves, "n \(n) diagonal \(diagonal): float16 row")
                #expect(got.diagonal.pointer[diagonal].bitPattern == expected.diagonal.pointer[diagonal].bitPattern)
            }
        }
    }
}
