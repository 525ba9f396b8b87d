/// A job whose product for one input comes from one observer of one forward pass (heads, rollout,
/// dump), split into making the observer and building the product, so that many images can share
/// batched forward passes (``AnalysisSession/run(_:batchSize:makeObserver:)``).
public protocol BatchableJob {
    /// What the job observes for one input.
    associatedtype Observer: AttentionObserver
    /// Runs the job on one input (any kind: image, sentence, saved stack).
    func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct
    /// A fresh observer for `input` (options checked against its layout).
    func observer(for input: AnalysisInput) throws -> Observer
    /// The files for `input` from its finished observer and the forward's output.
    func product(_ session: AnalysisSession, _ input: AnalysisInput, observer: Observer, output: ForwardOutput) throws -> AnalysisProduct
}

extension BatchableJob {
    /// Runs the job on many inputs, `batchSize` images per forward pass (see
    /// ``AnalysisSession/run(_:batchSize:makeObserver:)`` for the grouping); an image's product is
    /// the one ``run(_:_:)`` builds for it alone (byte for byte where the batched forward is exact).
    /// Inputs that are not images run alone through ``run(_:_:)``.
    /// - Returns: one product or error per input, in order.
    public func run(_ session: AnalysisSession, _ inputs: [AnalysisInput], batchSize: BatchSize) -> [Result<AnalysisProduct, any Error>] {
        guard inputs.allSatisfy({ if case .image = $0.source { return true } else { return false } }) else {
            return inputs.map { input in Result { try run(session, input) } }
        }
        let passes = session.run(inputs, batchSize: batchSize, makeObserver: observer(for:))
        return zip(inputs, passes).map { input, pass in
            pass.flatMap { pass in Result { try product(session, input, observer: pass.observer, output: pass.output) } }
        }
    }
}
