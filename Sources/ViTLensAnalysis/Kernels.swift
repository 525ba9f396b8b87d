#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// Small numeric kernels shared by the analyses (BLAS where it pays, plain loops otherwise).
enum Kernels {
    /// `c = a · b` for row-major square `n x n` float matrices (BLAS sgemm; a naive loop without BLAS).
    static func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, n: Int) {
        #if canImport(Accelerate) || canImport(CBLAS)
        let n32 = Int32(n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, a, n32, b, n32, 0, c, n32)
        #else
        c.update(repeating: 0, count: n * n)
        for i in 0 ..< n {
            for k in 0 ..< n {
                let x = a[i * n + k]
                if x == 0 { continue }
                for j in 0 ..< n { c[i * n + j] += x * b[k * n + j] }
            }
        }
        #endif
    }

    /// `y = xᵀ · m` for a row vector `x` of length `n` and a row-major `n x n` matrix `m`, in double.
    ///
    /// Accumulates row by row (`y += x_k · m[k, :]`), so `m` is read once, contiguously.
    static func rowTimesMatrix(_ x: [Double], _ mb: UnsafeBufferPointer<Float>, n: Int) -> [Double] {
        precondition(mb.count == n * n && x.count == n, "rowTimesMatrix: sizes disagree")
        var y = [Double](repeating: 0, count: n)
        y.withUnsafeMutableBufferPointer { yb in
            guard let yp = yb.baseAddress, let m = mb.baseAddress else { return }
            for k in 0 ..< n {
                let xk = x[k]
                if xk == 0 { continue }
                let row = m + k * n
                for j in 0 ..< n { yp[j] += xk * Double(row[j]) }
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

    /// `Σ p ln p` over `n` probabilities, with `0 ln 0 = 0` (accumulated in double).
    @inline(__always)
    static func plogp(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0 ..< n {
            let x = p[i]
            if x > 0 { s += Double(x * logf(x)) }
        }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
