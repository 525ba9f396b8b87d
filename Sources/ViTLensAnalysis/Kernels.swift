import CViTLensKernels
import ViTLensCore

/// Small numeric kernels shared by the analyses (BLAS where it pays, plain loops otherwise).
enum AnalysisKernels {
    /// Whether this CPU runs the packed AVX-512 product (`vitlens_packed_gemm`).
    static let packedAvailable = vitlens_packed_available() == 1

    /// `c = a · b` for row-major square `n x n` float matrices. With AVX-512 F: `b` packed once, rows
    /// split over ``Compute/threads``, each entry one multiply-add chain over `k` in order, so the
    /// result has the same bits for any thread count (OpenBLAS's Haswell kernels do not: their
    /// rounding changes with the thread count and the block of rows). Else Core's BLAS sgemm.
    static func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, n: Int) {
        guard packedAvailable, n > 0 else {
            BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
            return
        }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: vitlens_packed_columns_count(Int32(n), Int32(n)))
        defer { packed.deallocate() }
        vitlens_pack_columns(b, Int32(n), Int32(n), Int32(n), packed)
        let blocks = min(Compute.threads, max(1, n / 14))
        nonisolated(unsafe) let (ap, bp, cp) = (a, UnsafePointer(packed), c)
        Compute.forEachItem(blocks, workers: blocks) { _, block in
            let lo = n * block / blocks, hi = n * (block + 1) / blocks
            vitlens_packed_gemm(Int32(hi - lo), Int32(n), Int32(n), 1, ap + lo * n, Int32(n), bp, cp + lo * n, Int32(n))
        }
    }

    /// `y = xᵀ · m` for a row vector `x` of length `n` and a row-major `n x n` matrix `m`, in double.
    ///
    /// Accumulates row by row (`y += x_k · m[k, :]`), so `m` is read once, contiguously.
    static func rowTimesMatrix(_ x: [Double], _ mb: UnsafeBufferPointer<Float>, n: Int) -> [Double] {
        precondition(mb.count == n * n && x.count == n, "rowTimesMatrix: sizes disagree")
        guard let mBase = mb.baseAddress else { return [Double](repeating: 0, count: n) }
        nonisolated(unsafe) let m = mBase
        return accumulateRows(x, n: n) { y, k, xk, columns in
            let row = m + k * n
            for j in columns { y[j] += xk * Double(row[j]) }
        }
    }

    /// ``rowTimesMatrix(_:_:n:)`` for a matrix kept at half precision: entry `(k, j)` is
    /// `diagonal[k]` on the diagonal and `Float(h[k·n + j]) · unscale` elsewhere.
    ///
    /// Sixteen entries at a time are widened to float (`vcvtph2ps` with F16C), multiplied by
    /// `unscale` (a power of two, so exactly) and accumulated in double in the order of
    /// ``rowTimesMatrix(_:_:n:)`` (`y_j += x_k · m_kj`, k ascending), so the result is exactly that of
    /// ``rowTimesMatrix(_:_:n:)`` on the widened float matrix, for any thread count.
    static func rowTimesHalfMatrix(_ x: [Double], _ h: UnsafePointer<Float16>, diagonal: UnsafePointer<Float>, unscale: Float, n: Int) -> [Double] {
        guard x.count == n else { return [Double](repeating: 0, count: n) }
        nonisolated(unsafe) let h = h
        nonisolated(unsafe) let diagonal = diagonal
        return accumulateRows(x, n: n) { y, k, xk, columns in
            halfRowUpdate(y, xk, h + k * n, diagonal: k, value: diagonal[k], unscale: unscale, columns: columns)
        }
    }

    /// `y = Σ_k x_k · (row k)` where `update(y, k, x_k, columns)` adds `x_k` times row `k` over
    /// `columns` into `y`; rows with `x_k = 0` are skipped. Column blocks are independent and split
    /// across cores, and each entry sums over k ascending as a single-threaded loop would, so
    /// results do not depend on the thread count or the block width. One block per thread (at
    /// least 512 columns, a multiple of 16): each row is then read in long runs, which the
    /// prefetchers follow (measured at 3,601 tokens against blocks of 512: see docs/PERFORMANCE.md).
    @inline(__always)
    private static func accumulateRows(_ x: [Double], n: Int,
                                       _ update: (UnsafeMutablePointer<Double>, Int, Double, Range<Int>) -> Void) -> [Double] {
        var y = [Double](repeating: 0, count: n)
        y.withUnsafeMutableBufferPointer { yb in
            guard let ypBase = yb.baseAddress else { return }
            nonisolated(unsafe) let yp = ypBase
            let block = Swift.max(512, (n + Compute.threads - 1) / Compute.threads + 15) / 16 * 16
            Compute.forEachChunk((n + block - 1) / block, costPerItem: block * n) { blocks in
                for b in blocks {
                    let columns = b * block ..< Swift.min(n, b * block + block)
                    for k in 0 ..< n {
                        let xk = x[k]
                        if xk == 0 { continue }
                        update(yp, k, xk, columns)
                    }
                }
            }
        }
        return y
    }

    /// `y[j] += xk · Double(entry j)` over `columns` of one half-precision row whose diagonal sits
    /// at column `d` with float value `value` (see ``rowTimesHalfMatrix(_:_:diagonal:unscale:n:)``).
    @inline(__always)
    private static func halfRowUpdate(_ y: UnsafeMutablePointer<Double>, _ xk: Double, _ row: UnsafePointer<Float16>,
                                      diagonal d: Int, value: Float, unscale: Float, columns: Range<Int>) {
        let raw = UnsafeRawPointer(row)
        let half = MemoryLayout<Float16>.stride, double = MemoryLayout<Double>.stride
        let out = UnsafeMutableRawPointer(y)
        var j = columns.lowerBound
        while j + 16 <= columns.upperBound {
            var v = SIMD16<Float>(raw.loadUnaligned(fromByteOffset: j * half, as: SIMD16<Float16>.self)) * unscale
            if d >= j && d < j + 16 { v[d - j] = value }
            let y0 = out.loadUnaligned(fromByteOffset: j * double, as: SIMD8<Double>.self)
            let y1 = out.loadUnaligned(fromByteOffset: (j + 8) * double, as: SIMD8<Double>.self)
            out.storeBytes(of: y0 + xk * SIMD8<Double>(v.lowHalf), toByteOffset: j * double, as: SIMD8<Double>.self)
            out.storeBytes(of: y1 + xk * SIMD8<Double>(v.highHalf), toByteOffset: (j + 8) * double, as: SIMD8<Double>.self)
            j += 16
        }
        while j < columns.upperBound {
            let v = j == d ? value : Float(row[j]) * unscale
            y[j] += xk * Double(v)
            j += 1
        }
    }

    /// Writes `Float16(scale · src[i])` (round to nearest, ties to even) for `count` floats, 16 at a
    /// time (`vcvtps2ph` with F16C). Returns `false` when a scaled value lies beyond float16's finite
    /// range (`±65,504`, ∞ included): such a value would have become ∞, so the caller must keep the
    /// floats. NaN converts to NaN.
    static func narrow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float16>, count: Int, scale: Float) -> Bool {
        narrow(src, factor: nil, dst, count: count, scale: scale)
    }

    /// ``narrow(_:_:count:scale:)`` of `row` after multiplying it by `factor` in place, in the same
    /// pass: `row[i] *= factor`, then `dst[i] = Float16(scale · row[i])`.
    static func scaleThenNarrow(_ row: UnsafeMutablePointer<Float>, by factor: Float, _ dst: UnsafeMutablePointer<Float16>, count: Int, scale: Float) -> Bool {
        narrow(row, factor: factor, dst, count: count, scale: scale)
    }

    /// Both narrowings: with a `factor`, each value is first multiplied by it and written back to
    /// `src` (which must then be mutable).
    @inline(__always)
    private static func narrow(_ src: UnsafePointer<Float>, factor: Float?, _ dst: UnsafeMutablePointer<Float16>, count: Int, scale: Float) -> Bool {
        let limit = Float(Float16.greatestFiniteMagnitude)
        let rs = UnsafeMutableRawPointer(mutating: src), rd = UnsafeMutableRawPointer(dst)
        let single = MemoryLayout<Float>.stride, half = MemoryLayout<Float16>.stride
        var hi = SIMD16<Float>.zero, lo = SIMD16<Float>.zero
        var i = 0
        while i + 16 <= count {
            var w = rs.loadUnaligned(fromByteOffset: i * single, as: SIMD16<Float>.self)
            if let factor {
                w *= factor
                rs.storeBytes(of: w, toByteOffset: i * single, as: SIMD16<Float>.self)
            }
            let v = w * scale
            // Not pointwiseMax/Min: their NaN rules compile lane by lane; these are vmaxps/vminps
            // (a NaN lane compares false and is skipped; the conversion keeps it NaN).
            hi = hi.replacing(with: v, where: v .> hi)
            lo = lo.replacing(with: v, where: v .< lo)
            rd.storeBytes(of: SIMD16<Float16>(v), toByteOffset: i * half, as: SIMD16<Float16>.self)
            i += 16
        }
        var inRange = hi.max() <= limit && lo.min() >= -limit
        let row = UnsafeMutablePointer(mutating: src)
        while i < count {
            if let factor { row[i] *= factor }
            let v = row[i] * scale
            if v > limit || v < -limit { inRange = false }
            dst[i] = Float16(v)
            i += 1
        }
        return inRange
    }

    /// A float array of `count` elements whose contents the caller overwrites before reading.
    static func uninitialized(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// `Σ p ln p` over `n` probabilities, with `0 ln 0 = 0`.
    ///
    /// Eight lanes at a time through ``log(_:)``, accumulated in float per lane and summed in
    /// double at the end of the row; values below the smallest normal float (where
    /// `|p ln p| < 1e-36`) count as 0.
    static func plogp(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        let raw = UnsafeRawPointer(p)
        var acc = SIMD8<Float>.zero
        var i = 0
        let tiny = SIMD8<Float>(repeating: Float.leastNormalMagnitude)
        while i + 8 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
            let safe = x.replacing(with: 1, where: x .< tiny)
            acc += safe * log(safe)
            i += 8
        }
        var total = Double(acc.sum())
        while i < n {
            let x = p[i]
            if x >= Float.leastNormalMagnitude { total += Double(x * logf(x)) }
            i += 1
        }
        return total
    }

    /// Natural logarithm of 8 positive normal floats, within 2 ulp of `logf` (Cephes `logf`'s
    /// degree-9 polynomial after a branch-free reduction of the mantissa to `[√½, √2)`: adding
    /// `0x3f800000 − 0x3f3504f3` to the bits moves the exponent boundary to √2). Zero, subnormal,
    /// negative, infinite or NaN inputs give meaningless results: callers filter them.
    @inline(__always)
    static func log(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
        bits &+= 0x3f80_0000 - 0x3f35_04f3
        let e = SIMD8<Float>((bits &>> 23) &- 0x7f)
        bits = (bits & 0x007f_ffff) &+ 0x3f35_04f3
        let m = unsafeBitCast(bits, to: SIMD8<Float>.self) - 1  // in [√½ − 1, √2 − 1)
        let z = m * m
        var y = SIMD8<Float>(repeating: 7.0376836292e-2)
        y = y * m - 1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m - 1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m - 1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m - 2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        y += -2.12194440e-4 * e
        y += -0.5 * z
        return m + y + 0.693359375 * e
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
