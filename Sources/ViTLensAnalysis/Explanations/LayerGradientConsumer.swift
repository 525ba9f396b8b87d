import ViTLensCore

/// A consumer of each layer's attention and the gradient of a scalar target with respect to it,
/// fed by a backward pass.
///
/// The producer (a reverse-mode pass) calls ``begin(_:)`` once, ``consume(layer:heads:tokens:layout:attention:gradient:)``
/// once per layer in **any order** (a backward pass naturally delivers the last layer first), then
/// ``finish()``. Both buffers are row-major `[heads, tokens, tokens]` (row = query, column = key):
/// `attention` holds the post-softmax probabilities `A_l`, `gradient` holds `dTarget/dA_l`. They are
/// valid only during the call: copy what you keep. An error thrown here aborts the pass.
public protocol LayerGradientConsumer {
    /// Called once before the first layer with the shape of the pass.
    mutating func begin(_ geometry: AttentionGeometry) throws
    /// Called once per layer with `A_l` and `dTarget/dA_l`, both `[heads, tokens, tokens]`.
    mutating func consume(
        layer: Int, heads: Int, tokens: Int, layout: TokenLayout,
        attention: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws
    /// Called once after the last layer.
    mutating func finish() throws
    /// Bytes the consumer keeps across layers for a pass of `geometry` (for the memory check made
    /// before the pass, as ``AttentionObserver/estimatedBytes(for:)``).
    func estimatedBytes(for geometry: AttentionGeometry) -> Int
}
