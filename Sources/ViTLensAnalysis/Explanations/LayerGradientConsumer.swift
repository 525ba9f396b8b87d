import ViTLensCore

/// A consumer of each layer's attention and the gradient of a scalar target with respect to it,
/// and of the token embeddings with their gradient, fed by a backward pass.
///
/// The producer (a reverse-mode pass) calls ``begin(_:)`` once, then
/// ``consume(layer:heads:tokens:layout:attention:gradient:)`` once per layer in **any order** (a
/// backward pass naturally delivers the last layer first) and
/// ``consumeEmbeddings(tokens:width:layout:embeddings:gradient:)`` once (usually last), then
/// ``finish()``. Attention buffers are row-major `[heads, tokens, tokens]` (row = query, column =
/// key): `attention` holds the post-softmax probabilities `A_l`, `gradient` holds `dTarget/dA_l`.
/// Embedding buffers are `[tokens, width]`: the encoder's input `E` and `dTarget/dE`. All buffers
/// are valid only during the call: copy what you keep. An error thrown here aborts the pass.
public protocol LayerGradientConsumer {
    /// Called once before the first layer with the shape of the pass. Default: nothing.
    mutating func begin(_ geometry: AttentionGeometry) throws
    /// Called once per layer with `A_l` and `dTarget/dA_l`, both `[heads, tokens, tokens]`.
    mutating func consume(
        layer: Int, heads: Int, tokens: Int, layout: TokenLayout,
        attention: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws
    /// Called once with the token embeddings `E` and `dTarget/dE`, both `[tokens, width]`.
    /// Default: nothing.
    mutating func consumeEmbeddings(
        tokens: Int, width: Int, layout: TokenLayout,
        embeddings: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws
    /// Called once after the last layer. Default: nothing.
    mutating func finish() throws
    /// Bytes the consumer keeps across layers for a pass of `geometry` (for the memory check made
    /// before the pass, as ``AttentionObserver/estimatedBytes(for:)``). Default: 0.
    func estimatedBytes(for geometry: AttentionGeometry) -> Int
}

extension LayerGradientConsumer {
    public mutating func begin(_ geometry: AttentionGeometry) throws {}
    public mutating func consumeEmbeddings(
        tokens: Int, width: Int, layout: TokenLayout,
        embeddings: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {}
    public mutating func finish() throws {}
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int { 0 }
}

/// Two consumers fed from one backward pass, in order (`first`, then `second`).
public struct GradientConsumerPair<First: LayerGradientConsumer, Second: LayerGradientConsumer>: LayerGradientConsumer {
    /// Fed first.
    public var first: First
    /// Fed second, with the same buffers.
    public var second: Second

    /// Pairs two consumers.
    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        try first.begin(geometry)
        try second.begin(geometry)
    }

    public mutating func consume(
        layer: Int, heads: Int, tokens: Int, layout: TokenLayout,
        attention: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {
        try first.consume(layer: layer, heads: heads, tokens: tokens, layout: layout, attention: attention, gradient: gradient)
        try second.consume(layer: layer, heads: heads, tokens: tokens, layout: layout, attention: attention, gradient: gradient)
    }

    public mutating func consumeEmbeddings(
        tokens: Int, width: Int, layout: TokenLayout,
        embeddings: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {
        try first.consumeEmbeddings(tokens: tokens, width: width, layout: layout, embeddings: embeddings, gradient: gradient)
        try second.consumeEmbeddings(tokens: tokens, width: width, layout: layout, embeddings: embeddings, gradient: gradient)
    }

    public mutating func finish() throws {
        try first.finish()
        try second.finish()
    }

    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        Limits.sum(first.estimatedBytes(for: geometry), second.estimatedBytes(for: geometry)) ?? .max
    }
}
