import ViTLensCheckpoint
import ViTLensCore

/// A Linear layer: `y = x Wᵀ + b` with the checkpoint's `weight [out, in]` and `bias [out]` (optional).
///
/// The weight is kept as stored and used transposed by sgemm, except when `in > out` (e.g. the MLP's
/// down projection), where it is transposed once at load to `[in, out]`: OpenBLAS runs that shape
/// about 9% faster untransposed (measured here: 197x768x3072 in 4.70 vs 5.15 ms).
struct Linear {
    let weight: Param
    let bias: Param?
    let outFeatures: Int
    let inFeatures: Int
    /// Whether `weight` holds `[in, out]` (transposed at load) rather than `[out, in]`.
    let inMajor: Bool

    init(_ store: WeightStore, _ prefix: String, out: Int, in inF: Int, bias hasBias: Bool = true) throws {
        self.init(weight: try store.take("\(prefix).weight", shape: [out, inF]),
                  bias: hasBias ? try store.take("\(prefix).bias", shape: [out]) : nil, out: out, in: inF)
    }

    init(weight w: [Float], bias b: [Float]?, out: Int, in inF: Int) {
        outFeatures = out
        inFeatures = inF
        inMajor = inF > out
        if inMajor {
            var t = [Float](repeating: 0, count: w.count)
            for o in 0 ..< out { for i in 0 ..< inF { t[i * out + o] = w[o * inF + i] } }
            weight = Param(t, shape: [inF, out])
        } else {
            weight = Param(w, shape: [out, inF])
        }
        bias = b.map { Param($0, shape: [out]) }
    }

    /// Several Linears over the same input stacked into one (`[sum(out), in]`), e.g. Q, K and V:
    /// one larger GEMM runs faster than three. Missing biases become zeros.
    init(stacking prefixes: [String], _ store: WeightStore, out: Int, in inF: Int, bias hasBias: Bool) throws {
        var w: [Float] = []
        var b: [Float] = []
        for p in prefixes {
            w += try store.take("\(p).weight", shape: [out, inF])
            b += hasBias ? try store.take("\(p).bias", shape: [out]) : [Float](repeating: 0, count: out)
        }
        self.init(weight: w, bias: hasBias ? b : nil, out: out * prefixes.count, in: inF)
    }

    /// `y[rows, out] = x[rows, in] · Wᵀ + b` (weight used transposed by sgemm, no copy).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transB: !inMajor, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                   b: weight.ptr, ldb: inMajor ? outFeatures : inFeatures, c: y, ldc: outFeatures)
        if let bias { Kernels.addBias(y, rows: rows, cols: outFeatures, bias: bias.ptr) }
    }
}

/// A LayerNorm's `weight` and `bias`.
struct LayerNorm {
    let gamma: Param
    let beta: Param
    let eps: Float

    init(_ store: WeightStore, _ prefix: String, dim: Int, eps: Float) throws {
        gamma = try store.param("\(prefix).weight", [dim])
        beta = try store.param("\(prefix).bias", [dim])
        self.eps = eps
    }

    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        Kernels.layerNorm(x, rows: rows, cols: gamma.count, gamma: gamma.ptr, beta: beta.ptr, eps: eps, out: y)
    }
}

/// One transformer block: multi-head self-attention and a feed-forward network, each with a
/// residual connection and a LayerNorm (placed before or after, per ``EncoderSpec/norm``).
struct EncoderLayer {
    /// Q, K and V stacked: output columns `[0, D)` are queries, `[D, 2D)` keys, `[2D, 3D)` values.
    let qkv: Linear
    let output: Linear
    let norm1, norm2: LayerNorm
    let fc1, fc2: Linear
    let scale1, scale2: Param?

    init(_ store: WeightStore, spec: EncoderSpec, keys: EncoderKeys, index: Int) throws {
        let p = keys.layer(index)
        let d = spec.hidden
        qkv = try Linear(stacking: ["\(p).\(keys.query)", "\(p).\(keys.key)", "\(p).\(keys.value)"], store,
                         out: d, in: d, bias: spec.qkvBias)
        output = try Linear(store, "\(p).\(keys.attentionOutput)", out: d, in: d)
        norm1 = try LayerNorm(store, "\(p).\(keys.norm1)", dim: d, eps: spec.eps)
        norm2 = try LayerNorm(store, "\(p).\(keys.norm2)", dim: d, eps: spec.eps)
        switch spec.feedForward {
        case .mlp(let i):
            fc1 = try Linear(store, "\(p).\(keys.fc1)", out: i, in: d)
            fc2 = try Linear(store, "\(p).\(keys.fc2)", out: d, in: i)
        case .swiGLU(let h):
            fc1 = try Linear(store, "\(p).\(keys.swiGLUIn)", out: 2 * h, in: d)
            fc2 = try Linear(store, "\(p).\(keys.swiGLUOut)", out: d, in: h)
        }
        if spec.layerScale {
            scale1 = try store.param("\(p).\(keys.layerScale1)", [d])
            scale2 = try store.param("\(p).\(keys.layerScale2)", [d])
        } else {
            scale1 = nil
            scale2 = nil
        }
    }
}

/// The stack of blocks shared by every family, with attention capture after each softmax.
public final class Encoder: @unchecked Sendable {
    /// The encoder's shape.
    public let spec: EncoderSpec
    let layers: [EncoderLayer]
    /// The checkpoint, named when the forward pass overflows.
    let weightsFile: String

    /// Takes every block's weights from `store` using the family's key table.
    init(_ store: WeightStore, spec: EncoderSpec, keys: EncoderKeys) throws {
        self.spec = spec
        weightsFile = store.file
        layers = try (0 ..< spec.layers).map { try EncoderLayer(store, spec: spec, keys: keys, index: $0) }
    }

    /// Runs every block over `x[tokens, hidden]` in place, calling `observer` after each layer's
    /// softmax.
    ///
    /// Nothing non-finite reaches an observer or the caller: the embeddings, every head's attention
    /// scores (checked per block of rows while they are in cache, before the softmax) and every
    /// block's output are scanned for NaN and infinities, and the first one found stops the pass
    /// with ``CheckpointError/nonFiniteActivation(file:stage:)`` naming the layer (and head).
    ///
    /// - Parameters:
    ///   - x: the embeddings, overwritten with the last block's output (before any final norm).
    ///   - additiveMask: optional `[tokens]` added to every score row before the softmax (0 to keep a
    ///     key, a large negative number to drop a padded one), as BERT's extended attention mask.
    func forward<O: AttentionObserver>(
        _ x: UnsafeMutablePointer<Float>, tokens n: Int, layout: TokenLayout,
        additiveMask: UnsafePointer<Float>? = nil, observer: inout O
    ) throws {
        let d = spec.hidden
        let h = spec.heads
        let dh = spec.headDim
        try requireFinite(x, count: n * d, stage: "the embeddings (input of layer 0)")
        let options = observer.captureOptions
        try observer.begin(AttentionGeometry(layers: spec.layers, heads: h, tokens: n, headDim: dh, layout: layout))
        let statistics = observer.rowStatistics

        let ffWidth: Int
        let gateWidth: Int
        switch spec.feedForward {
        case .mlp(let i): ffWidth = i; gateWidth = 0
        case .swiGLU(let hid): ffWidth = 2 * hid; gateWidth = hid
        }
        let work = Workspace(tokens: n, hidden: d, heads: h, headDim: dh, ffWidth: ffWidth, gateWidth: gateWidth, options: options)
        defer { work.deallocate() }

        for (index, layer) in layers.enumerated() {
            // Attention sub-block.
            let attnInput = branchInput(x, norm: layer.norm1, rows: n, work: work)
            layer.qkv(attnInput, rows: n, into: work.qkv)
            if let bad = MultiHeadAttention.run(work: work, tokens: n, heads: h, headDim: dh, hidden: d, mask: additiveMask,
                                                layer: index, statistics: statistics) {
                throw CheckpointError.nonFiniteActivation(
                    file: weightsFile, stage: "layer \(index) head \(bad.head) attention scores (query token \(bad.row))")
            }
            try deliver(work: work, layer: index, tokens: n, layout: layout, options: options, observer: &observer)
            layer.output(work.context, rows: n, into: work.branch)
            addBranch(into: x, norm: layer.norm1, scale: layer.scale1, rows: n, work: work)

            // Feed-forward sub-block.
            let ffInput = branchInput(x, norm: layer.norm2, rows: n, work: work)
            layer.fc1(ffInput, rows: n, into: work.ff)
            let hiddenActs: UnsafeMutablePointer<Float>
            switch spec.feedForward {
            case .mlp(let i):
                switch spec.activation {
                case .gelu: Kernels.gelu(work.ff, count: n * i)
                case .geluTanh: Kernels.geluTanh(work.ff, count: n * i)
                case .quickGELU: Kernels.quickGELU(work.ff, count: n * i)
                case .relu: Kernels.relu(work.ff, count: n * i)
                }
                hiddenActs = work.ff
            case .swiGLU(let hid):
                Kernels.swiGLU(work.ff, rows: n, hidden: hid, out: work.gate)
                hiddenActs = work.gate
            }
            layer.fc2(hiddenActs, rows: n, into: work.branch)
            addBranch(into: x, norm: layer.norm2, scale: layer.scale2, rows: n, work: work)
            try requireFinite(x, count: n * d, stage: "the output of layer \(index)")
        }
        try observer.finish()
    }

    /// Throws ``CheckpointError/nonFiniteActivation(file:stage:)`` when `x[0 ..< count]` holds a
    /// NaN or an infinity (the token is named: row `index / hidden`).
    func requireFinite(_ x: UnsafePointer<Float>, count: Int, stage: String) throws {
        if let i = Finite.firstNonFinite(x, count: count) {
            throw CheckpointError.nonFiniteActivation(file: weightsFile, stage: "\(stage), token \(i / spec.hidden)")
        }
    }

    /// A sub-block's input: `LN(x)` for pre-norm blocks, `x` itself for post-norm ones.
    private func branchInput(_ x: UnsafeMutablePointer<Float>, norm: LayerNorm, rows n: Int, work: Workspace) -> UnsafePointer<Float> {
        guard spec.norm == .pre else { return UnsafePointer(x) }
        norm(x, rows: n, into: work.normed)
        return UnsafePointer(work.normed)
    }

    /// Adds the sub-block output in `work.branch` to the residual stream `x`: `x += s * branch`
    /// (`s` = layer scale or 1) for pre-norm blocks, `x = LN(x + branch)` for post-norm ones.
    private func addBranch(into x: UnsafeMutablePointer<Float>, norm: LayerNorm, scale: Param?, rows n: Int, work: Workspace) {
        let d = spec.hidden
        if spec.norm == .pre {
            if let s = scale { Kernels.addScaled(x, work.branch, scale: s.ptr, rows: n, cols: d) }
            else { Kernels.addInPlace(x, work.branch, count: n * d) }
        } else {
            Kernels.addInPlace(work.branch, x, count: n * d)
            norm(work.branch, rows: n, into: x)
        }
    }

    private func deliver<O: AttentionObserver>(
        work: Workspace, layer: Int, tokens n: Int, layout: TokenLayout, options: CaptureOptions, observer: inout O
    ) throws {
        let h = spec.heads
        let dh = spec.headDim
        let probs = UnsafeBufferPointer(start: work.probs, count: h * n * n)
        let logits = work.logits.map { UnsafeBufferPointer(start: $0, count: h * n * n) }
        var queries: UnsafeBufferPointer<Float>?
        var keys: UnsafeBufferPointer<Float>?
        if let qh = work.queriesByHead {
            Workspace.splitHeads(work.q, stride: 3 * spec.hidden, tokens: n, heads: h, headDim: dh, into: qh)
            queries = UnsafeBufferPointer(start: qh, count: h * n * dh)
        }
        if let kh = work.keysByHead {
            Workspace.splitHeads(work.k, stride: 3 * spec.hidden, tokens: n, heads: h, headDim: dh, into: kh)
            keys = UnsafeBufferPointer(start: kh, count: h * n * dh)
        }
        try observer.observe(LayerAttention(
            layer: layer, heads: h, tokens: n, headDim: dh, layout: layout,
            probabilities: probs, logits: logits, queries: queries, keys: keys))
    }
}

/// Scratch memory of one forward pass, allocated once and reused by every layer.
final class Workspace {
    let normed, qkv, context, branch, ff: UnsafeMutablePointer<Float>
    /// Queries, keys and values inside `qkv` (row stride `3 * hidden`).
    var q: UnsafeMutablePointer<Float> { qkv }
    var k: UnsafeMutablePointer<Float> { qkv + hidden }
    var v: UnsafeMutablePointer<Float> { qkv + 2 * hidden }
    let hidden: Int
    let gate: UnsafeMutablePointer<Float>
    /// `[heads, tokens, tokens]` scores, turned into probabilities in place.
    let probs: UnsafeMutablePointer<Float>
    let logits: UnsafeMutablePointer<Float>?
    let queriesByHead, keysByHead: UnsafeMutablePointer<Float>?
    private var all: [FloatStorage] = []

    init(tokens n: Int, hidden d: Int, heads h: Int, headDim dh: Int, ffWidth: Int, gateWidth: Int, options: CaptureOptions) {
        var all: [FloatStorage] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let s = FloatStorage(count: count)
            all.append(s)
            return s.pointer
        }
        hidden = d
        normed = make(n * d); qkv = make(n * 3 * d)
        context = make(n * d); branch = make(n * d); ff = make(n * ffWidth)
        gate = make(n * max(1, gateWidth))
        probs = make(h * n * n)
        logits = options.contains(.logits) ? make(h * n * n) : nil
        queriesByHead = options.contains(.queries) ? make(h * n * dh) : nil
        keysByHead = options.contains(.keys) ? make(h * n * dh) : nil
        self.all = all
    }

    func deallocate() { all = [] }

    /// Rows of `stride` floats holding `[heads*headDim]` at their start -> `[heads, tokens, headDim]`.
    static func splitHeads(_ x: UnsafePointer<Float>, stride: Int, tokens n: Int, heads h: Int, headDim dh: Int, into out: UnsafeMutablePointer<Float>) {
        for head in 0 ..< h {
            for t in 0 ..< n {
                (out + (head * n + t) * dh).update(from: x + t * stride + head * dh, count: dh)
            }
        }
    }
}

/// Scaled dot-product attention with explicit probabilities (never a fused kernel), per head:
/// `P = softmax(Q_h K_hᵀ / sqrt(d_h) + mask)`, `context_h = P V_h`.
///
/// Computed in blocks of query rows, every head of a block together, blocks spread over
/// ``Compute/threads`` with single-threaded BLAS calls: a head's block of scores (128 rows) stays in
/// cache from the `QKᵀ` product through the softmax, the observers' row statistics and the `PV`
/// product, instead
/// of streaming `heads * N^2` floats through memory three times (the difference at N = 3,601).
/// Each probability is computed exactly as in a whole-matrix pass (same dot products, same softmax).
enum MultiHeadAttention {
    /// Query rows per block.
    static let blockRows = 128

    /// Runs one layer's attention.
    /// - Returns: `nil`, or the first (block-order) head and query row whose scores hold a NaN or
    ///   an infinity; the scores are scanned per block before the softmax, which would hide them.
    static func run(work: Workspace, tokens n: Int, heads h: Int, headDim dh: Int, hidden d: Int, mask: UnsafePointer<Float>?,
                    layer: Int, statistics: [any AttentionRowStatistic]) -> (head: Int, row: Int)? {
        let scale = 1 / Float(dh).squareRoot()
        nonisolated(unsafe) let w = work
        nonisolated(unsafe) let mask = mask
        let blocks = (n + blockRows - 1) / blockRows
        // Per block: the first non-finite score as head * n + row, or -1. Each block writes its slot only.
        let firstBad = UnsafeMutablePointer<Int>.allocate(capacity: blocks)
        firstBad.initialize(repeating: -1, count: blocks)
        defer { firstBad.deallocate() }
        nonisolated(unsafe) let bad = firstBad
        let savedThreads = BLAS.threads
        let parallel = Compute.threads > 1 && blocks > 1
        if parallel { BLAS.setThreads(1) }
        defer { if parallel { BLAS.setThreads(savedThreads) } }
        let body: (Int) -> Void = { b in
            let r0 = b * blockRows
            let rows = min(blockRows, n - r0)
            for head in 0 ..< h {
                let scores = w.probs + (head * n + r0) * n
                BLAS.sgemm(transB: true, m: rows, n: n, k: dh, alpha: scale,
                           a: w.q + r0 * 3 * d + head * dh, lda: 3 * d, b: w.k + head * dh, ldb: 3 * d, c: scores, ldc: n)
                // Before the mask, which may hold -inf for dropped keys.
                if bad[b] < 0, let i = Finite.firstNonFinite(scores, count: rows * n) { bad[b] = head * n + r0 + i / n }
                if let mask {
                    for r in 0 ..< rows {
                        let row = scores + r * n
                        for c in 0 ..< n { row[c] += mask[c] }
                    }
                }
                if let logits = w.logits { (logits + (head * n + r0) * n).update(from: scores, count: rows * n) }
                for r in 0 ..< rows { Kernels.softmaxRow(scores + r * n, count: n) }
                for s in statistics {
                    s.accumulate(layer: layer, head: head, heads: h, rows: r0 ..< (r0 + rows), probabilities: scores, tokens: n)
                }
                BLAS.sgemm(m: rows, n: dh, k: n, a: scores, lda: n, b: w.v + head * dh, ldb: 3 * d,
                           c: w.context + r0 * d + head * dh, ldc: d)
            }
        }
        if parallel {
            nonisolated(unsafe) let run = body
            DispatchQueue.concurrentPerform(iterations: blocks) { run($0) }
        } else {
            for b in 0 ..< blocks { body(b) }
        }
        for b in 0 ..< blocks where bad[b] >= 0 { return (bad[b] / n, bad[b] % n) }
        return nil
    }
}

import Dispatch
