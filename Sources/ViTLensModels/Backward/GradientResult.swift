import ViTLensCore

/// What a backward pass returns besides the per-layer gradients its observer received.
public struct GradientResult<Output: Sendable>: Sendable {
    /// The target's value on this input.
    public var value: Float
    /// The encoder's input `[N, D]` (token embeddings after position embeddings and, where the
    /// family has one, the embedding LayerNorm or CLIP's `pre_layrnorm`).
    public var embeddings: Tensor
    /// `dTarget/d(embeddings)`, `[N, D]` (multiply with ``embeddings`` for input x gradient).
    public var embeddingGradient: Tensor
    /// The forward pass's outputs, as the plain forward returns them.
    public var output: Output
}
