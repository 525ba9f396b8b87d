import ViTLensCore

/// Small numeric kernels shared by the analyses (BLAS where it pays, plain loops otherwise).
enum AnalysisKernels {
    /// `c = a · b` for row-major square `n x n` float matrices (Core's BLAS sgemm).
    static func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, n: Int) {
        BLAS.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c, ldc: n)
    }

    /// `y = xᵀ · m` for a row vector `x` of length `n` and a row-major `n x n` matrix `m`, in double.
    ///
    /// Accumulates row by row (`y += x_k · m[k, :]`), so `m` is read once, contiguously.
    static func rowTimesMatrix(_ x: [Double], _ mb: UnsafeBufferPointer<Float>, n: Int) -> [Double] {
        precondition(mb.count == n * n && x.count == n, "rowTimesMatrix: sizes disagree")
        var y = [Double](repeating: 0, count: n)
        y.withUnsafeMutableBufferPointer { yb in
            guard let ypBase = yb.baseAddress, let mBase = mb.baseAddress else { return }
            nonisolated(unsafe) let yp = ypBase
            nonisolated(unsafe) let m = mBase
            // Column blocks are independent (each output entry sums over k in the same order as a
            // single-threaded loop), so results do not depend on the thread count.
            let block = 512
            Compute.forEachChunk((n + block - 1) / block, costPerItem: block * n) { blocks in
                for b in blocks {
                    let lo = b * block, hi = Swift.min(n, lo + block)
                    for k in 0 ..< n {
                        let xk = x[k]
                        if xk == 0 { continue }
                        let row = m + k * n
                        for j in lo ..< hi { yp[j] += xk * Double(row[j]) }
                    }
                }
            }
        }
        return y
    }

    /// `(Σ a_i d_i, Σ a_i)` over `n` floats, with 16-wide partial sums.
    @inline(__always)
    static func dotAndSum(_ a: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ n: Int) -> (dot: Float, sum: Float) {
        var accD = SIMD16<Float>.zero
        var accS = SIMD16<Float>.zero
        let ra = UnsafeRawPointer(a)
        let rd = UnsafeRawPointer(d)
        var i = 0
        let stride = MemoryLayout<Float>.stride
        while i + 16 <= n {
            let x = ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD16<Float>.self)
            let y = rd.loadUnaligned(fromByteOffset: i * stride, as: SIMD16<Float>.self)
            accD += x * y
            accS += x
            i += 16
        }
        var dot = accD.sum()
        var sum = accS.sum()
        while i < n {
            dot += a[i] * d[i]
            sum += a[i]
            i += 1
        }
        return (dot, sum)
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
