import ViTLensCore

/// The activations a forward pass keeps so that ``Encoder`` can run backwards: per layer, the two
/// LayerNorm inputs, the stacked queries/keys/values, the attention probabilities and the
/// feed-forward pre-activation. Allocated only when gradients are requested; the plain forward
/// records nothing.
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
    let layers: [Layer]

    init(spec: EncoderSpec, tokens n: Int) {
        tokens = n
        let d = spec.hidden
        let ff = spec.feedForwardWidths.ff
        layers = (0 ..< spec.layers).map { _ in
            Layer(norm1Input: FloatStorage(count: n * d), qkv: FloatStorage(count: n * 3 * d),
                  probabilities: FloatStorage(count: spec.heads * n * n), norm2Input: FloatStorage(count: n * d),
                  feedForwardInput: FloatStorage(count: n * ff))
        }
    }

    /// Bytes a tape of `spec` at `tokens` tokens takes: `layers * 4 * (5 N D + heads N^2 + N ffWidth)`.
    static func bytes(spec: EncoderSpec, tokens n: Int) -> Int {
        let perLayer = Limits.sum(MemoryEstimate.floats(5, n, spec.hidden), MemoryEstimate.floats(spec.heads, n, n),
                                  MemoryEstimate.floats(n, spec.feedForwardWidths.ff)) ?? .max
        return Limits.product(spec.layers, perLayer) ?? .max
    }
}
