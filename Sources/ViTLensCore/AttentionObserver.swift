/// Extra tensors an observer asks the forward pass to compute beside the probabilities.
public struct CaptureOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Pre-softmax scores `QK^T / sqrt(d)`, `[heads, tokens, tokens]`.
    public static let logits = CaptureOptions(rawValue: 1 << 0)
    /// Queries after projection, `[heads, tokens, headDim]`.
    public static let queries = CaptureOptions(rawValue: 1 << 1)
    /// Keys after projection, `[heads, tokens, headDim]`.
    public static let keys = CaptureOptions(rawValue: 1 << 2)
}

/// What a forward pass will deliver, announced once before the first layer.
public struct AttentionGeometry: Sendable, Equatable {
    /// Number of attention layers (blocks) that will be observed.
    public var layers: Int
    /// Heads per layer.
    public var heads: Int
    /// Sequence length `N`.
    public var tokens: Int
    /// Width of one head's query/key vectors.
    public var headDim: Int
    /// Which tokens are prefix tokens and patches.
    public var layout: TokenLayout

    public init(layers: Int, heads: Int, tokens: Int, headDim: Int, layout: TokenLayout) {
        self.layers = layers
        self.heads = heads
        self.tokens = tokens
        self.headDim = headDim
        self.layout = layout
    }
}

/// One layer's attention, lent to an observer for the duration of one `observe` call.
///
/// All buffers are row-major views into the forward pass's working memory and are valid **only**
/// during the call: copy what you need to keep. `probabilities` is `[heads, tokens, tokens]`
/// (row = query, column = key, each row sums to 1). `logits`, `queries` and `keys` are present only
/// when the observer asked for them through ``AttentionObserver/captureOptions``.
public struct LayerAttention: @unchecked Sendable {
    /// Zero-based layer index (0 = closest to the input).
    public let layer: Int
    /// Heads in this layer.
    public let heads: Int
    /// Sequence length `N`.
    public let tokens: Int
    /// Width of one head.
    public let headDim: Int
    /// Token roles and grid.
    public let layout: TokenLayout
    /// Post-softmax probabilities, `[heads, tokens, tokens]`; empty when no observer of the pass
    /// needs this layer's probabilities (``AttentionObserver/needsProbabilities(layer:)``).
    public let probabilities: UnsafeBufferPointer<Float>
    /// Pre-softmax scaled scores `QK^T / sqrt(headDim)`, `[heads, tokens, tokens]`, if requested.
    public let logits: UnsafeBufferPointer<Float>?
    /// Queries, `[heads, tokens, headDim]`, if requested.
    public let queries: UnsafeBufferPointer<Float>?
    /// Keys, `[heads, tokens, headDim]`, if requested.
    public let keys: UnsafeBufferPointer<Float>?

    public init(
        layer: Int, heads: Int, tokens: Int, headDim: Int, layout: TokenLayout,
        probabilities: UnsafeBufferPointer<Float>, logits: UnsafeBufferPointer<Float>? = nil,
        queries: UnsafeBufferPointer<Float>? = nil, keys: UnsafeBufferPointer<Float>? = nil
    ) {
        precondition(probabilities.isEmpty || probabilities.count == heads * tokens * tokens,
                     "probabilities must be [heads, tokens, tokens] or empty")
        self.layer = layer
        self.heads = heads
        self.tokens = tokens
        self.headDim = headDim
        self.layout = layout
        self.probabilities = probabilities
        self.logits = logits
        self.queries = queries
        self.keys = keys
    }

    /// Whether ``probabilities`` holds the layer (`false` when the pass kept only blocks of rows
    /// for the row statistics because no observer asked for it).
    public var hasProbabilities: Bool { !probabilities.isEmpty }

    /// The probability matrix of one head, `[tokens, tokens]`.
    public func head(_ h: Int) -> UnsafeBufferPointer<Float> {
        precondition(h >= 0 && h < heads, "head \(h) out of range 0..<\(heads)")
        let n = tokens * tokens
        return UnsafeBufferPointer(rebasing: probabilities[(h * n) ..< ((h + 1) * n)])
    }

    /// One query row of one head, `[tokens]`.
    public func row(head h: Int, query q: Int) -> UnsafeBufferPointer<Float> {
        precondition(q >= 0 && q < tokens, "query \(q) out of range 0..<\(tokens)")
        let start = (h * tokens + q) * tokens
        return UnsafeBufferPointer(rebasing: probabilities[start ..< (start + tokens)])
    }
}

/// Work done inside the attention pass on a block of query rows of one head while it is in cache.
///
/// The forward pass computes attention in blocks of query rows and, right after one head's softmax
/// for a block, calls ``accumulate(layer:head:heads:rows:probabilities:tokens:)`` of every row
/// statistic its observer provides. For a given block the heads arrive in order `0 ..< heads` on
/// one thread; **different blocks run concurrently on several threads**, so an implementation
/// writes only to storage owned by its rows (or per-row slots) and reduces in its observer's
/// `observe(_:)`, which follows the layer's last block. At thousands of tokens this avoids reading
/// `heads * N^2` probabilities back from memory after the layer (311 MB per layer for DINO ViT-S/8
/// at 480 px).
public protocol AttentionRowStatistic: AnyObject, Sendable {
    /// Consumes rows `rows` of head `head` (of `heads`): row `rows.lowerBound + i` starts at
    /// `probabilities + i * tokens`. Valid only during the call.
    func accumulate(layer: Int, head: Int, heads: Int, rows: Range<Int>, probabilities: UnsafePointer<Float>, tokens: Int)
}

/// A consumer of attention, called synchronously after each layer's softmax.
///
/// The forward pass calls ``begin(_:)`` once, ``observe(_:)`` once per layer in order, then
/// ``finish()``. Memory for capture is the observer's choice: most analyses keep one layer or less.
/// An error thrown here aborts the forward pass and is rethrown to its caller.
public protocol AttentionObserver {
    /// Extra tensors to compute for ``observe(_:)``; empty by default.
    var captureOptions: CaptureOptions { get }
    /// Called once before the first layer.
    mutating func begin(_ geometry: AttentionGeometry) throws
    /// Called after each layer's softmax with a view valid only during the call.
    mutating func observe(_ attention: LayerAttention) throws
    /// Called once after the last layer.
    mutating func finish() throws
    /// Row statistics to run inside the attention pass; read after ``begin(_:)``. Empty by default.
    var rowStatistics: [any AttentionRowStatistic] { get }
    /// Whether ``observe(_:)`` reads `probabilities` of layer `layer`; asked after ``begin(_:)``.
    /// `true` by default. When every observer of a pass answers `false` for every layer, a forward
    /// pass that runs row statistics may keep only a block of rows per thread instead of the layer's
    /// `[heads, N, N]` (311 MB at 3,601 tokens and 6 heads) and deliver an empty `probabilities`
    /// view. Answer `false` only when the row statistics give you everything you need from that
    /// layer; passes that do not run row statistics (replays, ONNX) always deliver the probabilities.
    func needsProbabilities(layer: Int) -> Bool

    /// Bytes the observer will hold for a forward pass of `geometry` (what it allocates in `begin`
    /// and keeps across layers), for the memory check made before the pass (``MemoryEstimate``).
    /// The default, 0, suits observers that keep a few numbers per layer or head.
    func estimatedBytes(for geometry: AttentionGeometry) -> Int

    /// Whether the forward pass should call ``observeHiddenState(layer:tokens:hidden:states:)``
    /// after each block. `false` by default (nothing is delivered and nothing is spent).
    var wantsHiddenStates: Bool { get }
    /// Called after each block, when ``wantsHiddenStates``, with the block's output `[tokens, hidden]`
    /// (the residual stream before any final LayerNorm; after layer `l`'s attention was observed),
    /// a view valid only during the call.
    mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws
}

extension AttentionObserver {
    public var captureOptions: CaptureOptions { [] }
    public var rowStatistics: [any AttentionRowStatistic] { [] }
    public func needsProbabilities(layer: Int) -> Bool { true }
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int { 0 }
    public mutating func begin(_ geometry: AttentionGeometry) throws {}
    public mutating func finish() throws {}
    public var wantsHiddenStates: Bool { false }
    public mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws {}
}

/// An observer that ignores everything (a forward pass without capture).
public struct NoObserver: AttentionObserver {
    public init() {}
    /// `false`: a pass with no observer keeps no layer's `[heads, N, N]` probabilities.
    public func needsProbabilities(layer: Int) -> Bool { false }
    public mutating func observe(_ attention: LayerAttention) throws {}
}

/// Two observers fed from one forward pass, in order (`first`, then `second`).
public struct ObserverPair<First: AttentionObserver, Second: AttentionObserver>: AttentionObserver {
    public var first: First
    public var second: Second
    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }
    public var captureOptions: CaptureOptions { first.captureOptions.union(second.captureOptions) }
    public var rowStatistics: [any AttentionRowStatistic] { first.rowStatistics + second.rowStatistics }
    public func needsProbabilities(layer: Int) -> Bool {
        first.needsProbabilities(layer: layer) || second.needsProbabilities(layer: layer)
    }
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        Limits.sum(first.estimatedBytes(for: geometry), second.estimatedBytes(for: geometry)) ?? .max
    }
    public mutating func begin(_ geometry: AttentionGeometry) throws {
        try first.begin(geometry)
        try second.begin(geometry)
    }
    public mutating func observe(_ attention: LayerAttention) throws {
        try first.observe(attention)
        try second.observe(attention)
    }
    public mutating func finish() throws {
        try first.finish()
        try second.finish()
    }
    public var wantsHiddenStates: Bool { first.wantsHiddenStates || second.wantsHiddenStates }
    public mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws {
        try first.observeHiddenState(layer: layer, tokens: tokens, hidden: hidden, states: states)
        try second.observeHiddenState(layer: layer, tokens: tokens, hidden: hidden, states: states)
    }
}

/// A list of observers of any types fed from one forward pass, in order.
///
/// Use this to run several analyses in one forward (`rollout + distance + heads`); read the results
/// back from ``observers`` by casting, or keep references to class-based observers.
public struct ObserverList: AttentionObserver {
    public var observers: [any AttentionObserver]
    public init(_ observers: [any AttentionObserver]) { self.observers = observers }
    public var captureOptions: CaptureOptions {
        observers.reduce(into: CaptureOptions()) { $0.formUnion($1.captureOptions) }
    }
    public var rowStatistics: [any AttentionRowStatistic] { observers.flatMap(\.rowStatistics) }
    public func needsProbabilities(layer: Int) -> Bool { observers.contains { $0.needsProbabilities(layer: layer) } }
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        observers.reduce(0) { Limits.sum($0, $1.estimatedBytes(for: geometry)) ?? .max }
    }
    public mutating func begin(_ geometry: AttentionGeometry) throws {
        for i in observers.indices { try observers[i].begin(geometry) }
    }
    public mutating func observe(_ attention: LayerAttention) throws {
        for i in observers.indices { try observers[i].observe(attention) }
    }
    public mutating func finish() throws {
        for i in observers.indices { try observers[i].finish() }
    }
    public var wantsHiddenStates: Bool { observers.contains { $0.wantsHiddenStates } }
    public mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws {
        for i in observers.indices { try observers[i].observeHiddenState(layer: layer, tokens: tokens, hidden: hidden, states: states) }
    }
}

/// Keeps every layer's probabilities, stacked as `[layers, heads, tokens, tokens]` (the `dump` view).
///
/// Memory is `layers * heads * tokens^2 * 4` bytes: 3.7 GB for DINO ViT-S/8 at 480x480. Prefer a
/// streaming analysis when only a summary is needed. Set `options` to also keep logits, queries, keys.
public struct AttentionRecorder: AttentionObserver {
    /// Stacked probabilities, `[layers, heads, tokens, tokens]`, filled layer by layer.
    public private(set) var attentions: Tensor
    /// Stacked logits `[layers, heads, tokens, tokens]` when `.logits` was requested, else empty.
    public private(set) var logits: Tensor
    /// Stacked queries `[layers, heads, tokens, headDim]` when `.queries` was requested, else empty.
    public private(set) var queries: Tensor
    /// Stacked keys `[layers, heads, tokens, headDim]` when `.keys` was requested, else empty.
    public private(set) var keys: Tensor
    /// The geometry announced by the forward pass.
    public private(set) var geometry: AttentionGeometry?
    /// Layers recorded so far.
    public private(set) var layersSeen = 0
    /// Which extra tensors to record.
    public let options: CaptureOptions

    public init(options: CaptureOptions = []) {
        self.options = options
        attentions = Tensor(shape: [0], values: [])
        logits = attentions
        queries = attentions
        keys = attentions
    }

    public var captureOptions: CaptureOptions { options }

    /// Every layer's probabilities, plus logits, queries and keys when captured.
    public func estimatedBytes(for g: AttentionGeometry) -> Int {
        let square = MemoryEstimate.floats(g.layers, g.heads, g.tokens, g.tokens)
        let perToken = MemoryEstimate.floats(g.layers, g.heads, g.tokens, g.headDim)
        return Limits.sum(square, options.contains(.logits) ? square : 0, options.contains(.queries) ? perToken : 0,
                          options.contains(.keys) ? perToken : 0) ?? .max
    }

    public mutating func begin(_ g: AttentionGeometry) throws {
        geometry = g
        layersSeen = 0
        attentions = Tensor(zeros: [g.layers, g.heads, g.tokens, g.tokens])
        let empty = Tensor(shape: [0], values: [])
        logits = options.contains(.logits) ? Tensor(zeros: [g.layers, g.heads, g.tokens, g.tokens]) : empty
        queries = options.contains(.queries) ? Tensor(zeros: [g.layers, g.heads, g.tokens, g.headDim]) : empty
        keys = options.contains(.keys) ? Tensor(zeros: [g.layers, g.heads, g.tokens, g.headDim]) : empty
    }

    public mutating func observe(_ a: LayerAttention) throws {
        let l = a.layer
        Self.copy(a.probabilities, into: &attentions, slot: l)
        if let x = a.logits, options.contains(.logits) { Self.copy(x, into: &logits, slot: l) }
        if let x = a.queries, options.contains(.queries) { Self.copy(x, into: &queries, slot: l) }
        if let x = a.keys, options.contains(.keys) { Self.copy(x, into: &keys, slot: l) }
        layersSeen += 1
    }

    private static func copy(_ src: UnsafeBufferPointer<Float>, into t: inout Tensor, slot: Int) {
        let start = slot * src.count
        t.values.withUnsafeMutableBufferPointer { dst in
            guard let base = dst.baseAddress, let s = src.baseAddress else { return }
            (base + start).update(from: s, count: src.count)
        }
    }
}

extension AttentionObserver {
    /// Delivers one stored layer `[heads, N, N]` as the forward pass would: each head's rows to every
    /// row statistic (all rows at once), then ``observe(_:)``. For replays of saved or cached attention;
    /// the caller calls ``begin(_:)`` before the first layer (and reads `statistics` after it) and
    /// ``finish()`` after the last.
    public mutating func replay(layer l: Int, heads: Int, tokens n: Int, layout: TokenLayout,
                                probabilities view: UnsafeBufferPointer<Float>, statistics: [any AttentionRowStatistic]) throws {
        if let base = view.baseAddress {
            for h in 0 ..< heads {
                for s in statistics { s.accumulate(layer: l, head: h, heads: heads, rows: 0 ..< n, probabilities: base + h * n * n, tokens: n) }
            }
        }
        try observe(LayerAttention(layer: l, heads: heads, tokens: n, headDim: 0, layout: layout, probabilities: view))
    }
}
