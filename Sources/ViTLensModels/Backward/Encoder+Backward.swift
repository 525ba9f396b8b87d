import ViTLensCheckpoint
import ViTLensCore

extension Encoder {
    /// Reverse mode through every block, last layer first, from the activations `tape` recorded.
    ///
    /// Per pre-norm block (`m = x + s1 * Attn(LN1(x))`, `y = m + s2 * FFN(LN2(m))`):
    /// `dm = dy + LN2ᵀ(fc1ᵀ(act'(.) fc2ᵀ(s2 dy)))`, `dx = dm + LN1ᵀ(qkvᵀ(Attnᵀ(outᵀ(s1 dm))))`;
    /// post-norm blocks (`m = LN1(x + Attn(x))`, `y = LN2(m + FFN(m))`) go through each LayerNorm
    /// first. The attention step hands `A_l` and `dA_l` to `observer` (see ``AttentionBackward``).
    /// A recomputing tape (``EncoderTape/recompute``) first reruns each layer forward from its saved
    /// input to refill its one record.
    ///
    /// - Parameters:
    ///   - dx: `[N, D]`, on entry the gradient with respect to the last block's output, on return
    ///     the gradient with respect to the first block's input (the embeddings).
    ///   - readoutLayers: layers after the blocks (SigLIP's pooling head): the geometry announces
    ///     `spec.layers + readoutLayers` layers and `readout` delivers them right after
    ///     ``GradientObserver/begin(_:)``, before layer `spec.layers - 1`.
    /// - Throws: what the observer throws, or ``CheckpointError/nonFiniteActivation(file:stage:)``
    ///   when a gradient overflows.
    func backward<O: GradientObserver>(_ dx: UnsafeMutablePointer<Float>, tape: EncoderTape, layout: TokenLayout,
                                       readoutLayers: Int = 0, readout: (inout O) throws -> Void = { _ in },
                                       observer: inout O) throws {
        let n = tape.tokens
        let d = spec.hidden
        let h = spec.heads
        let (ffWidth, gateWidth) = spec.feedForwardWidths
        let scratch = BackwardScratch(tokens: n, hidden: d, heads: h, ffWidth: ffWidth, gateWidth: gateWidth)
        try observer.begin(AttentionGeometry(layers: spec.layers + readoutLayers, heads: h, tokens: n, headDim: spec.headDim, layout: layout))
        try readout(&observer)
        let replay = tape.recompute ? FloatStorage(count: n * d) : nil
        for index in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[index]
            if let replay {
                replay.pointer.update(from: tape.input(index), count: n * d)
                var none = NoObserver()
                try forward(replay.pointer, tokens: n, layout: layout, tape: tape, only: index ..< index + 1, observer: &none)
            }
            let rec = tape.record(index)
            // Feed-forward sub-block.
            let dBranch = branchGradient(dx, norm: layer.norm2, input: rec.norm2Input.pointer, scale: layer.scale2, rows: n, scratch: scratch)
            feedForwardBackward(layer, dBranch, input: rec.feedForwardInput.pointer, rows: n, scratch: scratch)
            layer.fc1.backward(scratch.ff, rows: n, into: scratch.normed)
            addInputGradient(dx, norm: layer.norm2, input: rec.norm2Input.pointer, rows: n, scratch: scratch)
            // Attention sub-block.
            let dAttn = branchGradient(dx, norm: layer.norm1, input: rec.norm1Input.pointer, scale: layer.scale1, rows: n, scratch: scratch)
            layer.output.backward(dAttn, rows: n, into: scratch.context)
            try AttentionBackward.run(layer: index, layout: layout, spec: spec, tokens: n, qkv: rec.qkv.pointer,
                                      probabilities: rec.probabilities.pointer, dContext: scratch.context,
                                      dScores: scratch.scores, dQKV: scratch.qkv, observer: &observer)
            layer.qkv.backward(scratch.qkv, rows: n, into: scratch.normed)
            addInputGradient(dx, norm: layer.norm1, input: rec.norm1Input.pointer, rows: n, scratch: scratch)
            try requireFinite(dx, count: n * d, stage: "the gradient at the input of layer \(index)")
        }
        try observer.finish()
    }

    /// The gradient reaching a sub-block's output. Pre-norm: `s * dx` (or `dx` itself without a layer
    /// scale). Post-norm: `dx` becomes the gradient of the LayerNorm's input `x + branch`, which is
    /// also the branch's gradient.
    private func branchGradient(_ dx: UnsafeMutablePointer<Float>, norm: LayerNorm, input: UnsafePointer<Float>, scale: Param?,
                                rows n: Int, scratch: BackwardScratch) -> UnsafePointer<Float> {
        let d = spec.hidden
        if spec.norm == .post {
            norm.backward(input: input, gradient: dx, rows: n, into: scratch.branch)
            dx.update(from: scratch.branch, count: n * d)
            return UnsafePointer(dx)
        }
        guard let s = scale else { return UnsafePointer(dx) }
        for r in 0 ..< n { for c in 0 ..< d { scratch.branch[r * d + c] = dx[r * d + c] * s.ptr[c] } }
        return UnsafePointer(scratch.branch)
    }

    /// Adds the gradient that flows through the sub-block (held in `scratch.normed`, the gradient of
    /// the branch's input) to the residual gradient `dx`: through the pre-norm LayerNorm, or directly
    /// for post-norm blocks.
    private func addInputGradient(_ dx: UnsafeMutablePointer<Float>, norm: LayerNorm, input: UnsafePointer<Float>,
                                  rows n: Int, scratch: BackwardScratch) {
        if spec.norm == .pre {
            norm.backward(input: input, gradient: scratch.normed, rows: n, into: dx, accumulate: true)
        } else {
            Kernels.addInPlace(dx, scratch.normed, count: n * spec.hidden)
        }
    }

    /// `scratch.ff` = gradient at the first feed-forward projection's output, from `dOut` at the
    /// second's output.
    private func feedForwardBackward(_ layer: EncoderLayer, _ dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                     rows n: Int, scratch: BackwardScratch) {
        switch spec.feedForward {
        case .mlp(let i):
            layer.fc2.backward(dOut, rows: n, into: scratch.ff)
            spec.activation.backward(input, scratch.ff, count: n * i)
        case .swiGLU(let hid):
            layer.fc2.backward(dOut, rows: n, into: scratch.gate)
            Activation.swiGLUBackward(input, scratch.gate, rows: n, hidden: hid, into: scratch.ff)
        }
    }
}

/// Scratch memory of one backward pass, reused by every layer.
final class BackwardScratch {
    let branch, normed, context, qkv, ff, gate, scores: UnsafeMutablePointer<Float>
    private let storage: [FloatStorage]

    init(tokens n: Int, hidden d: Int, heads h: Int, ffWidth: Int, gateWidth: Int) {
        let sizes = [n * d, n * d, n * d, n * 3 * d, n * ffWidth, n * max(1, gateWidth), h * n * n]
        storage = sizes.map { FloatStorage(count: $0) }
        let p = storage.map(\.pointer)
        (branch, normed, context, qkv, ff, gate, scores) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6])
    }

    /// Bytes of the scratch and the `[N, D]` gradient it works on (and, when recomputing, the `[N, D]`
    /// replay buffer, counted in ``EncoderTape/bytes(spec:tokens:recompute:)``'s workspace).
    static func bytes(spec: EncoderSpec, tokens n: Int) -> Int {
        let (ff, gate) = spec.feedForwardWidths
        return Limits.sum(MemoryEstimate.floats(n, spec.hidden, 7), MemoryEstimate.floats(n, ff), MemoryEstimate.floats(n, max(1, gate)),
                          MemoryEstimate.floats(spec.heads, n, n)) ?? .max
    }
}
