/// Where a family keeps one block's weights, relative to the block's prefix (Hugging Face names).
///
/// One table per family replaces any chain of string substitutions: the key *is* the Hugging Face
/// module path, so real checkpoints load with no renaming.
public struct EncoderKeys: Sendable {
    /// The block prefix, e.g. `encoder.layer.3`.
    public var layer: @Sendable (Int) -> String
    public var query = "attention.attention.query"
    public var key = "attention.attention.key"
    public var value = "attention.attention.value"
    public var attentionOutput = "attention.output.dense"
    /// Pre-norm: before attention. Post-norm: after the attention residual.
    public var norm1 = "layernorm_before"
    /// Pre-norm: before the MLP. Post-norm: after the MLP residual.
    public var norm2 = "layernorm_after"
    public var fc1 = "intermediate.dense"
    public var fc2 = "output.dense"
    public var swiGLUIn = "mlp.weights_in"
    public var swiGLUOut = "mlp.weights_out"
    public var layerScale1 = "layer_scale1.lambda1"
    public var layerScale2 = "layer_scale2.lambda1"

    public init(layer: @escaping @Sendable (Int) -> String) { self.layer = layer }
}
