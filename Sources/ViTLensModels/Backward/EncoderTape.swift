import ViTLensCore

/// The activations a forward pass keeps so that ``Encoder`` can run backwards: per layer, the two
/// LayerNorm inputs, the stacked queries/keys/values, the attention probabilities and the
/// feed-forward pre-activation. Allocated only when gradients are requested; the plain forward
/// records nothing.
///
/// With `recompute` (gradient checkpointing) the tape keeps only each layer's input `[N, D]` and a
/// single layer's record, which the backward refills by running that one layer forward again from
/// its input (same kernels, same values) just before going back through it.
final class EncoderTape {
    /// One layer's recorded activations (row-major, `tokens` rows).
    struct Layer {
        /// Input of the first LayerNorm, `[N, D]`: the block input (pre-norm) or `x + attention` (post-norm).
        let norm1Input: FloatStorage
        /// `[N, 3D]`: queries, keys, values as the forward computed them.
        let qkv: FloatStorage
        /// `[heads, N, N]` softmax probabilities.
        let probabilities: FloatStorage
        /// Input of the second LayerNorm, `[N, D]`: `x` after attention (pre-norm) or `x + feed-forward` (post-norm).
        let norm2Input: FloatStorage
        /// `[N, ffWidth]`: the first feed-forward projection before its non-linearity.
        let feedForwardInput: FloatStorage
    }

    let tokens: Int
    /// Whether layers are recomputed during the backward (only ``inputs`` and one record kept).
    let recompute: Bool
    /// Every layer's record, or the one shared record when recomputing.
    private let records: [Layer]
    /// With `recompute`: each layer's input `[N, D]`; empty otherwise.
    private let inputs: [FloatStorage]

    init(spec: EncoderSpec, tokens n: Int, recompute: Bool = false) {
        tokens = n
        self.recompute = recompute
        let d = spec.hidden
        let ff = spec.feedForwardWidths.ff
        records = (0 ..< (recompute ? 1 : spec.layers)).map { _ in
            Layer(norm1Input: FloatStorage(count: n * d), qkv: FloatStorage(count: n * 3 * d),
                  probabilities: FloatStorage(count: spec.heads * n * n), norm2Input: FloatStorage(count: n * d),
                  feedForwardInput: FloatStorage(count: n * ff))
        }
        inputs = recompute ? (0 ..< spec.layers).map { _ in FloatStorage(count: n * d) } : []
    }

    /// Where layer `index`'s activations go (the shared record when recomputing).
    func record(_ index: Int) -> Layer { records[recompute ? 0 : index] }

    /// Keeps layer `index`'s input `x [N, D]` when recomputing (a no-op otherwise).
    func saveInput(_ index: Int, _ x: UnsafePointer<Float>, hidden: Int) {
        guard recompute, inputs.indices.contains(index) else { return }
        inputs[index].pointer.update(from: x, count: tokens * hidden)
    }

    /// Layer `index`'s saved input (recompute only).
    func input(_ index: Int) -> UnsafePointer<Float> { UnsafePointer(inputs[index].pointer) }

    /// Bytes a tape of `spec` at `tokens` tokens takes: `layers * 4 * (5 N D + heads N^2 + N ffWidth)`,
    /// or with `recompute` `4 * (layers N D + 5 N D + heads N^2 + N ffWidth)`. (The one-layer forward
    /// the backward reruns takes a workspace as large as the forward's, which is freed by then and
    /// already counted in the forward's estimate.)
    static func bytes(spec: EncoderSpec, tokens n: Int, recompute: Bool = false) -> Int {
        let perLayer = Limits.sum(MemoryEstimate.floats(5, n, spec.hidden), MemoryEstimate.floats(spec.heads, n, n),
                                  MemoryEstimate.floats(n, spec.feedForwardWidths.ff)) ?? .max
        guard recompute else { return Limits.product(spec.layers, perLayer) ?? .max }
        return Limits.sum(MemoryEstimate.floats(spec.layers, n, spec.hidden), perLayer) ?? .max
    }
}
