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

    /// Whether the target's gradient is numerically zero, so that every map built from it is an
    /// artefact, not an answer: the first-order change it predicts for a change of the embeddings as
    /// large as the embeddings themselves, `‖dT/dE‖₂ · ‖E‖₂`, is at most `1e-6 · max(1, |T|)`.
    /// Happens for a cosine target at its maximum (`similar:` with the image itself) or a logit
    /// that no longer depends on the input.
    public var gradientIsZero: Bool {
        Self.isZero(gradient: embeddingGradient.values, embeddings: embeddings.values, value: value)
    }

    /// The test behind ``gradientIsZero`` (sums in Double).
    static func isZero(gradient: [Float], embeddings: [Float], value: Float) -> Bool {
        let g = gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let e = embeddings.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        return g * e <= 1e-6 * max(1, Double(abs(value)))
    }
}
