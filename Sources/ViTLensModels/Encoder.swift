import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// The stack of blocks shared by every family, with attention capture after each softmax.
public final class Encoder: @unchecked Sendable {
    /// The encoder's shape.
    public let spec: EncoderSpec
    let layers: [EncoderLayer]
    /// The checkpoint, named when the forward pass overflows.
    let weightsFile: String

    /// Takes every block's weights from `store` using the family's key table; `attentionBias`
    /// gives a layer's additive score bias (none by default).
    /// - Throws: what `store` throws, and ``ModelError/configInvalid(file:reason:)`` for a bias
    ///   whose head count is not `spec.heads`.
    init(_ store: WeightStore, spec: EncoderSpec, keys: EncoderKeys,
         attentionBias: (Int) throws -> AttentionBiasSource? = { _ in nil }) throws {
        self.spec = spec
        weightsFile = store.file
        // Biases first, in order (a relative position table may be shared); then the blocks on
        // `Compute.threads` threads: converting and checking the weights and faulting in their
        // pages is most of a model's load. The error thrown is the one a load in layer order
        // would meet first.
        var biases: [AttentionBiasSource?] = []
        var biasFailure: (index: Int, error: any Error)?
        for index in 0 ..< spec.layers {
            do {
                let bias = try attentionBias(index)
                if let bias, bias.heads != spec.heads {
                    throw ModelError.configInvalid(file: store.file, reason: "layer \(index)'s attention bias has \(bias.heads) heads, the model \(spec.heads)")
                }
                biases.append(bias)
            } catch {
                biasFailure = (index, error)
                break
            }
        }
        let loadable = biases.count
        let results = UnsafeMutablePointer<Result<EncoderLayer, any Error>?>.allocate(capacity: max(1, loadable))
        results.initialize(repeating: nil, count: max(1, loadable))
        defer {
            results.deinitialize(count: max(1, loadable))
            results.deallocate()
        }
        nonisolated(unsafe) let slots = results
        Compute.forEachItem(loadable, workers: Compute.threads) { _, index in
            slots[index] = Result { try EncoderLayer(store, spec: spec, keys: keys, index: index, attentionBias: biases[index]) }
        }
        var loaded: [EncoderLayer] = []
        loaded.reserveCapacity(spec.layers)
        for index in 0 ..< loadable { loaded.append(try results[index]!.get()) }
        if let biasFailure { throw biasFailure.error }
        layers = loaded
    }

    /// The last forward's scratch memory, kept for the next forward of the same shape when it is at
    /// most ``keptWorkspaceBytes`` (batches of a folder, repeated benchmark runs): a fresh workspace
    /// costs page faults on every buffer (about 12,000 per batch-8 forward of ViT-B/16, 47 MB).
    private(set) var keptWorkspace: Workspace?
    private let workspaceLock = NSLock()
    /// Largest workspace kept between forwards (128 MiB); larger ones (kept `[heads, N, N]` layers
    /// of long sequences) are released after their forward.
    static let keptWorkspaceBytes = 128 << 20

    /// The kept workspace when it has `shape` (forwards running at the same time each get their
    /// own), else a new one; a kept workspace of another shape is released first.
    private func workspace(_ shape: Workspace.Shape) -> Workspace {
        var kept = workspaceLock.withLock { () -> Workspace? in
            defer { keptWorkspace = nil }
            return keptWorkspace
        }
        if let kept, kept.shape == shape { return kept }
        kept = nil
        return Workspace(shape)
    }

    /// Keeps `work` for the next forward if it is small enough.
    func recycle(_ work: Workspace) {
        guard work.bytes <= Self.keptWorkspaceBytes else { return }
        workspaceLock.withLock { keptWorkspace = work }
    }

    /// Floats the layers' attention biases keep (a table shared by several layers counted once).
    var biasParameterCount: Int {
        var seen = Set<ObjectIdentifier>()
        return layers.reduce(0) { total, layer in
            guard let source = layer.attentionBias else { return total }
            if case .relativePosition(let r) = source, !seen.insert(ObjectIdentifier(r)).inserted { return total }
            return Limits.sum(total, source.parameterCount) ?? .max
        }
    }

    /// Runs every block over `x[tokens, hidden]` in place, calling `observer` after each layer's
    /// softmax.
    ///
    /// Nothing non-finite reaches an observer or the caller: the embeddings, every head's attention
    /// scores (checked per block of rows while they are in cache, before the softmax) and every
    /// block's output are scanned for NaN and infinities, and the first one found stops the pass
    /// with ``CheckpointError/nonFiniteActivation(file:stage:)`` naming the layer (and head).
    ///
    /// - Parameters:
    ///   - x: the embeddings, overwritten with the last block's output (before any final norm).
    ///   - additiveMask: optional `[tokens]` added to every score row before the softmax (0 to keep a
    ///     key, a large negative number to drop a padded one), as BERT's extended attention mask.
    ///   - tape: when given, every layer's activations are copied into it for ``backward(_:tape:layout:observer:)``
    ///     (the plain forward passes `nil` and copies nothing).
    ///   - only: run just these layers (the backward's recompute of one layer); `nil`: all of them.
    ///   - readoutLayers: layers the caller delivers after the blocks (SigLIP's pooling head): the
    ///     geometry announces `spec.layers + readoutLayers` layers and, when it is not 0, the caller
    ///     (not this pass) calls the observers' `finish()`.
    /// - Throws: also ``ModelInputError/attentionBiasTokens(tokens:biasTokens:)`` when a layer's
    ///   ``AttentionBias`` covers another token count than `tokens` (a relative position table is
    ///   first resolved for `layout`'s patch grid).
    func forward<O: AttentionObserver>(
        _ x: UnsafeMutablePointer<Float>, tokens n: Int, layout: TokenLayout,
        additiveMask: UnsafePointer<Float>? = nil, tape: EncoderTape? = nil, only: Range<Int>? = nil, readoutLayers: Int = 0,
        observer: inout O
    ) throws {
        // An array, not a pointer to `observer`: a zero-sized observer's address may be nil.
        var one = [observer]
        defer { observer = one[0] }
        try one.withUnsafeMutableBufferPointer { list in
            try forward(x, tokens: n, layout: layout, additiveMask: additiveMask, tape: tape, only: only, readoutLayers: readoutLayers,
                        observers: list)
        }
    }

    /// Runs every block over `observers.count` images of `tokens` tokens each, stacked in
    /// `x[images * tokens, hidden]` (image `b` at rows `b * tokens ..< (b + 1) * tokens`), in place.
    ///
    /// Every Linear (Q/K/V, output projection, MLP) is one GEMM over all `images * tokens` rows;
    /// LayerNorms and element-wise passes run per row or per image exactly as for one image, and
    /// attention runs per image and head as in the single-image pass, so image `b`'s numbers are
    /// the single-image pass's up to the BLAS library's GEMM (equal where its per-row results do
    /// not depend on the row count). Image `b`'s attention goes to `observers[b]` only, one layer
    /// at a time, with its own row statistics: an observer sees exactly what a single-image pass
    /// shows it. A `tape` or an `additiveMask` requires one image.
    func forward<O: AttentionObserver>(
        _ x: UnsafeMutablePointer<Float>, tokens n: Int, layout: TokenLayout,
        additiveMask: UnsafePointer<Float>? = nil, tape: EncoderTape? = nil, only: Range<Int>? = nil, readoutLayers: Int = 0,
        observers: UnsafeMutableBufferPointer<O>
    ) throws {
        let d = spec.hidden
        let h = spec.heads
        let dh = spec.headDim
        let images = observers.count
        guard images > 0 else { return }
        guard images == 1 || (tape == nil && additiveMask == nil) else {
            throw ModelInputError.batchNotSupported(reason: "gradients and attention masks take one input at a time")
        }
        guard let rows = Limits.product(images, n) else { throw ModelInputError.batchTooLarge(images: images, tokens: n) }
        let biases = try ResolvedAttentionBiases(layers.map(\.attentionBias), layout: layout, tokens: n, only: only).biases
        try requireFinite(x, count: rows * d, stage: "the embeddings (input of layer 0)", tokensPerImage: images > 1 ? n : nil)
        let options = observers.reduce(into: CaptureOptions()) { $0.formUnion($1.captureOptions) }
        let geometry = AttentionGeometry(layers: spec.layers + readoutLayers, heads: h, tokens: n, headDim: dh, layout: layout)
        let tb = OpProfile.start()
        for b in 0 ..< images { try observers[b].begin(geometry) }
        OpProfile.stop(.observers, tb)
        let statistics = (0 ..< images).map { observers[$0].rowStatistics }
        let wantsHidden = (0 ..< images).map { observers[$0].wantsHiddenStates }

        let ffWidth: Int
        let gateWidth: Int
        switch spec.feedForward {
        case .mlp(let i): ffWidth = i; gateWidth = 0
        case .swiGLU(let hid): ffWidth = 2 * hid; gateWidth = hid
        }
        // A layer's [heads, N, N] probabilities are kept only when an observer reads them (or the
        // tape records them); otherwise each attention worker keeps one block of rows of one head.
        let keep = tape != nil || (0 ..< images).contains { b in
            (only ?? layers.indices).contains { observers[b].needsProbabilities(layer: $0) }
        }
        let work = workspace(Workspace.Shape(tokens: n, images: images, hidden: d, heads: h, headDim: dh, ffWidth: ffWidth, gateWidth: gateWidth,
                                             options: options, keepProbabilities: keep))
        defer { recycle(work) }
        func which(_ b: Int) -> String { images > 1 ? "image \(b) " : "" }

        for index in only ?? layers.indices {
            let layer = layers[index]
            let tc = tape != nil ? OpProfile.start() : 0
            if only == nil { tape?.saveInput(index, x, hidden: d) }
            OpProfile.stop(.copies, tc)
            let record = tape?.record(index)
            // Attention sub-block: one GEMM for every image's Q, K and V, then attention per image.
            let attnInput = branchInput(x, norm: layer.norm1, rows: rows, work: work, record: record?.norm1Input)
            layer.qkv(attnInput, rows: rows, into: work.qkv, profile: .qkvGEMM)
            for b in 0 ..< images {
                if let bad = MultiHeadAttention.run(work: work, image: b, tokens: n, heads: h, headDim: dh, hidden: d, bias: biases[index],
                                                    mask: additiveMask, layer: index, statistics: statistics[b]) {
                    throw CheckpointError.nonFiniteActivation(
                        file: weightsFile, stage: "\(which(b))layer \(index) head \(bad.head) attention scores (query token \(bad.row))")
                }
                if let record {
                    let t = OpProfile.start()
                    record.qkv.pointer.update(from: work.qkv, count: n * 3 * d)
                    record.probabilities.pointer.update(from: work.probs, count: h * n * n)
                    OpProfile.stop(.copies, t)
                }
                try deliver(work: work, image: b, layer: index, tokens: n, layout: layout, options: options, observer: &observers[b])
            }
            layer.output(work.context, rows: rows, into: work.branch, profile: .attentionOutputGEMM)
            addBranch(into: x, norm: layer.norm1, scale: layer.scale1, rows: rows, work: work, record: record?.norm1Input)

            // Feed-forward sub-block.
            let ffInput = branchInput(x, norm: layer.norm2, rows: rows, work: work, record: record?.norm2Input)
            layer.fc1(ffInput, rows: rows, into: work.ff, profile: .mlpUpGEMM)
            let tf = record != nil ? OpProfile.start() : 0
            record?.feedForwardInput.pointer.update(from: work.ff, count: n * ffWidth)
            OpProfile.stop(.copies, tf)
            let hiddenActs: UnsafeMutablePointer<Float>
            switch spec.feedForward {
            case .mlp(let i):
                // Per image: the vector kernels' tails then fall on the same elements as in a single-image pass.
                for b in 0 ..< images { spec.activation.apply(work.ff + b * n * i, count: n * i) }
                hiddenActs = work.ff
            case .swiGLU(let hid):
                let t = OpProfile.start()
                Kernels.swiGLU(work.ff, rows: rows, hidden: hid, out: work.gate)
                OpProfile.stop(.activation, t)
                hiddenActs = work.gate
            }
            layer.fc2(hiddenActs, rows: rows, into: work.branch, profile: .mlpDownGEMM)
            addBranch(into: x, norm: layer.norm2, scale: layer.scale2, rows: rows, work: work, record: record?.norm2Input)
            try requireFinite(x, count: rows * d, stage: "the output of layer \(index)", tokensPerImage: images > 1 ? n : nil)
            let th = wantsHidden.contains(true) ? OpProfile.start() : 0
            for b in 0 ..< images where wantsHidden[b] {
                try observers[b].observeHiddenState(layer: index, tokens: n, hidden: d,
                                                    states: UnsafeBufferPointer(start: x + b * n * d, count: n * d))
            }
            OpProfile.stop(.observers, th)
        }
        if readoutLayers == 0 {
            let t = OpProfile.start()
            for b in 0 ..< images { try observers[b].finish() }
            OpProfile.stop(.observers, t)
        }
    }

    /// Throws ``CheckpointError/nonFiniteActivation(file:stage:)`` when `x[0 ..< count]` holds a
    /// NaN or an infinity (the token is named: row `index / hidden`).
    /// With `tokensPerImage` (a batch) the image and its token are named.
    func requireFinite(_ x: UnsafePointer<Float>, count: Int, stage: String, tokensPerImage: Int? = nil) throws {
        let t = OpProfile.start()
        let bad = Finite.firstNonFinite(x, count: count)
        OpProfile.stop(.finiteChecks, t)
        if let i = bad {
            let token = i / spec.hidden
            let which = tokensPerImage.map { "image \(token / $0) token \(token % $0)" } ?? "token \(token)"
            throw CheckpointError.nonFiniteActivation(file: weightsFile, stage: "\(stage), \(which)")
        }
    }

    /// A sub-block's input: `LN(x)` for pre-norm blocks, `x` itself for post-norm ones. A pre-norm
    /// block copies the LayerNorm's input `x` into `record` when given.
    private func branchInput(_ x: UnsafeMutablePointer<Float>, norm: LayerNorm, rows n: Int, work: Workspace,
                             record: FloatStorage?) -> UnsafePointer<Float> {
        guard spec.norm == .pre else { return UnsafePointer(x) }
        let t = record != nil ? OpProfile.start() : 0
        record?.pointer.update(from: x, count: n * spec.hidden)
        OpProfile.stop(.copies, t)
        norm(x, rows: n, into: work.normed)
        return UnsafePointer(work.normed)
    }

    /// Adds the sub-block output in `work.branch` to the residual stream `x`: `x += s * branch`
    /// (`s` = layer scale or 1) for pre-norm blocks, `x = LN(x + branch)` for post-norm ones (which
    /// copy the LayerNorm's input `x + branch` into `record` when given).
    private func addBranch(into x: UnsafeMutablePointer<Float>, norm: LayerNorm, scale: Param?, rows n: Int, work: Workspace,
                           record: FloatStorage?) {
        let d = spec.hidden
        let t = OpProfile.start()
        if spec.norm == .pre {
            if let s = scale { Kernels.addScaled(x, work.branch, scale: s.ptr, rows: n, cols: d) }
            else { Kernels.addInPlace(x, work.branch, count: n * d) }
            OpProfile.stop(.residual, t)
        } else {
            Kernels.addInPlace(work.branch, x, count: n * d)
            OpProfile.stop(.residual, t)
            let tc = record != nil ? OpProfile.start() : 0
            record?.pointer.update(from: work.branch, count: n * d)
            OpProfile.stop(.copies, tc)
            norm(work.branch, rows: n, into: x)
        }
    }

    private func deliver<O: AttentionObserver>(
        work: Workspace, image b: Int, layer: Int, tokens n: Int, layout: TokenLayout, options: CaptureOptions, observer: inout O
    ) throws {
        let h = spec.heads
        let dh = spec.headDim
        let probs = UnsafeBufferPointer(start: work.probs, count: work.keepsProbabilities ? h * n * n : 0)
        let logits = work.logits.map { UnsafeBufferPointer(start: $0, count: h * n * n) }
        var queries: UnsafeBufferPointer<Float>?
        var keys: UnsafeBufferPointer<Float>?
        let tc = work.queriesByHead != nil || work.keysByHead != nil ? OpProfile.start() : 0
        if let qh = work.queriesByHead {
            Workspace.splitHeads(work.q + b * n * 3 * spec.hidden, stride: 3 * spec.hidden, tokens: n, heads: h, headDim: dh, into: qh)
            queries = UnsafeBufferPointer(start: qh, count: h * n * dh)
        }
        if let kh = work.keysByHead {
            Workspace.splitHeads(work.k + b * n * 3 * spec.hidden, stride: 3 * spec.hidden, tokens: n, heads: h, headDim: dh, into: kh)
            keys = UnsafeBufferPointer(start: kh, count: h * n * dh)
        }
        OpProfile.stop(.copies, tc)
        let t = OpProfile.start()
        defer { OpProfile.stop(.observers, t) }
        try observer.observe(LayerAttention(
            layer: layer, heads: h, tokens: n, headDim: dh, layout: layout,
            probabilities: probs, logits: logits, queries: queries, keys: keys))
    }
}
