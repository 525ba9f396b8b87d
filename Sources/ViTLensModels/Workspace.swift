import CViTLensKernels
import ViTLensCore

/// Scratch memory of one forward pass, allocated once and reused by every layer (and by the
/// encoder's next forward of the same shape, see ``Encoder``). For a batch of `images` the row
/// buffers (normed, Q/K/V, context, branch, MLP) hold every image's rows; the attention buffers
/// (probabilities, logits, split queries and keys) hold one image at a time. Contents are not
/// cleared between uses: every buffer is written before it is read.
final class Workspace {
    let normed, qkv, context, branch, ff: UnsafeMutablePointer<Float>
    /// Queries, keys and values inside `qkv` (row stride `3 * hidden`).
    var q: UnsafeMutablePointer<Float> { qkv }
    var k: UnsafeMutablePointer<Float> { qkv + hidden }
    var v: UnsafeMutablePointer<Float> { qkv + 2 * hidden }
    let hidden: Int
    let gate: UnsafeMutablePointer<Float>
    /// `[heads, tokens, tokens]` scores, turned into probabilities in place, when the layer's
    /// probabilities are kept (`keepsProbabilities`); otherwise `MultiHeadAttention.blockRows(keys:)`
    /// rows of `tokens` scores per attention worker (one head of one row block at a time).
    let probs: UnsafeMutablePointer<Float>
    /// Whether `probs` holds a whole layer (else per-worker row blocks).
    let keepsProbabilities: Bool
    /// Attention workers `probs` has row-block slots for when the layer is not kept.
    let attentionWorkers: Int
    /// Every head's keys and values packed for ``MultiHeadAttention/packedKernel`` (one image at a
    /// time), `nil` when BLAS does the attention products.
    let packedKeys, packedValues: UnsafeMutablePointer<Float>?
    let logits: UnsafeMutablePointer<Float>?
    let queriesByHead, keysByHead: UnsafeMutablePointer<Float>?
    private var all: [FloatStorage] = []

    /// What a workspace is allocated for; a forward of the same shape can reuse it.
    struct Shape: Equatable {
        var tokens, images, hidden, heads, headDim, ffWidth, gateWidth: Int
        var options: CaptureOptions
        var keepProbabilities: Bool
        /// Taken from the process (thread count, CPU) when the shape is made: they size buffers too.
        var attentionWorkers: Int
        var packedKernel: Bool

        init(tokens: Int, images: Int, hidden: Int, heads: Int, headDim: Int, ffWidth: Int, gateWidth: Int,
             options: CaptureOptions, keepProbabilities: Bool) {
            (self.tokens, self.images, self.hidden, self.heads, self.headDim) = (tokens, images, hidden, heads, headDim)
            (self.ffWidth, self.gateWidth, self.options, self.keepProbabilities) = (ffWidth, gateWidth, options, keepProbabilities)
            attentionWorkers = MultiHeadAttention.workers(tokens: tokens)
            packedKernel = MultiHeadAttention.packedKernel
        }
    }

    /// The shape this workspace was allocated for.
    let shape: Shape
    /// Bytes of every buffer.
    let bytes: Int

    init(_ shape: Shape) {
        self.shape = shape
        let (n, d, h, dh) = (shape.tokens, shape.hidden, shape.heads, shape.headDim)
        var all: [FloatStorage] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let s = FloatStorage(count: count)
            all.append(s)
            return s.pointer
        }
        hidden = d
        let rows = shape.images * n
        normed = make(rows * d); qkv = make(rows * 3 * d)
        context = make(rows * d); branch = make(rows * d); ff = make(rows * shape.ffWidth)
        gate = make(rows * max(1, shape.gateWidth))
        keepsProbabilities = shape.keepProbabilities
        attentionWorkers = shape.attentionWorkers
        probs = make(shape.keepProbabilities ? h * n * n : attentionWorkers * min(n, MultiHeadAttention.blockRows(keys: n)) * n)
        if shape.packedKernel {
            packedKeys = make(h * vitlens_packed_rows_count(Int32(n), Int32(dh)))
            packedValues = make(h * vitlens_packed_columns_count(Int32(n), Int32(dh)))
        } else {
            packedKeys = nil
            packedValues = nil
        }
        logits = shape.options.contains(.logits) ? make(h * n * n) : nil
        queriesByHead = shape.options.contains(.queries) ? make(h * n * dh) : nil
        keysByHead = shape.options.contains(.keys) ? make(h * n * dh) : nil
        self.all = all
        bytes = all.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
    }

    /// Rows of `stride` floats holding `[heads*headDim]` at their start -> `[heads, tokens, headDim]`.
    static func splitHeads(_ x: UnsafePointer<Float>, stride: Int, tokens n: Int, heads h: Int, headDim dh: Int, into out: UnsafeMutablePointer<Float>) {
        for head in 0 ..< h {
            for t in 0 ..< n {
                (out + (head * n + t) * dh).update(from: x + t * stride + head * dh, count: dh)
            }
        }
    }
}
