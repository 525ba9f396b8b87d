import Foundation

/// Pillow's resampling filters, with Pillow's integer codes (`Image.Resampling`), which is also what
/// `resample` holds in a Hugging Face `preprocessor_config.json`.
public enum ResampleFilter: Int, Codable, Sendable {
    /// Nearest neighbour (Pillow takes a separate affine path for it; no antialiasing).
    case nearest = 0
    /// Lanczos (truncated sinc, `a = 3`): `sinc(x) * sinc(x / 3)` on `[-3, 3)`.
    case lanczos = 1
    /// Bilinear (triangle): `max(0, 1 - |x|)`.
    case bilinear = 2
    /// Bicubic (Keys cubic with `a = -0.5`), support 2.
    case bicubic = 3
    /// Box: 1 on `(-0.5, 0.5]`.
    case box = 4
    /// Hamming-windowed sinc, support 1.
    case hamming = 5

    /// The filter's half-width in input pixels at scale 1 (Pillow's `support`).
    var support: Double {
        switch self {
        case .nearest, .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel value at `x`, in Pillow's double-precision formulas (constants included: the
    /// Hamming window uses the *float* constants `0.54f` and `0.46f` widened to double).
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let a = abs(x)
            return a < 1 ? 1 - a : 0
        case .hamming:
            let a = abs(x)
            if a == 0 { return 1 }
            if a >= 1 { return 0 }
            let t = a * Double.pi
            return sin(t) / t * (Double(Float(0.54)) + Double(Float(0.46)) * cos(t))
        case .bicubic:
            let a = -0.5
            let t = abs(x)
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        case .lanczos:
            return x >= -3 && x < 3 ? Self.sinc(x) * Self.sinc(x / 3) : 0
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let t = x * Double.pi
        return sin(t) / t
    }
}
