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
                var sum: Float = 0
                for c in 0 ..< cols { sum += src[c] }
                let mean = sum / Float(cols)
                var sq: Float = 0
                for c in 0 ..< cols {
                    let d = src[c] - mean
                    sq += d * d
                }
                let inv = 1 / (sq / Float(cols) + eps).squareRoot()
                for c in 0 ..< cols { dst[c] = (src[c] - mean) * inv * gamma[c] + beta[c] }
            }
        }
    }

    /// Exact GELU in place: `x * 0.5 * (1 + erf(x / sqrt(2)))` (`hidden_act = "gelu"`).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        let invSqrt2: Float = 0.70710678118654752440
        Compute.forEachChunk(count, costPerItem: 8) { range in
            for i in range {
                let v = x[i]
                x[i] = v * 0.5 * (1 + erff(v * invSqrt2))
            }
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

    /// Softmax of one row in place (vectorised exp).
    @inlinable
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0 ..< n where row[i] > m { m = row[i] }
        if m == -.infinity {
            row.update(repeating: 0, count: n)
            return
        }
        var sum: Float = 0
        var i = 0
        let mv = SIMD16<Float>(repeating: m)
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= n {
            let p = UnsafeMutableRawPointer(row + i)
            let v = exp16(p.loadUnaligned(as: SIMD16<Float>.self) - mv)
            p.storeBytes(of: v, as: SIMD16<Float>.self)
            acc += v
            i += 16
        }
        sum = acc.sum()
        while i < n {
            let v = expf(row[i] - m)
            row[i] = v
            sum += v
            i += 1
        }
        let inv = 1 / sum
        for j in 0 ..< n { row[j] *= inv }
    }

    /// Vectorised `exp` for 16 floats (Cody-Waite range reduction, degree-6 polynomial; max
    /// relative error about 2 ulp on [-87, 88]; inputs below -87.3 give 0, above 88.7 give +inf).
    @inlinable
    public static func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let log2e: Float = 1.44269504088896341
        let ln2hi: Float = 0.693359375
        let ln2lo: Float = -2.12194440e-4
        let magic: Float = 12_582_912 // 1.5 * 2^23: adding and subtracting rounds to nearest integer
        let lo = SIMD16<Float>(repeating: -87.33654)
        let hi = SIMD16<Float>(repeating: 88.72283)
        let underflow = x .< lo
        let overflow = x .> hi
        var xc = x.replacing(with: lo, where: underflow)
        xc = xc.replacing(with: hi, where: overflow)
        let n = (xc * log2e + magic) - magic
        var r = xc - n * ln2hi
        r = r - n * ln2lo
        var p = SIMD16<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // Scale by 2^n in two steps so n = 128 (x near 88.7) does not overflow the exponent field.
        let ni = SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int32>(n))
        let half = ni &>> 1
        let s1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let s2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
        var result = p * s1 * s2
        result = result.replacing(with: 0, where: underflow)
        result = result.replacing(with: Float.infinity, where: overflow)
        return result
    }

    /// `x[i] *= s`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        for i in 0 ..< count { x[i] *= s }
    }
}
