import ViTLensCore

/// The input x gradient map (``InputGradient``) as a consumer of a backward pass: it ignores the
/// attention layers and computes the map when the embeddings and their gradient arrive. Keeps `N`
/// floats.
public struct InputGradientCapture: LayerGradientConsumer {
    /// How each token's `D` products are reduced (default the L2 norm).
    public let reduction: InputGradient.Reduction
    /// The map of the last completed pass; `nil` until ``finish()``.
    public private(set) var result: Explanation?
    private var pending: Explanation?

    /// Creates a capture.
    public init(reduction: InputGradient.Reduction = .l2Norm) {
        self.reduction = reduction
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        result = nil
        pending = nil
    }

    public mutating func consume(
        layer: Int, heads: Int, tokens: Int, layout: TokenLayout,
        attention: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {}

    public mutating func consumeEmbeddings(
        tokens: Int, width: Int, layout: TokenLayout,
        embeddings: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {
        guard pending == nil else {
            throw AnalysisError.geometryMismatch(analysis: "input x gradient", expected: "the embeddings once per pass", found: "a second delivery")
        }
        guard tokens == layout.tokenCount else {
            throw AnalysisError.geometryMismatch(analysis: "input x gradient", expected: "\(layout.tokenCount) tokens (\(layout))", found: "\(tokens) tokens")
        }
        pending = try InputGradient.explain(embeddings: embeddings, gradient: gradient, width: width, layout: layout, reduction: reduction)
    }

    public mutating func finish() throws {
        guard let pending else { throw AnalysisError.noLayersObserved(analysis: "input x gradient (embeddings)") }
        result = pending
        self.pending = nil
    }

    public func estimatedBytes(for geometry: AttentionGeometry) -> Int { MemoryEstimate.floats(geometry.layout.tokenCount) }
}
