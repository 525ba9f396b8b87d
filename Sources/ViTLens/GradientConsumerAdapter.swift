import Foundation

/// Feeds a backward pass's layers (a ``GradientObserver``) to a ``LayerGradientConsumer``, then the
/// token embeddings and their gradient from the pass's ``GradientResult``.
///
/// The models' gradient observer and the analyses' consumer are two protocols so that neither
/// module depends on the other; this is the seam between them. ``AnalysisSession/gradients(_:target:consumer:)``
/// uses it; call it by hand as
/// ```swift
/// var adapter = GradientConsumerAdapter(AttentionGradientAccumulator())
/// let result = try model.gradients(pixels, target: .topClassLogit, observer: &adapter)
/// try adapter.complete(with: result)   // embeddings, then the consumer's finish()
/// ```
public struct GradientConsumerAdapter<Consumer: LayerGradientConsumer>: GradientObserver {
    /// The consumer; its results are ready after ``complete(with:)``.
    public private(set) var consumer: Consumer
    private var layout: TokenLayout?

    /// Wraps `consumer`.
    public init(_ consumer: Consumer) {
        self.consumer = consumer
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        layout = geometry.layout
        try consumer.begin(geometry)
    }

    public mutating func observe(_ g: LayerGradient) throws {
        try consumer.consume(layer: g.layer, heads: g.heads, tokens: g.tokens, layout: g.layout,
                             attention: g.probabilities, gradient: g.gradient)
    }

    /// Nothing: the embeddings arrive after the pass, in ``complete(with:)``.
    public mutating func finish() throws {}

    public func estimatedBytes(for geometry: AttentionGeometry) -> Int { consumer.estimatedBytes(for: geometry) }

    /// Hands the pass's embeddings `[N, D]` and their gradient to the consumer, then finishes it.
    /// - Throws: ``SessionError/noResult(analysis:layer:)`` when the pass never began; what the consumer throws.
    public mutating func complete<Output>(with result: GradientResult<Output>) throws {
        guard let layout, result.embeddings.shape.count == 2, result.embeddings.shape == result.embeddingGradient.shape else {
            throw SessionError.noResult(analysis: "the backward pass", layer: nil)
        }
        let (n, d) = (result.embeddings.shape[0], result.embeddings.shape[1])
        try result.embeddings.values.withUnsafeBufferPointer { e in
            try result.embeddingGradient.values.withUnsafeBufferPointer { g in
                try consumer.consumeEmbeddings(tokens: n, width: d, layout: layout, embeddings: e, gradient: g)
            }
        }
        try consumer.finish()
    }
}

/// What ``AnalysisSession/gradients(_:target:consumer:)`` returns besides what the consumer received.
public struct GradientOutcome: Sendable {
    /// The target's value on the input.
    public var value: Float
    /// The forward pass's outputs (logits, pooled vector, hidden states).
    public var output: ForwardOutput
    /// Whether the target's gradient is numerically zero (``GradientResult/gradientIsZero``): every
    /// map from this pass is then an artefact and front ends warn.
    public var gradientIsZero = false
}

extension AnalysisSession {
    /// Runs one forward and one backward pass on `input` from `target`, feeding `consumer` every
    /// layer's `(A_l, dTarget/dA_l)` (last layer first), then the embeddings and their gradient,
    /// then its `finish()`.
    /// - Throws: ``SessionError/needsGradients(input:)`` for a saved attention stack;
    ///   `GradientTargetError` for a target that does not fit; ``InputError`` naming the input for
    ///   bad pixels or a pass over the memory limit; what the consumer throws.
    /// - Parameter recompute: keep only each layer's input during the forward and recompute the
    ///   layer's activations during the backward (gradient checkpointing: less memory, one more
    ///   forward's work, the same values).
    @discardableResult
    public func gradients<C: LayerGradientConsumer>(_ input: AnalysisInput, target: GradientTarget, recompute: Bool = false,
                                                    consumer: inout C) throws -> GradientOutcome {
        var adapter = GradientConsumerAdapter(consumer)
        let outcome: GradientOutcome
        do {
            switch input.source {
            case .image(let prepared):
                guard let vision else { throw SessionError.needsImageModel(model: modelSpec ?? "no model") }
                let result = try vision.model.gradients(prepared.pixels, target: target, recompute: recompute, observer: &adapter)
                try adapter.complete(with: result)
                outcome = GradientOutcome(value: result.value, output: .vision(result.output), gradientIsZero: result.gradientIsZero)
            case .text(_, let encoding):
                guard let text else { throw SessionError.needsTextModel(model: modelSpec ?? "no model") }
                let result = try text.model.gradients(ids: encoding.ids, typeIds: encoding.typeIds, target: target, recompute: recompute,
                                                     observer: &adapter)
                try adapter.complete(with: result)
                outcome = GradientOutcome(value: result.value, output: .text(result.output), gradientIsZero: result.gradientIsZero)
            case .attentions:
                throw SessionError.needsGradients(input: input.name)
            }
        } catch let e as ModelInputError {
            throw InputError(file: input.name, problem: e.description)
        } catch let e as MemoryLimitError {
            throw InputError(file: input.name, problem: e.description)
        }
        consumer = adapter.consumer
        return outcome
    }
}
