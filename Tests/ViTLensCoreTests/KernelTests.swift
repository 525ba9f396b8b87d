import Foundation
import Testing
@testable import ViTLensCore

/// Fast kernels against straightforward double-precision references.
@Suite struct KernelTests {
    /// Deterministic pseudo-random values in [-scale, scale].
    static func values(_ n: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var s = seed
        return (0 ..< n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

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

    @Test func layerNormMatchesReference() {
        let rows = 37, cols = 384
        let x = Self.values(rows * cols, seed: 7, scale: 3)
        let g = Self.values(cols, seed: 8, scale: 1)
        let b = Self.values(cols, seed: 9, scale: 1)
        var y = [Float](repeating: 0, count: rows * cols)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            Kernels.layerNorm(xp.baseAddress!, rows: rows, cols: cols, gamma: g, beta: b, eps: 1e-6, out: yp.baseAddress!)
        } }
        var worst: Double = 0
        for r in 0 ..< rows {
            let row = x[(r * cols) ..< ((r + 1) * cols)].map(Double.init)
            let mean = row.reduce(0, +) / Double(cols)
            let v = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            for c in 0 ..< cols {
                let ref = (row[c] - mean) / (v + 1e-6).squareRoot() * Double(g[c]) + Double(b[c])
                worst = max(worst, abs(Double(y[r * cols + c]) - ref))
            }
        }
        #expect(worst < 2e-6, "max abs error \(worst)")
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
