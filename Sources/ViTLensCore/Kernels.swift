#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise and row-wise kernels of the forward pass, on raw row-major buffers.
///
/// Each kernel is vectorised with `SIMD16<Float>` where it pays off and split across
/// ``Compute/threads`` over rows. They mirror PyTorch's float32 CPU semantics (biased variance in
/// LayerNorm, softmax as `exp(x - max) / sum`, exact erf GELU) to well within 1e-6 relative.
public enum Kernels {
    /// Adds `bias[cols]` to every row of `x[rows, cols]`.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        nonisolated(unsafe) let x = x
        nonisolated(unsafe) let bias = bias
        Compute.forEachChunk(rows, costPerItem: cols) { range in
            for r in range {
                let row = x + r * cols
                for c in 0 ..< cols { row[c] += bias[c] }
            }
        }
    }

    /// Copies `values[cols]` into every row of `x[rows, cols]` (a bias before a `beta = 1` product).
    public static func fillRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, with values: UnsafePointer<Float>) {
        nonisolated(unsafe) let x = x
        nonisolated(unsafe) let values = values
        Compute.forEachChunk(rows, costPerItem: cols / 4) { range in
            for r in range { (x + r * cols).update(from: values, count: cols) }
        }
    }

    /// `y[i] += x[i]` for `count` elements (residual connection).
    public static func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let y = y
        nonisolated(unsafe) let x = x
        Compute.forEachChunk(count) { range in
            for i in range { y[i] += x[i] }
        }
    }

    /// `y[r, c] += scale[c] * x[r, c]` (DINOv2's layer scale on a residual branch).
    public static func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, rows: Int, cols: Int) {
        nonisolated(unsafe) let y = y
        nonisolated(unsafe) let x = x
        nonisolated(unsafe) let scale = scale
        Compute.forEachChunk(rows, costPerItem: cols) { range in
            for r in range {
                let o = r * cols
                for c in 0 ..< cols { y[o + c] += scale[c] * x[o + c] }
            }
        }
    }

    /// LayerNorm over the last dimension: `out = (x - mean) / sqrt(var + eps) * gamma + beta`,
    /// with the biased variance (mean of squared deviations), as `torch.nn.LayerNorm`.
    /// `out` may equal `x`.
    public static func layerNorm(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        eps: Float, out: UnsafeMutablePointer<Float>
    ) {
        nonisolated(unsafe) let x = x
        nonisolated(unsafe) let out = out
        nonisolated(unsafe) let gamma = gamma
        nonisolated(unsafe) let beta = beta
        Compute.forEachChunk(rows, costPerItem: cols * 4) { range in
            for r in range {
                let src = x + r * cols
                let dst = out + r * cols
                let (mean, inv) = layerNormStatistics(src, cols: cols, eps: eps)
                for c in 0 ..< cols { dst[c] = (src[c] - mean) * inv * gamma[c] + beta[c] }
            }
        }
    }

    /// A LayerNorm row's mean and `1 / sqrt(var + eps)` (biased variance), as ``layerNorm(_:rows:cols:gamma:beta:eps:out:)``
    /// computes them (the backward pass recomputes them with this).
    @inlinable @inline(__always)
    public static func layerNormStatistics(_ src: UnsafePointer<Float>, cols: Int, eps: Float) -> (mean: Float, inverseStd: Float) {
        // Sixteen lanes, each summing every 16th column in order, then the lanes and the tail:
        // a fixed order (the same for every row and call), vectorised.
        let vectors = cols / 16
        let raw = UnsafeRawPointer(src)
        var acc = SIMD16<Float>(repeating: 0)
        for v in 0 ..< vectors { acc += raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) }
        var sum = acc.sum()
        for c in (vectors * 16) ..< cols { sum += src[c] }
        let mean = sum / Float(cols)
        let mv = SIMD16<Float>(repeating: mean)
        var sqv = SIMD16<Float>(repeating: 0)
        for v in 0 ..< vectors {
            let d = raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) - mv
            sqv = sqv.addingProduct(d, d)
        }
        var sq = sqv.sum()
        for c in (vectors * 16) ..< cols {
            let d = src[c] - mean
            sq += d * d
        }
        return (mean, 1 / (sq / Float(cols) + eps).squareRoot())
    }

    /// GELU in place: `x * 0.5 * (1 + erf(x / sqrt(2)))` (`hidden_act = "gelu"`), with erf as
    /// in PyTorch's vectorised CPU kernel (``erf16(_:)``; within 1.5e-7 of the exact erf).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        let invSqrt2: Float = 0.70710678118654752440
        Compute.forEachChunk(count / 16, costPerItem: 16 * 8) { range in
            for c in range {
                let p = UnsafeMutableRawPointer(x + c * 16)
                let v = p.loadUnaligned(as: SIMD16<Float>.self)
                p.storeBytes(of: v * 0.5 * (1 + erf16(v * invSqrt2)), as: SIMD16<Float>.self)
            }
        }
        for i in (count / 16 * 16) ..< count {
            let v = x[i]
            x[i] = v * 0.5 * (1 + erff(v * invSqrt2))
        }
    }

    /// Tanh-approximated GELU in place (`gelu_new`, `gelu_pytorch_tanh`):
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        let k: Float = 0.79788456080286535588
        Compute.forEachChunk(count, costPerItem: 8) { range in
            for i in range {
                let v = x[i]
                x[i] = 0.5 * v * (1 + tanhf(k * (v + 0.044715 * v * v * v)))
            }
        }
    }

    /// CLIP's quick GELU in place: `x * sigmoid(1.702 x)`.
    public static func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        Compute.forEachChunk(count, costPerItem: 8) { range in
            for i in range {
                let v = x[i]
                x[i] = v * (1 / (1 + expf(-1.702 * v)))
            }
        }
    }

    /// ReLU in place.
    public static func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        Compute.forEachChunk(count) { range in
            for i in range where x[i] < 0 { x[i] = 0 }
        }
    }

    /// SwiGLU gate of DINOv2's SwiGLU FFN: for `x[rows, 2*h]` split into `x1 | x2` along columns,
    /// `out[rows, h] = silu(x1) * x2` with `silu(v) = v * sigmoid(v)`.
    public static func swiGLU(_ x: UnsafePointer<Float>, rows: Int, hidden h: Int, out: UnsafeMutablePointer<Float>) {
        nonisolated(unsafe) let x = x
        nonisolated(unsafe) let out = out
        Compute.forEachChunk(rows, costPerItem: h * 8) { range in
            for r in range {
                let src = x + r * 2 * h
                let dst = out + r * h
                for c in 0 ..< h {
                    let a = src[c]
                    dst[c] = a / (1 + expf(-a)) * src[h + c]
                }
            }
        }
    }

    /// Row-wise softmax in place over `rows` rows of `cols`: `p = exp(x - max) / sum(exp(x - max))`.
    /// Rows whose entries are all `-inf` become all zeros (PyTorch would give NaN).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        nonisolated(unsafe) let x = x
        Compute.forEachChunk(rows, costPerItem: cols * 6) { range in
            for r in range { softmaxRow(x + r * cols, count: cols) }
        }
    }

    /// Softmax of one row in place (vectorised exp, the row's tail included).
    @inlinable
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        var i = 0
        if n >= 16 {
            var mv = SIMD16<Float>(repeating: -.infinity)
            while i + 16 <= n {
                mv = max16(mv, UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self))
                i += 16
            }
            m = mv.max()
        }
        while i < n {
            if row[i] > m { m = row[i] }
            i += 1
        }
        if m == -.infinity {
            row.update(repeating: 0, count: n)
            return
        }
        var sum: Float = 0
        i = 0
        let mv = SIMD16<Float>(repeating: m)
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= n {
            let p = UnsafeMutableRawPointer(row + i)
            let v = exp16(p.loadUnaligned(as: SIMD16<Float>.self) - mv)
            p.storeBytes(of: v, as: SIMD16<Float>.self)
            acc += v
            i += 16
        }
        if i < n {
            // The last n % 16 entries through the same vector exp, the unused lanes at -inf (exp 0):
            // 5 scalar expf calls per row cost as much as a third of a 197-token row's softmax.
            var tail = SIMD16<Float>(repeating: -.infinity)
            for j in 0 ..< (n - i) { tail[j] = row[i + j] }
            let v = exp16(tail - mv)
            for j in 0 ..< (n - i) { row[i + j] = v[j] }
            acc += v
        }
        sum = acc.sum()
        let inv = 1 / sum
        for j in 0 ..< n { row[j] *= inv }
    }

    /// Vectorised `exp` for 16 floats: Cody-Waite range reduction and a degree-6 polynomial
    /// (max relative error about 1e-7 on [-87.3, 88.7]). Inputs below -87.3 (and -inf) give 0;
    /// inputs above 88.7 are clamped there (about 3.4e38).
    ///
    /// Written with arithmetic and bit operations only: Swift's `SIMDMask`, `replacing(with:where:)`
    /// and int/float conversions compile to scalar loops, which made softmax 20x slower.
    @inlinable @inline(__always)
    public static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -87.33654)
        let hi = SIMD16<Float>(repeating: 88.72283)
        // below = all ones where x < lo (sign bit of x - lo), else zero; -inf and NaN handled below.
        let below = unsafeBitCast(x - lo, to: SIMD16<Int32>.self) &>> 31
        let above = unsafeBitCast(hi - x, to: SIMD16<Int32>.self) &>> 31
        var xi = unsafeBitCast(x, to: SIMD16<Int32>.self)
        xi = (xi & ~below) | (unsafeBitCast(lo, to: SIMD16<Int32>.self) & below)
        xi = (xi & ~above) | (unsafeBitCast(hi, to: SIMD16<Int32>.self) & above)
        let xc = unsafeBitCast(xi, to: SIMD16<Float>.self)
        // t = x*log2(e) + 1.5*2^23 puts round(x*log2(e)) in t's low mantissa bits.
        let magic: Float = 12_582_912
        let t = xc * 1.44269504088896341 + magic
        let n = t - magic
        var r = xc - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p = SIMD16<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2^n in two factors so that n = 128 stays representable.
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        let s1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let s2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let result = p * s1 * s2
        return unsafeBitCast(unsafeBitCast(result, to: SIMD16<Int32>.self) & ~below, to: SIMD16<Float>.self)
    }

    /// Lane-wise maximum without `SIMDMask` (see ``exp16(_:)``).
    @inlinable @inline(__always)
    public static func max16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        let bBigger = unsafeBitCast(a - b, to: SIMD16<Int32>.self) &>> 31
        let ai = unsafeBitCast(a, to: SIMD16<Int32>.self), bi = unsafeBitCast(b, to: SIMD16<Int32>.self)
        return unsafeBitCast((ai & ~bBigger) | (bi & bBigger), to: SIMD16<Float>.self)
    }

    /// Vectorised erf for 16 floats, the rational approximation PyTorch's CPU kernels use
    /// (Abramowitz & Stegun 7.1.26: `1 - (a1 t + ... + a5 t^5) exp(-x^2)`, `t = 1/(1 + 0.3275911|x|)`,
    /// max absolute error 1.5e-7), so that GELU matches `torch.nn.functional.gelu` on CPU.
    @inlinable @inline(__always)
    public static func erf16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let signBit = SIMD16<UInt32>(repeating: 0x8000_0000)
        let xb = unsafeBitCast(x, to: SIMD16<UInt32>.self)
        let sign = xb & signBit
        let ax = unsafeBitCast(xb & ~signBit, to: SIMD16<Float>.self)
        let t = 1 / (ax * 0.3275911 + 1)
        var r = t * 1.061405429 + -1.453152027
        r = r * t + 1.421413741
        r = r * t + -0.284496736
        r = r * t + 0.254829592
        let e = exp16(-(x * x))
        let y = 1 - r * t * e
        return unsafeBitCast(unsafeBitCast(y, to: SIMD16<UInt32>.self) ^ sign, to: SIMD16<Float>.self)
    }

    /// `x[i] *= s`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        for i in 0 ..< count { x[i] *= s }
    }
}
