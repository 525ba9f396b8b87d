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
    /// - Throws: ``AnalysisError/headOutOfRange(head:heads:)`` for a missing head,
    ///   ``AnalysisError/nonFinite(what:index:value:)`` for a NaN or infinity in `stack`.
    public func fuse(_ stack: Tensor) throws -> Tensor {
        precondition(!stack.shape.isEmpty, "fuse needs a [heads, ...] tensor")
        let heads = stack.shape[0]
        try validate(heads: heads)
        try AnalysisError.requireFinite(stack.values, what: "head stack \(stack.shape)")
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
    /// The caller has validated the head index. Works in chunks of ``chunk`` positions so that
    /// the partial results stay in L1 while every head's slice streams past once; each inner loop
    /// is a flat elementwise pass the compiler vectorises. The operation order per position is the
    /// same as unchunked (head 0, then 1, ...).
    func fuse(heads: Int, from src: UnsafeBufferPointer<Float>, into dst: UnsafeMutableBufferPointer<Float>) {
        let count = dst.count
        precondition(src.count == heads * count, "fuse: source does not hold \(heads) blocks of \(count)")
        guard count > 0, heads > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
        if case .head(let h) = self {
            d.update(from: s + h * count, count: count)
            return
        }
        let chunk = Self.chunk
        let blocks = (count + chunk - 1) / chunk
        nonisolated(unsafe) let src = s
        nonisolated(unsafe) let dst = d
        let fusion = self
        // Blocks of positions are independent: split them across Compute.threads (memory-bound).
        Compute.forEachChunk(blocks, costPerItem: chunk * heads) { range in
            let mean = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
            defer { mean.deallocate() }
            for block in range {
                let start = block * chunk
                fusion.fuseBlock(heads: heads, src, dst, count: count, start: start, m: Swift.min(chunk, count - start), mean: mean)
            }
        }
    }

    /// Fuses positions `start ..< start + length` of heads that lie `stride` floats apart in `source`
    /// into the same positions of `destination` (used on row blocks inside the attention pass).
    func fuseRange(heads: Int, source s: UnsafePointer<Float>, stride: Int, into d: UnsafeMutablePointer<Float>, start: Int, length: Int) {
        if case .head(let h) = self {
            (d + start).update(from: s + h * stride + start, count: length)
            return
        }
        let mean = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunk)
        defer { mean.deallocate() }
        var offset = start
        while offset < start + length {
            let m = Swift.min(Self.chunk, start + length - offset)
            fuseBlock(heads: heads, s, d, count: stride, start: offset, m: m, mean: mean)
            offset += m
        }
    }

    /// Fuses positions `start ..< start + m` of every head (heads are `count` apart).
    private func fuseBlock(heads: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, count: Int, start: Int, m: Int,
                           mean: UnsafeMutablePointer<Float>) {
            let out = d + start
            let first = s + start
            switch self {
            case .head:
                break
            case .mean:
                Self.meanChunk(heads: heads, first, count, out, m)
            case .max:
                out.update(from: first, count: m)
                for h in 1 ..< heads {
                    let a = first + h * count
                    for i in 0 ..< m { out[i] = a[i] > out[i] ? a[i] : out[i] }
                }
            case .min:
                out.update(from: first, count: m)
                for h in 1 ..< heads {
                    let a = first + h * count
                    for i in 0 ..< m { out[i] = a[i] < out[i] ? a[i] : out[i] }
                }
            case .std:
                Self.meanChunk(heads: heads, first, count, mean, m)
                for i in 0 ..< m {
                    let x = first[i] - mean[i]
                    out[i] = x * x
                }
                for h in 1 ..< heads {
                    let a = first + h * count
                    for i in 0 ..< m {
                        let x = a[i] - mean[i]
                        out[i] += x * x
                    }
                }
                let hf = Float(heads)
                for i in 0 ..< m { out[i] = (out[i] / hf).squareRoot() }
            }
    }

    /// Positions fused per chunk (16 KB of floats).
    static let chunk = 4_096

    /// `out[i] = (Σ_h a_h[i]) / heads` for one chunk; heads are `stride` apart.
    private static func meanChunk(heads: Int, _ s: UnsafePointer<Float>, _ stride: Int, _ out: UnsafeMutablePointer<Float>, _ m: Int) {
        out.update(from: s, count: m)
        for h in 1 ..< heads {
            let a = s + h * stride
            for i in 0 ..< m { out[i] += a[i] }
        }
        let hf = Float(heads)
        for i in 0 ..< m { out[i] /= hf }
    }
}
