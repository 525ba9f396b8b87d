import Foundation
import Testing
@testable import ViTLensCore
import ViTLensTestSupport

/// Fast kernels against straightforward double-precision references.
@Suite struct KernelTests {
    /// Deterministic pseudo-random values in [-scale, scale].
    static func values(_ n: Int, seed: UInt64, scale: Float = 4) -> [Float] { seededValues(n, seed: seed, scale: scale) }

    @Test func exp16MatchesLibm() {
        var worst: Double = 0
        for start in stride(from: Float(-87), to: 88, by: 0.37) {
            let x = SIMD16<Float>((0 ..< 16).map { start + Float($0) * 0.023 })
            let y = Kernels.exp16(x)
            for i in 0 ..< 16 {
                let ref = Foundation.exp(Double(x[i]))
                worst = max(worst, abs(Double(y[i]) - ref) / ref)
            }
        }
        #expect(worst < 4e-7, "max relative error \(worst)")
        let edge = Kernels.exp16(SIMD16<Float>(repeating: -200))
        #expect(edge[0] == 0)
        let neg = Kernels.exp16(SIMD16<Float>(repeating: -.infinity))
        #expect(neg[3] == 0)
    }

    @Test(arguments: [1, 15, 16, 17, 197, 1370])
    func softmaxMatchesReference(_ n: Int) {
        var row = Self.values(n, seed: UInt64(n), scale: 20)
        let ref: [Double] = {
            let m = row.map(Double.init).max()!
            let e = row.map { Foundation.exp(Double($0) - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }()
        row.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, count: n) }
        let worst = zip(row, ref).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 3e-7, "max abs error \(worst)")
        #expect(abs(row.reduce(0, +) - 1) < 1e-5)
    }

    @Test func softmaxOfMaskedRowIsZero() {
        var row: [Float] = [-.infinity, -.infinity, -.infinity]
        row.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, count: 3) }
        #expect(row == [0, 0, 0])
    }

    /// LayerNorm and its statistics against a double reference: a row length that is a multiple of 16,
    /// lengths with a vector tail, and rows far from zero (the two-pass variance must not cancel;
    /// inputs near 300 carry float32 rounding of 1.5e-5 in the mean, amplified by 1/std).
    @Test(arguments: [(37, 384, Float(0), Float(1e-6), 2e-6), (5, 389, 300, 1e-5, 1e-4), (3, 768, 300, 1e-5, 1e-4), (4, 15, 300, 1e-5, 1e-4)])
    func layerNormMatchesReference(_ c: (rows: Int, cols: Int, offset: Float, eps: Float, tolerance: Double)) {
        let (rows, cols) = (c.rows, c.cols)
        let x = Self.values(rows * cols, seed: UInt64(cols), scale: 3).map { $0 + c.offset }
        let g = Self.values(cols, seed: 8, scale: 1)
        let b = Self.values(cols, seed: 9, scale: 1)
        var y = [Float](repeating: 0, count: rows * cols)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            Kernels.layerNorm(xp.baseAddress!, rows: rows, cols: cols, gamma: g, beta: b, eps: c.eps, out: yp.baseAddress!)
        } }
        let eps = Double(c.eps)
        var worst: Double = 0
        for r in 0 ..< rows {
            let row = x[(r * cols) ..< ((r + 1) * cols)].map(Double.init)
            let mean = row.reduce(0, +) / Double(cols)
            let v = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            let stats = x.withUnsafeBufferPointer { Kernels.layerNormStatistics($0.baseAddress! + r * cols, cols: cols, eps: c.eps) }
            #expect(abs(Double(stats.mean) - mean) < c.tolerance)
            #expect(abs(Double(stats.inverseStd) * (v + eps).squareRoot() - 1) < 1e-5)
            for col in 0 ..< cols {
                let ref = (row[col] - mean) / (v + eps).squareRoot() * Double(g[col]) + Double(b[col])
                worst = max(worst, abs(Double(y[r * cols + col]) - ref))
            }
        }
        #expect(worst < c.tolerance, "rows \(rows) cols \(cols) offset \(c.offset): max abs error \(worst)")
    }

    /// The vector tail of a row: its maximum, masked (-inf) keys and all-but-one masked.
    @Test func softmaxTailHoldsMaximumAndMaskedKeys() {
        var row = Self.values(37, seed: 11, scale: 3)
        row[35] = 9
        row[33] = -.infinity
        row[2] = -.infinity
        let input = row
        row.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, count: 37) }
        let e = input.map { $0 == -.infinity ? 0 : Foundation.exp(Double($0) - 9) }
        let s = e.reduce(0, +)
        for i in 0 ..< 37 { #expect(abs(Double(row[i]) - e[i] / s) < 3e-7, "index \(i)") }
        #expect(row[33] == 0 && row[2] == 0)

        var single = [Float](repeating: -.infinity, count: 20)
        single[18] = -3
        single.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, count: 20) }
        #expect(single == (0 ..< 20).map { $0 == 18 ? 1 : 0 })
    }

    @Test func fillRowsCopiesTheVectorIntoEveryRow() {
        let cols = 77, rows = 1_000
        let v = Self.values(cols, seed: 5)
        var x = [Float](repeating: .nan, count: rows * cols)
        x.withUnsafeMutableBufferPointer { Kernels.fillRows($0.baseAddress!, rows: rows, cols: cols, with: v) }
        for r in stride(from: 0, to: rows, by: 97) { #expect(Array(x[(r * cols) ..< ((r + 1) * cols)]) == v) }
        #expect(!x.contains { $0.isNaN })
    }

    @Test func activationsMatchDefinitions() {
        let x = Self.values(4096, seed: 3, scale: 6)
        var g = x, t = x, q = x, r = x
        g.withUnsafeMutableBufferPointer { Kernels.gelu($0.baseAddress!, count: x.count) }
        t.withUnsafeMutableBufferPointer { Kernels.geluTanh($0.baseAddress!, count: x.count) }
        q.withUnsafeMutableBufferPointer { Kernels.quickGELU($0.baseAddress!, count: x.count) }
        r.withUnsafeMutableBufferPointer { Kernels.relu($0.baseAddress!, count: x.count) }
        for i in stride(from: 0, to: x.count, by: 7) {
            let v = Double(x[i])
            #expect(abs(Double(g[i]) - 0.5 * v * (1 + erf(v / 2.0.squareRoot()))) < 1e-6)
            #expect(abs(Double(t[i]) - 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))) < 1e-6)
            #expect(abs(Double(q[i]) - v / (1 + Foundation.exp(-1.702 * v))) < 1e-6)
            #expect(Double(r[i]) == max(0, v))
        }
    }

    @Test func sgemmWithStridesAndTranspose() {
        // C[2,3] = A[2,4] (a column slice of a [2,6] buffer) * B^T where B is [3,4].
        let a: [Float] = [1, 2, 3, 4, 9, 9, 5, 6, 7, 8, 9, 9]
        let b: [Float] = [1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1]
        var c = [Float](repeating: -1, count: 6)
        BLAS.sgemm(transB: true, m: 2, n: 3, k: 4, a: a, lda: 6, b: b, ldb: 4, c: &c, ldc: 3)
        #expect(c == [1, 2, 10, 5, 6, 26])
    }

    @Test func chunkedLoopsCoverEveryIndexOnce() {
        var hits = [Int](repeating: 0, count: 100_003)
        hits.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let p = buf.baseAddress!
            Compute.forEachChunk(buf.count, costPerItem: 100) { r in for i in r { p[i] += 1 } }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }
}
