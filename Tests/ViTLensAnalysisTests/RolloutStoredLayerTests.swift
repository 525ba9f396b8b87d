import Foundation
import Testing
@testable import ViTLensAnalysis
import ViTLensCore

/// The constants of the error bound in ``Rollout/StoredPrecision``.
enum HalfPrecisionBound {
    /// Relative error of one stored entry, `2⁻¹¹` (float16's unit roundoff).
    static let u = 0x1p-11
    /// Absolute error of one stored entry below float16's normal range, `2⁻²⁵ · 2⁻¹⁵`.
    static let eta = 0x1p-40

    /// `(1 + u)^L − 1`, the relative part of the bound after `L` layers.
    static func relative(layers: Int) -> Double { pow(1 + u, Double(layers)) - 1 }
}

/// Half-precision stored layers, proved against a plain reference: a seeded random attention with a
/// realistic spread is fed layer by layer (as a forward pass would, row statistics first) to a
/// float16 and a float32 rollout, while the test builds each layer's `Â` itself.
@Suite struct RolloutStoredLayerTests {
    struct Case: Sendable, CustomStringConvertible {
        var side: Int
        var heads: Int
        var seed: UInt64
        var fusion: HeadFusion = .mean
        var tokens: Int { side * side + 1 }
        var description: String { "\(tokens) tokens, \(heads) heads, \(fusion) fusion" }
    }

    static let layers = 12

    /// 65,536 standard normal samples (Box-Muller over a fixed LCG), drawn from by ``attention(_:layer:)``.
    static let gaussians: [Double] = {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        var g: [Double] = []
        for _ in 0 ..< 1 << 15 {
            let r = (-2 * log(uniform())).squareRoot(), t = 2 * Double.pi * uniform()
            g += [r * cos(t), r * sin(t)]
        }
        return g
    }()

    /// One layer `[heads, N, N]` of softmax rows over Gaussian logits `σ_h · g` (σ from 0.5 to 5 by
    /// head and layer, so some heads are nearly flat and some put entries far below 2⁻²⁹), with an
    /// attention sink on the CLS column in head 0.
    static func attention(_ c: Case, layer: Int) -> [Float] {
        let n = c.tokens
        var state = (c.seed &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(layer + 1) &* 0xBF58_476D_1CE4_E5B9)
        let sigmas: [Double] = [0.5, 1.5, 3, 5]
        var p = [Float](repeating: 0, count: c.heads * n * n)
        var e = [Double](repeating: 0, count: n)
        gaussians.withUnsafeBufferPointer { g in
            p.withUnsafeMutableBufferPointer { out in
                e.withUnsafeMutableBufferPointer { e in
                    for h in 0 ..< c.heads {
                        let sigma = sigmas[(h + layer) % sigmas.count]
                        for i in 0 ..< n {
                            var m = -Double.infinity
                            for j in 0 ..< n {
                                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                                e[j] = sigma * g[Int(state >> 48)] + (h == 0 && j == 0 ? 4 : 0)
                                m = max(m, e[j])
                            }
                            var s = 0.0
                            for j in 0 ..< n {
                                e[j] = exp(e[j] - m)
                                s += e[j]
                            }
                            let row = (h * n + i) * n
                            for j in 0 ..< n { out[row + j] = Float(e[j] / s) }
                        }
                    }
                }
            }
        }
        return p
    }

    /// `Â` as the in-pass kernel computes it for mean fusion: head 0, then `+=` each head in turn,
    /// `/ heads`, then the residual row by row.
    static func kernelLayer(_ p: [Float], heads: Int, n: Int, residual: Rollout.Residual) -> [Float] {
        var out = Array(p[0 ..< n * n])
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            p.withUnsafeBufferPointer { src in
                for h in 1 ..< heads {
                    for i in 0 ..< n * n { o[i] += src[h * n * n + i] }
                }
            }
            let hf = Float(heads)
            for i in 0 ..< n * n { o[i] /= hf }
            for r in 0 ..< n { Rollout.addResidualRow(base + r * n, diagonal: r, n: n, residual) }
        }
        return out
    }

    /// `Â` as ``Rollout/observe(_:)`` prepares a whole layer (fusion, discard, residual).
    static func wholeLayer(_ p: [Float], heads: Int, n: Int, options: Rollout.Options, cls: Int?) -> [Float] {
        var out = [Float](repeating: 0, count: n * n)
        var scratch = [Float](repeating: 0, count: n * n)
        p.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { o in
                guard let m = o.baseAddress else { return }
                options.fusion.fuse(heads: heads, from: src, into: o)
                scratch.withUnsafeMutableBufferPointer { s in
                    guard let sp = s.baseAddress, options.discardRatio > 0 else { return }
                    Rollout.discard(m, n: n, ratio: options.discardRatio, mode: options.discardMode, cls: cls, scratch: sp)
                }
                Rollout.addResidual(m, n: n, options.residual)
            }
        }
        return out
    }

    /// The stored value of entry `(k, j)` at half precision: `Float16(a · 32768)` off the diagonal.
    static func halfEntry(_ a: Float, diagonal: Bool) -> Float {
        diagonal ? a : Float(Float16(a * 32768)) / 32768
    }

    /// `xᵀ B` in double, `y_j += x_k · b_kj` with k ascending (the kernels' order).
    static func times(_ x: [Double], _ b: [Float], n: Int, half: Bool) -> [Double] {
        var y = [Double](repeating: 0, count: n)
        b.withUnsafeBufferPointer { m in
            y.withUnsafeMutableBufferPointer { yb in
                for k in 0 ..< n where x[k] != 0 {
                    let xk = x[k]
                    for j in 0 ..< n {
                        let a = m[k * n + j]
                        yb[j] += xk * Double(half ? halfEntry(a, diagonal: j == k) : a)
                    }
                }
            }
        }
        return y
    }

    /// One step of the bound's recursion: `e ← e B + u (x + e) B_off + η σ 𝟙ᵀ` (`x` and `σ = Σ y`
    /// before this layer).
    static func boundStep(_ e: [Double], x: [Double], sigma: Double, _ b: [Float], n: Int) -> [Double] {
        var next = [Double](repeating: HalfPrecisionBound.eta * sigma, count: n)
        let u = HalfPrecisionBound.u
        b.withUnsafeBufferPointer { m in
            next.withUnsafeMutableBufferPointer { out in
                for k in 0 ..< n {
                    let ek = e[k], wk = u * (x[k] + e[k])
                    if ek == 0 && wk == 0 { continue }
                    for j in 0 ..< n {
                        let a = Double(m[k * n + j])
                        out[j] += ek * a + (j == k ? 0 : wk * a)
                    }
                }
            }
        }
        return next
    }

    /// What one run measured, for the assertions.
    struct Run {
        var half: Rollout
        var single: Rollout
        var matrices: [[Float]]
    }

    /// Feeds `c`'s layers to a float16 and a float32 stored-layers rollout with `options`, and
    /// builds each layer's `Â` with `layer`.
    static func run(_ c: Case, options: Rollout.Options, layer: ([Float], Int) -> [Float]) throws -> Run {
        let n = c.tokens
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: c.side, columns: c.side, patchSize: 8))
        let geometry = AttentionGeometry(layers: layers, heads: c.heads, tokens: n, headDim: 0, layout: layout)
        var halfOptions = options, singleOptions = options
        halfOptions.strategy = .storedLayers
        halfOptions.storedPrecision = .float16
        singleOptions.strategy = .storedLayers
        singleOptions.storedPrecision = .float32
        var half = try Rollout(halfOptions), single = try Rollout(singleOptions)
        try half.begin(geometry)
        try single.begin(geometry)
        let halfStatistics = half.rowStatistics, singleStatistics = single.rowStatistics
        var matrices: [[Float]] = []
        for l in 0 ..< layers {
            let p = attention(c, layer: l)
            try p.withUnsafeBufferPointer { view in
                try half.replay(layer: l, heads: c.heads, tokens: n, layout: layout, probabilities: view, statistics: halfStatistics)
                try single.replay(layer: l, heads: c.heads, tokens: n, layout: layout, probabilities: view, statistics: singleStatistics)
            }
            matrices.append(layer(p, l))
        }
        try half.finish()
        try single.finish()
        return Run(half: half, single: single, matrices: matrices)
    }

    /// Runs `rollout` over ``layers`` layers of unvalidated attention (any values) made by `attention`.
    static func replayed(_ rollout: Rollout, heads: Int, layout: TokenLayout, _ attention: (Int) -> [Float]) throws -> Rollout {
        var r = rollout
        let n = layout.tokenCount
        try r.begin(AttentionGeometry(layers: layers, heads: heads, tokens: n, headDim: 0, layout: layout))
        let statistics = r.rowStatistics
        for l in 0 ..< layers {
            try attention(l).withUnsafeBufferPointer { view in
                try r.replay(layer: l, heads: heads, tokens: n, layout: layout, probabilities: view, statistics: statistics)
            }
        }
        try r.finish()
        return r
    }

    /// Checks (a) the element-wise bound, (b) the 1e-4, (c) both rollouts equal the plain
    /// references bit for bit, (d) the row sums; returns the largest difference.
    @discardableResult
    static func expectProved(_ r: Run, n: Int, label: String) throws -> Double {
        var x = [Double](repeating: 0, count: n)
        x[0] = 1  // CLS readout
        var y = x
        var e = [Double](repeating: 0, count: n)
        for b in r.matrices.reversed() {
            e = boundStep(e, x: x, sigma: y.reduce(0, +), b, n: n)
            x = times(x, b, n: n, half: false)
            y = times(y, b, n: n, half: true)
        }
        let row16 = try #require(r.half.result).row, row32 = try #require(r.single.result).row
        // (c) The observers compute exactly the plain references.
        #expect(row16 == y.map { Float($0) }, "\(label): float16 rollout differs from the reference")
        #expect(row32 == x.map { Float($0) }, "\(label): float32 rollout differs from the reference")
        // (a) The bound holds for every entry (double rounding, ~1e-13 relative, as slack), and the
        // closed form of the doc comment covers it.
        let relative = HalfPrecisionBound.relative(layers: layers)
        let closedAbsolute = 1.02 * Double(layers * n) * HalfPrecisionBound.eta
        var violations = 0
        for j in 0 ..< n {
            if abs(y[j] - x[j]) > e[j] * (1 + 1e-9) + 1e-300 { violations += 1 }
            if e[j] > relative * x[j] + closedAbsolute { violations += 1 }
        }
        #expect(violations == 0, "\(label): \(violations) entries outside the bound")
        // (b) The criterion.
        let worst = zip(row16, row32).map { Double(abs($0 - $1)) }.max() ?? .infinity
        #expect(worst <= 1e-4, "\(label): max |row16 - row32| = \(worst)")
        // (d) Row sums: the float32 row sums to 1 (row-stochastic layers) and the float16 row stays
        // within the summed bound of it.
        let sum16 = y.reduce(0, +), sum32 = x.reduce(0, +)
        #expect(abs(sum32 - 1) < 1e-5, "\(label): float32 row sums to \(sum32)")
        #expect(abs(sum16 - sum32) <= e.reduce(0, +), "\(label): float16 row sums to \(sum16)")
        #expect(abs(sum16 - sum32) <= relative + closedAbsolute * Double(n))
        return worst
    }

    /// Mean fusion at 197 and 1,025 tokens (above ``Rollout/Strategy/automaticFullProductLimit``),
    /// and min fusion, whose entries reach below `2⁻²⁹` (the bound's absolute term).
    @Test(arguments: [Case(side: 14, heads: 6, seed: 1), Case(side: 32, heads: 3, seed: 2), Case(side: 16, heads: 4, seed: 5, fusion: .min)])
    func halfPrecisionReadoutIsWithinTheProvedBound(_ c: Case) throws {
        let n = c.tokens
        let options = Rollout.Options(fusion: c.fusion)
        let r = try Self.run(c, options: options) { p, _ in
            c.fusion == .mean ? Self.kernelLayer(p, heads: c.heads, n: n, residual: .identityRenormalized)
                : Self.wholeLayer(p, heads: c.heads, n: n, options: options, cls: 0)
        }
        #expect(r.half.layersFusedInPass == Self.layers && r.half.layersStoredAtHalfPrecision == Self.layers)
        #expect(r.single.layersFusedInPass == Self.layers && r.single.layersStoredAtHalfPrecision == 0)
        let worst = try Self.expectProved(r, n: n, label: c.description)
        // Rounding did change the row (a test that cannot pass by storing float32).
        #expect(worst > 0)
        let smallest = r.matrices.map { m in m.filter { $0 > 0 }.min() ?? 1 }.min() ?? 1
        if c.fusion == .min { #expect(smallest < 0x1p-29) }
    }

    /// Global discard needs whole layers: fused after the pass, converted with `storeAll`.
    @Test func wholeLayerPathIsWithinTheProvedBound() throws {
        let c = Case(side: 16, heads: 4, seed: 3)
        let options = Rollout.Options(discardRatio: 0.5, discardMode: .global)
        let r = try Self.run(c, options: options) { p, _ in Self.wholeLayer(p, heads: c.heads, n: c.tokens, options: options, cls: 0) }
        #expect(r.half.layersFusedInPass == 0 && r.half.layersStoredAtHalfPrecision == Self.layers)
        try Self.expectProved(r, n: c.tokens, label: "global discard")
    }

    /// A layer with a value beyond float16's range after scaling (not a softmax: max fusion, no
    /// residual, an entry of 3) is kept float32 (not turned into ∞); the others are still float16,
    /// and the result is the reference with that one layer exact. NaN passes through.
    @Test func outOfRangeLayerStaysFloat32() throws {
        let c = Case(side: 4, heads: 2, seed: 4)
        let n = c.tokens
        let options = Rollout.Options(fusion: .max, residual: .none)
        let bad = 5
        func attention(_ l: Int) -> [Float] {
            var p = Self.attention(c, layer: l)
            if l == bad { p[3 * n + 7] = 3 }
            return p
        }
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: c.side, columns: c.side, patchSize: 8))
        var half = try Self.replayed(Rollout(.init(fusion: .max, residual: .none, strategy: .storedLayers)), heads: c.heads, layout: layout, attention)
        #expect(half.layersStoredAtHalfPrecision == Self.layers - 1 && half.layersFusedInPass == Self.layers)
        var y = [Double](repeating: 0, count: n)
        y[0] = 1
        for l in (0 ..< Self.layers).reversed() {
            let b = Self.wholeLayer(attention(l), heads: c.heads, n: n, options: options, cls: 0)
            y = Self.times(y, b, n: n, half: l != bad)
        }
        #expect(try #require(half.result).row == y.map { Float($0) })
        #expect(try #require(half.result).row.allSatisfy { $0.isFinite })
        // NaN is not hidden by the conversion.
        half = try Self.replayed(Rollout(.init(strategy: .storedLayers)), heads: c.heads, layout: layout) { l in
            var p = Self.attention(c, layer: l)
            if l == 2 { p[1] = .nan }
            return p
        }
        #expect(try #require(half.result).row.contains { $0.isNaN })
    }

    /// Memory: float16 layers plus one float32 layer in flight, and the automatic strategy keeps
    /// stored layers up to twice as many entries as at float32.
    @Test func estimatedBytesFollowThePrecision() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 60, columns: 60, patchSize: 8))
        let g = AttentionGeometry(layers: 12, heads: 6, tokens: 3_601, headDim: 64, layout: layout)
        let n = 3_601
        let half = try Rollout(.init(strategy: .storedLayers))
        let single = try Rollout(.init(strategy: .storedLayers, storedPrecision: .float32))
        #expect(Rollout.StoredPrecision.float16.bytesPerLayer(tokens: n) == 2 * n * n + 4 * n)
        #expect(half.estimatedBytes(for: g) == 12 * (2 * n * n + 4 * n) + 4 * n * n)
        #expect(single.estimatedBytes(for: g) == 13 * 4 * n * n)
        #expect(try Rollout(.init()).estimatedBytes(for: g) == half.estimatedBytes(for: g))
        // 5,000 tokens: 12 float32 layers exceed 1 GiB (full product), float16 layers do not.
        let big = AttentionGeometry(layers: 12, heads: 6, tokens: 5_000, headDim: 64, layout: TokenLayout(textTokens: 5_000))
        #expect(try Rollout(.init(storedPrecision: .float32)).estimatedBytes(for: big) == 3 * 4 * 5_000 * 5_000)
        #expect(try Rollout(.init()).estimatedBytes(for: big) == 12 * (2 * 25_000_000 + 20_000) + 4 * 25_000_000)
        #expect(Rollout.StoredPrecision.float16.bytesPerLayer(tokens: Int.max / 2) == .max)
    }
}
