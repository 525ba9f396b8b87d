import ViTLensCore

/// How the heads of one layer are combined into a single attention matrix.
///
/// For head values `a_h` (h = 0 ..< H) at one position:
/// - ``mean``: `(1/H) Σ_h a_h` (Abnar & Zuidema; ViT paper D.8). Keeps rows stochastic.
/// - ``max`` / ``min``: the elementwise extreme over heads (vit-explain). Rows stop summing to 1.
/// - ``std``: the **population** standard deviation `sqrt((1/H) Σ_h (a_h − mean)²)`, i.e. NumPy's
///   default `ddof=0` (not PyTorch's default unbiased `ddof=1`). Computed in two passes.
/// - ``head(_:)``: one head, unchanged.
///
/// Arithmetic is float32 in a fixed order (heads summed from 0 upwards, then divided by `H`), so a
/// NumPy float32 re-implementation reproduces it bit for bit. Fusing `H` identical heads returns
/// that head exactly for `max`, `min` and `head`; `mean` is exact when `H` is a power of two and
/// within one rounding otherwise, and `std` is 0 (resp. within rounding of 0).
public enum HeadFusion: Sendable, Equatable, Hashable, CustomStringConvertible {
    case mean
    case max
    case min
    case std
    /// A single head, zero-based.
    case head(Int)

    public var description: String {
        switch self {
        case .mean: return "mean"
        case .max: return "max"
        case .min: return "min"
        case .std: return "std"
        case .head(let h): return "head \(h)"
        }
    }

    /// Checks that a ``head(_:)`` index exists among `heads`.
    /// - Throws: ``AnalysisError/headOutOfRange(head:heads:)``.
    public func validate(heads: Int) throws {
        if case .head(let h) = self, h < 0 || h >= heads { throw AnalysisError.headOutOfRange(head: h, heads: heads) }
    }

    /// Fuses a stack `[heads, ...]` (e.g. `[heads, N, N]` or `[heads, rows, columns]`) into `[...]`.
    /// - Throws: ``AnalysisError/headOutOfRange(head:heads:)`` for a missing head.
    public func fuse(_ stack: Tensor) throws -> Tensor {
        precondition(!stack.shape.isEmpty, "fuse needs a [heads, ...] tensor")
        let heads = stack.shape[0]
        try validate(heads: heads)
        let inner = Array(stack.shape.dropFirst())
        let count = inner.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        stack.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                fuse(heads: heads, from: src, into: dst)
            }
        }
        return Tensor(shape: inner, values: out)
    }

    /// Fuses one layer's probabilities `[heads, N, N]` into `[N, N]`.
    /// - Throws: ``AnalysisError/headOutOfRange(head:heads:)`` for a missing head.
    public func fuse(_ attention: LayerAttention) throws -> Tensor {
        try validate(heads: attention.heads)
        let n = attention.tokens
        var out = [Float](repeating: 0, count: n * n)
        out.withUnsafeMutableBufferPointer { fuse(heads: attention.heads, from: attention.probabilities, into: $0) }
        return Tensor(shape: [n, n], values: out)
    }

    /// Fuses `heads` contiguous blocks of `dst.count` values from `src` into `dst`.
    ///
    /// The caller has validated the head index. Every loop is a flat elementwise pass over one
    /// head's block, which the compiler vectorises.
    func fuse(heads: Int, from src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<Float>) {
        let count = dst.count
        precondition(src.count == heads * count, "fuse: source does not hold \(heads) blocks of \(count)")
        guard count > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        switch self {
        case .head(let h):
            d.update(from: s + h * count, count: count)
        case .mean:
            meanBlocks(heads: heads, s, d, count)
        case .max:
            d.update(from: s, count: count)
            for h in 1 ..< Swift.max(heads, 1) {
                let a = s + h * count
                for i in 0 ..< count { d[i] = a[i] > d[i] ? a[i] : d[i] }
            }
        case .min:
            d.update(from: s, count: count)
            for h in 1 ..< Swift.max(heads, 1) {
                let a = s + h * count
                for i in 0 ..< count { d[i] = a[i] < d[i] ? a[i] : d[i] }
            }
        case .std:
            let mean = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { mean.deallocate() }
            meanBlocks(heads: heads, s, mean, count)
            for i in 0 ..< count {
                let x = s[i] - mean[i]
                d[i] = x * x
            }
            for h in 1 ..< Swift.max(heads, 1) {
                let a = s + h * count
                for i in 0 ..< count {
                    let x = a[i] - mean[i]
                    d[i] += x * x
                }
            }
            let hf = Float(heads)
            for i in 0 ..< count { d[i] = (d[i] / hf).squareRoot() }
        }
    }

    private func meanBlocks(heads: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ count: Int) {
        d.update(from: s, count: count)
        for h in 1 ..< Swift.max(heads, 1) {
            let a = s + h * count
            for i in 0 ..< count { d[i] += a[i] }
        }
        let hf = Float(heads)
        for i in 0 ..< count { d[i] /= hf }
    }
}
