import CViTLensKernels
import Foundation
import Testing
import ViTLensTestSupport

/// The packed attention product (Sources/CViTLensKernels) against a double-precision reference, on
/// the shapes attention gives it (QKᵀ with packed keys, PV with packed values) and on ragged edges:
/// row counts that are not multiples of the 14-row tile, column counts that are not multiples of the
/// 32-wide panel, strided operands, and output columns next to the product left untouched.
@Suite struct PackedKernelTests {
    @Test func packingLaysOutPanelsWithZeroPadding() {
        // x[3][2] with row stride 4: rows packed as keys (panels of 32 rows) and as values (panels of 32 columns).
        let x: [Float] = [1, 2, 9, 9, 3, 4, 9, 9, 5, 6, 9, 9]
        #expect(vitlens_packed_rows_count(3, 2) == 64 && vitlens_packed_columns_count(3, 2) == 96)
        var rows = [Float](repeating: .nan, count: 64)
        vitlens_pack_rows(x, 4, 3, 2, &rows)
        #expect(Array(rows[0 ..< 4]) == [1, 3, 5, 0] && Array(rows[32 ..< 36]) == [2, 4, 6, 0])
        #expect(rows.allSatisfy { !$0.isNaN } && rows.filter { $0 != 0 }.count == 6)
        var cols = [Float](repeating: .nan, count: 96)
        vitlens_pack_columns(x, 4, 3, 2, &cols)
        #expect(Array(cols[0 ..< 3]) == [1, 2, 0] && Array(cols[32 ..< 34]) == [3, 4] && Array(cols[64 ..< 66]) == [5, 6])
        #expect(cols.allSatisfy { !$0.isNaN } && cols.filter { $0 != 0 }.count == 6)
    }

    /// (m, n, k): QKᵀ-like (k = head width) and PV-like (n = head width) shapes with ragged edges.
    @Test(.enabled(if: vitlens_packed_available() == 1, "this CPU has no AVX-512 F: BLAS does the products"),
          arguments: [(1, 1, 1), (14, 32, 64), (15, 33, 16), (99, 197, 64), (13, 64, 197), (128, 80, 300), (29, 7, 5)])
    func productsMatchReference(_ shape: (m: Int, n: Int, k: Int)) throws {
        let (m, n, k) = shape
        let lda = k + 3, ldc = n + 5
        let a = seededValues(m * lda, seed: UInt64(m * 7 + k))
        let bRows = seededValues(n * (k + 2), seed: UInt64(n * 3 + 1))  // Bᵀ as [n][k], stride k + 2
        let bCols = seededValues(k * (n + 1), seed: UInt64(k * 5 + 2))  // B as [k][n], stride n + 1
        let alpha: Float = 0.125
        var packedRows = [Float](repeating: 0, count: vitlens_packed_rows_count(Int32(n), Int32(k)))
        vitlens_pack_rows(bRows, Int32(k + 2), Int32(n), Int32(k), &packedRows)
        var packedCols = [Float](repeating: 0, count: vitlens_packed_columns_count(Int32(k), Int32(n)))
        vitlens_pack_columns(bCols, Int32(n + 1), Int32(k), Int32(n), &packedCols)
        for (packed, bAt) in [(packedRows, { (i: Int, j: Int) in bRows[j * (k + 2) + i] }), (packedCols, { (i: Int, j: Int) in bCols[i * (n + 1) + j] })] {
            var c = [Float](repeating: 7, count: m * ldc)
            vitlens_packed_gemm(Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), packed, &c, Int32(ldc))
            var worst: Double = 0
            for r in 0 ..< m {
                for j in 0 ..< n {
                    var ref = 0.0
                    for i in 0 ..< k { ref += Double(a[r * lda + i]) * Double(bAt(i, j)) }
                    worst = max(worst, abs(Double(c[r * ldc + j]) - Double(alpha) * ref))
                }
                for j in n ..< ldc { #expect(c[r * ldc + j] == 7, "column \(j) past the product was written") }
            }
            #expect(worst < 1e-5 * Double(k).squareRoot(), "m \(m) n \(n) k \(k): max abs error \(worst)")
        }
    }

    /// The AVX-512 softmax against a double-precision softmax on row lengths around the 16-lane
    /// vector (tails of 0...15 entries), with masked (-inf) keys, scores far below the row maximum,
    /// a strided row layout and an all -inf row (zeros); entries past each row are left untouched.
    @Test(.enabled(if: vitlens_packed_available() == 1, "this CPU has no AVX-512 F: the Swift softmax runs"),
          arguments: [1, 5, 15, 16, 17, 33, 197, 3601])
    func softmaxMatchesReference(_ n: Int) {
        let rows = 4, ld = n + 3
        var x = seededValues(rows * ld, seed: UInt64(n), scale: 8)
        for j in stride(from: 0, to: n, by: 3) { x[ld + j] = -.infinity }  // row 1: every third key masked
        x[2 * ld] = 120  // row 2: the rest lie 100 or more below the maximum (exp underflows to 0)
        for j in 0 ..< n { x[3 * ld + j] = -.infinity }  // row 3: nothing to attend to
        for r in 0 ..< rows { for j in n ..< ld { x[r * ld + j] = 42 } }
        let input = x
        #expect(vitlens_softmax_rows(&x, Int32(rows), Int32(n), Int32(ld), 0) == -1)
        for r in 0 ..< rows {
            let row = input[(r * ld) ..< (r * ld + n)].map(Double.init)
            let m = row.max()!
            let e = row.map { m == -.infinity ? 0 : Foundation.exp($0 - m) }
            let sum = e.reduce(0, +)
            for j in 0 ..< n {
                let ref = sum > 0 ? e[j] / sum : 0
                #expect(abs(Double(x[r * ld + j]) - ref) <= 2e-6 * ref + 1e-37, "n \(n) row \(r) key \(j): \(x[r * ld + j]) vs \(ref)")
            }
            for j in n ..< ld { #expect(x[r * ld + j] == 42, "entry \(j) past row \(r) was written") }
        }
        #expect(x[(3 * ld) ..< (3 * ld + n)].allSatisfy { $0 == 0 })
    }

    /// With `check` the softmax reports the first row holding a NaN or an infinity (before the
    /// softmax); without it, -1 whatever the rows hold.
    @Test(.enabled(if: vitlens_packed_available() == 1, "this CPU has no AVX-512 F: the Swift softmax runs"),
          arguments: [Float.nan, .infinity, -.infinity])
    func softmaxReportsTheFirstNonFiniteRow(_ bad: Float) {
        for (n, at) in [(197, 196), (16, 3), (40, 33)] {
            let rows = 5
            var x = seededValues(rows * n, seed: 3)
            x[2 * n + at] = bad
            x[4 * n] = bad
            var copy = x
            #expect(vitlens_softmax_rows(&x, Int32(rows), Int32(n), Int32(n), 1) == 2, "n \(n), \(bad) at key \(at)")
            #expect(vitlens_softmax_rows(&copy, Int32(rows), Int32(n), Int32(n), 0) == -1)
            var clean = seededValues(rows * n, seed: 4)
            #expect(vitlens_softmax_rows(&clean, Int32(rows), Int32(n), Int32(n), 1) == -1)
        }
    }
}
