import ViTLensCore

/// One layer's attention and the target's gradient with respect to it, lent to a
/// ``GradientObserver`` for the duration of one `observe` call.
///
/// Both buffers are `[heads, tokens, tokens]` row-major views into the backward pass's working
/// memory, valid **only** during the call: copy what you need to keep. `probabilities` are the
/// forward's post-softmax attention `A_l` (what ``LayerAttention/probabilities`` delivered for the
/// same layer); `gradient` is `dTarget/dA_l`, entry by entry. The exception is an attention pooling
/// head's layer (SigLIP, `layout.poolingHeadLayer`, delivered first): both are broadcast as in the
/// forward, every row of head `h` the probe's attention `p_h` and its gradient `dTarget/dp_h`.
public struct LayerGradient: @unchecked Sendable {
    /// Zero-based layer index (0 = closest to the input).
    public let layer: Int
    /// Heads in this layer.
    public let heads: Int
    /// Sequence length `N`.
    public let tokens: Int
    /// Token roles and grid.
    public let layout: TokenLayout
    /// `A_l`, `[heads, tokens, tokens]`.
    public let probabilities: UnsafeBufferPointer<Float>
    /// `dTarget/dA_l`, `[heads, tokens, tokens]`.
    public let gradient: UnsafeBufferPointer<Float>
}

/// Receives every layer's attention and attention gradient from a backward pass
/// (``VisionTransformer/gradients(_:target:observer:)``, ``TextTransformer/gradients(ids:typeIds:target:observer:)``).
///
/// Call order: ``begin(_:)`` once, then ``observe(_:)`` once per layer **from the last layer to the
/// first** (the order reverse mode produces them: layer `L-1`, `L-2`, ..., `0`), then ``finish()``.
public protocol GradientObserver {
    /// Called before the first layer with the pass's shape.
    mutating func begin(_ geometry: AttentionGeometry) throws
    /// Called once per layer, last layer first; the views are valid only during the call.
    mutating func observe(_ gradient: LayerGradient) throws
    /// Called after layer 0.
    mutating func finish() throws
    /// Bytes the observer will keep for `geometry` (counted against ``MemoryBudget``).
    func estimatedBytes(for geometry: AttentionGeometry) -> Int
}

extension GradientObserver {
    public mutating func begin(_ geometry: AttentionGeometry) throws {}
    public mutating func finish() throws {}
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int { 0 }
}

/// A ``GradientObserver`` that keeps nothing (for the target value and embedding gradient only).
public struct NoGradientObserver: GradientObserver {
    public init() {}
    public mutating func observe(_ gradient: LayerGradient) throws {}
}

/// A ``GradientObserver`` that copies every layer's attention and gradient, in layer order.
public struct GradientRecorder: GradientObserver {
    /// `[layers, heads, tokens, tokens]` attention probabilities.
    public private(set) var attentions = Tensor(shape: [0], values: [])
    /// `[layers, heads, tokens, tokens]` gradients `dTarget/dA_l`.
    public private(set) var gradients = Tensor(shape: [0], values: [])
    /// The layers in the order they arrived (last first).
    public private(set) var order: [Int] = []

    public init() {}

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        let shape = [geometry.layers, geometry.heads, geometry.tokens, geometry.tokens]
        let count = shape.reduce(1, *)
        attentions = Tensor(shape: shape, values: [Float](repeating: 0, count: count))
        gradients = attentions
        order = []
    }

    public mutating func observe(_ g: LayerGradient) throws {
        let size = g.heads * g.tokens * g.tokens
        let start = g.layer * size
        attentions.values.replaceSubrange(start ..< start + size, with: g.probabilities)
        gradients.values.replaceSubrange(start ..< start + size, with: g.gradient)
        order.append(g.layer)
    }

    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        MemoryEstimate.floats(2, geometry.layers, geometry.heads, geometry.tokens, geometry.tokens)
    }
}
