import Foundation

/// `vitlens stats`: attention and token-norm statistics over many images, streaming (one forward
/// pass per image into an ``ImageStatisticsObserver``, added to a ``DatasetStatistics``; memory
/// does not grow with the number of images), with failures recorded and checkpoints for resuming.
///
/// ```swift
/// let list = try InputList(expanding: ["photos"])
/// let job = StatsJob()
/// var state = try job.start(session, list: list, resume: nil)
/// try job.run(session, list: list, state: &state)
/// let product = try StatsReport.product(state)
/// ```
public struct StatsJob: Sendable {
    /// Outlier threshold, a multiple of the median patch norm (``TokenNormOutliers``).
    public var outlierThreshold = TokenNormOutliers.defaultThreshold
    /// `--size` `[height, width]`, or nil for the processor's size.
    public var size: (height: Int, width: Int)?
    /// The part of the list this run covers.
    public var shard = Shard.whole
    /// Stop at the first failing image (``StatsError/failedFast(file:reason:)``).
    public var failFast = false
    /// Call the checkpoint closure after this many inputs (successes or failures).
    public var checkpointEvery = 25
    /// Images per forward pass (``AnalysisSession/run(_:batchSize:makeObserver:)``): consecutive
    /// images of one size share every matrix product. Statistics are added in list order whatever
    /// the batch size.
    public var batchSize: BatchSize = .automatic

    public init() {}

    /// What happened to one input.
    public enum Event: Sendable {
        case started(InputList.Item)
        case done(InputList.Item)
        case failed(InputList.Item, StatsState.Failure)
    }

    /// The identity of a run of this job on `list` with `session`'s model.
    public func identity(_ session: AnalysisSession, list: InputList) throws -> StatsState.Identity {
        guard let files = session.files, let vision = session.vision else { throw SessionError.needsImageModel(model: session.modelSpec ?? "no model") }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: files.weights.path))?[.size] as? Int
        return StatsState.Identity(
            vitlensVersion: ViTLensVersion.current, modelType: vision.model.modelType, weights: files.weights.lastPathComponent,
            weightsBytes: bytes ?? 0, configSHA256: try FileDigest.configSHA256(of: files), requestedSize: size.map { [$0.height, $0.width] },
            outlierThreshold: outlierThreshold, inputCount: list.count, inputsDigest: StatsState.digest(list.paths))
    }

    /// A new state, or `resume` after checking that it is a checkpoint of this very run.
    /// - Throws: ``StatsError/checkpointMismatch(file:difference:)`` (file: `checkpointName`) when
    ///   `resume` was written by another model, size, threshold, input list or shard.
    public func start(_ session: AnalysisSession, list: InputList, resume: StatsState?, checkpointName: String = StatsState.fileName) throws -> StatsState {
        _ = try ImageStatisticsObserver(outlierThreshold: outlierThreshold)
        let id = try identity(session, list: list)
        guard let resume else { var provenance = session.provenance()
            provenance.requestedSize = size.map { [$0.height, $0.width] }
            return StatsState(identity: id, provenance: provenance, shard: shard, shardInputs: list.shard(shard).count) }
        if let d = id.difference(from: resume.identity) { throw StatsError.checkpointMismatch(file: checkpointName, difference: d) }
        if resume.shard != shard { throw StatsError.checkpointMismatch(file: checkpointName, difference: "shard \(resume.shard), not \(shard)") }
        return resume
    }

    /// Runs every input of the shard that `state` has not done, in list order.
    ///
    /// - Parameters:
    ///   - prepare: turns an item into an input (default: ``AnalysisSession/image(at:size:)``).
    ///   - checkpoint: called with the state after every ``checkpointEvery`` inputs and at the end.
    ///   - progress: each input's start and outcome.
    /// - Throws: errors that would repeat for every image (``ImageBatch/stopsBatch(_:)``), what
    ///   `checkpoint` throws, ``StatsError/failedFast(file:reason:)``; never a single bad image.
    public func run(_ session: AnalysisSession, list: InputList, state: inout StatsState,
                    prepare: ((InputList.Item) throws -> AnalysisInput)? = nil,
                    checkpoint: (StatsState) throws -> Void = { _ in },
                    progress: (Event) -> Void = { _ in }) throws {
        let size = self.size
        let prepare = prepare ?? { try session.image(at: URL(fileURLWithPath: $0.path), size: size) }
        let done = Set(state.done)
        let threshold = outlierThreshold
        _ = try ImageStatisticsObserver(outlierThreshold: threshold)
        var sinceCheckpoint = 0
        let pending = list.shard(shard).filter { !done.contains($0.index) }
        let step = batchSize.chunk

        func fail(_ item: InputList.Item, _ error: any Error) throws {
            let f = ImageBatch.Failure(file: item.path, error: error)
            let failure = StatsState.Failure(index: item.index, file: item.path, reason: f.reason)
            state.failures.append(failure)
            state.done.append(item.index)
            progress(.failed(item, failure))
            if failFast {
                try checkpoint(state)
                throw StatsError.failedFast(file: item.path, reason: f.reason)
            }
        }
        func counted() throws {
            sinceCheckpoint += 1
            if sinceCheckpoint >= checkpointEvery {
                sinceCheckpoint = 0
                try checkpoint(state)
            }
        }

        for chunkStart in stride(from: 0, to: pending.count, by: step) {
            let chunk = pending[chunkStart ..< min(pending.count, chunkStart + step)]
            // Prepare every image of the chunk; an image that cannot be read fails alone.
            var prepared: [(item: InputList.Item, input: AnalysisInput)] = []
            var unreadable: [Int: any Error] = [:]
            for item in chunk {
                progress(.started(item))
                do { prepared.append((item, try prepare(item))) } catch where ImageBatch.stopsBatch(error) {
                    try checkpoint(state)
                    throw error
                } catch { unreadable[item.index] = error }
            }
            let results = session.run(prepared.map(\.input), batchSize: batchSize) { _ in try ImageStatisticsObserver(outlierThreshold: threshold) }
            var outcome: [Int: Result<(output: ForwardOutput, observer: ImageStatisticsObserver), any Error>] = [:]
            for (p, result) in zip(prepared, results) { outcome[p.item.index] = result }
            // Add in list order, so the statistics do not depend on the batch size.
            for item in chunk {
                do {
                    if let error = unreadable[item.index] { throw error }
                    guard let result = outcome[item.index] else { throw SessionError.noResult(analysis: "dataset statistics", layer: nil) }
                    guard let image = try result.get().observer.result else { throw SessionError.noResult(analysis: "dataset statistics", layer: nil) }
                    if state.statistics == nil {
                        state.statistics = DatasetStatistics(layers: image.layers, heads: image.heads, layout: image.layout, outlierThreshold: threshold)
                    }
                    try state.statistics?.add(image)
                    state.done.append(item.index)
                    progress(.done(item))
                } catch where ImageBatch.stopsBatch(error) {
                    try checkpoint(state)
                    throw error
                } catch {
                    try fail(item, error)
                }
                try counted()
            }
        }
        state.done.sort()
        state.complete = shard.count == 1 && state.finished
        try checkpoint(state)
    }
}
