#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ViTLensCore

extension Activation {
    /// Multiplies `grad[i]` by the activation's derivative at the pre-activation `x[i]`.
    ///
    /// GELU's derivative `Phi(x) + x phi(x)` uses the forward's erf (``Kernels/erf16(_:)``) for
    /// `Phi`; quick GELU's is `s + 1.702 x s (1 - s)` with `s = sigmoid(1.702 x)`.
    func backward(_ x: UnsafePointer<Float>, _ grad: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            let invSqrt2: Float = 0.70710678118654752440
            let invSqrt2Pi: Float = 0.39894228040143267794
            var i = 0
            while i < count {
                var v = SIMD16<Float>(repeating: 0)
                let lanes = min(16, count - i)
                for j in 0 ..< lanes { v[j] = x[i + j] }
                let cdf = 0.5 * (1 + Kernels.erf16(v * invSqrt2))
                let pdf = Kernels.exp16(-0.5 * v * v) * invSqrt2Pi
                let dv = cdf + v * pdf
                for j in 0 ..< lanes { grad[i + j] *= dv[j] }
                i += 16
            }
        case .geluTanh:
            let k: Float = 0.79788456080286535588
            for i in 0 ..< count {
                let v = x[i]
                let t = tanhf(k * (v + 0.044715 * v * v * v))
                grad[i] *= 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v)
            }
        case .quickGELU:
            for i in 0 ..< count {
                let v = x[i]
                let s = 1 / (1 + expf(-1.702 * v))
                grad[i] *= s + 1.702 * v * s * (1 - s)
            }
        case .relu:
            for i in 0 ..< count where x[i] <= 0 { grad[i] = 0 }
        }
    }

    /// SwiGLU backward: for `out = silu(a) * b` with `[a | b]` the rows of `x[rows, 2h]`, writes
    /// `[da | db]` into `dx[rows, 2h]` from `dOut[rows, h]`
    /// (`da = dOut * b * s (1 + a (1 - s))`, `db = dOut * a s`, `s = sigmoid(a)`).
    static func swiGLUBackward(_ x: UnsafePointer<Float>, _ dOut: UnsafePointer<Float>, rows: Int, hidden h: Int,
                               into dx: UnsafeMutablePointer<Float>) {
        for r in 0 ..< rows {
            let src = x + r * 2 * h
            let g = dOut + r * h
            let dst = dx + r * 2 * h
            for c in 0 ..< h {
                let a = src[c]
                let s = 1 / (1 + expf(-a))
                dst[c] = g[c] * src[h + c] * s * (1 + a * (1 - s))
                dst[h + c] = g[c] * a * s
            }
        }
    }
}
