import ViTLensCore

/// Streams a backward pass's `(A_l, dTarget/dA_l)` and keeps only the fused `N x N` matrix
/// `Ā_l` (``GradientHeadFusion``) of every layer in the chosen range; ``finish()`` assembles them
/// in forward order into ``FusedAttentionGradients``, from which every attention-gradient method
/// (``CheferRelevance``, ``GradientRollout``, ``AttentionGradientLayers``) is computed.
///
/// Layers may arrive in any order (last first, as a backward pass delivers them); each layer in
/// the range must arrive exactly once. Layers outside the range are skipped (Chefer's
/// `start_layer`).
///
/// Memory: `used layers · N² · 4` bytes (``estimatedBytes(for:)``), nothing per head: 1.9 MB for
/// ViT-B/16 at 224 px (12 layers, N = 197), 622 MB for DINO ViT-S/8 at 480 px (12 layers,
/// N = 3,601). Fusion costs `3 · heads · N²` flops per layer and reads each input once (the NaN
/// check rides along). Measured in a release build on a shared, loaded 2-core x86-64 machine
/// (random inputs): ViT-B/16 224 (12 heads, N = 197) 0.4 ms per layer, then Chefer's row 0.2 ms for
/// all 12 layers; DINO ViT-S/8 480 (6 heads, N = 3,601) 0.26 s per layer, Chefer's row 0.13 s and
/// gradient rollout 0.19 s for 12 layers.
public struct AttentionGradientAccumulator: LayerGradientConsumer {
    /// What to keep.
    public struct Options: Sendable, Equatable {
        /// Head fusion of `dA ⊙ A` (default Chefer's `.positiveThenMean`).
        public var fusion: GradientHeadFusion
        /// First layer kept, zero-based, inclusive; negative counts from the end (default 0).
        public var firstLayer: Int
        /// Last layer kept, inclusive; negative counts from the end (default -1, the last).
        public var lastLayer: Int

        /// Options with Chefer's fusion over all layers by default.
        public init(fusion: GradientHeadFusion = .positiveThenMean, firstLayer: Int = 0, lastLayer: Int = -1) {
            self.fusion = fusion
            self.firstLayer = firstLayer
            self.lastLayer = lastLayer
        }
    }

    /// The configuration.
    public let options: Options
    /// The fused layers of the last completed pass; `nil` until ``finish()``.
    public private(set) var result: FusedAttentionGradients?

    private var geometry: AttentionGeometry?
    private var range: ClosedRange<Int> = 0 ... 0
    private var stored: [[Float]?] = []

    /// Creates an accumulator.
    public init(_ options: Options = Options()) {
        self.options = options
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        let first = try Rollout.resolve(layer: options.firstLayer, layers: geometry.layers)
        let last = try Rollout.resolve(layer: options.lastLayer, layers: geometry.layers)
        guard first <= last else { throw AnalysisError.emptyLayerRange(first: first, last: last) }
        guard geometry.heads > 0 else {
            throw AnalysisError.geometryMismatch(analysis: Self.name, expected: "at least one head", found: "0 heads")
        }
        guard geometry.tokens == geometry.layout.tokenCount else {
            throw AnalysisError.geometryMismatch(
                analysis: Self.name, expected: "\(geometry.layout.tokenCount) tokens (\(geometry.layout))",
                found: "\(geometry.tokens) tokens")
        }
        self.geometry = geometry
        range = first ... last
        stored = Array(repeating: nil, count: last - first + 1)
        result = nil
    }

    public mutating func consume(
        layer: Int, heads: Int, tokens: Int, layout: TokenLayout,
        attention: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) throws {
        guard let geometry else {
            throw AnalysisError.geometryMismatch(analysis: Self.name, expected: "begin() before the first layer", found: "layer \(layer)")
        }
        guard layer >= 0 && layer < geometry.layers else {
            throw AnalysisError.layerOutOfRange(layer: layer, layers: geometry.layers)
        }
        guard heads == geometry.heads else {
            throw AnalysisError.geometryMismatch(analysis: Self.name, expected: "\(geometry.heads) heads", found: "\(heads) heads at layer \(layer)")
        }
        guard tokens == geometry.tokens, layout == geometry.layout else {
            throw AnalysisError.geometryMismatch(
                analysis: Self.name, expected: "\(geometry.tokens) tokens (\(geometry.layout))",
                found: "\(tokens) tokens (\(layout)) at layer \(layer)")
        }
        let count = heads * tokens * tokens
        for (what, buffer) in [("attention", attention), ("gradient", gradient)] where buffer.count != count {
            throw AnalysisError.geometryMismatch(
                analysis: Self.name, expected: "\(what) of \(count) values ([\(heads), \(tokens), \(tokens)])",
                found: "\(buffer.count) values at layer \(layer)")
        }
        guard range.contains(layer) else { return }
        guard stored[layer - range.lowerBound] == nil else { throw AnalysisError.duplicateLayer(analysis: Self.name, layer: layer) }
        let fusion = options.fusion
        var fused = AnalysisKernels.uninitialized(tokens * tokens)
        let finite = fused.withUnsafeMutableBufferPointer { out -> Bool in
            guard let a = attention.baseAddress, let g = gradient.baseAddress, let o = out.baseAddress else { return true }
            return fusion.fuse(heads: heads, n: tokens, attention: a, gradient: g, into: o)
        }
        if !finite {
            // The exact place, for the message (only on this error path: a second pass over the inputs).
            if let i = Finite.firstNonFinite(attention) {
                throw AnalysisError.nonFinite(what: "attention of layer \(layer)", index: i, value: Finite.describe(attention[i]))
            }
            if let i = Finite.firstNonFinite(gradient) {
                throw AnalysisError.nonFinite(what: "attention gradient of layer \(layer)", index: i, value: Finite.describe(gradient[i]))
            }
        }
        stored[layer - range.lowerBound] = fused
    }

    public mutating func finish() throws {
        guard let geometry else { throw AnalysisError.noLayersObserved(analysis: Self.name) }
        let missing = range.filter { stored[$0 - range.lowerBound] == nil }
        guard missing.isEmpty else { throw AnalysisError.missingLayers(analysis: Self.name, layers: missing) }
        result = try FusedAttentionGradients(
            layout: geometry.layout, layers: range, fusion: options.fusion, matrices: stored.compactMap { $0 })
        stored = []
    }

    /// `used layers · N² · 4` bytes: one fused float matrix per kept layer.
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        let first = (try? Rollout.resolve(layer: options.firstLayer, layers: geometry.layers)) ?? 0
        let last = (try? Rollout.resolve(layer: options.lastLayer, layers: geometry.layers)) ?? geometry.layers - 1
        let n = geometry.layout.tokenCount
        return Limits.product(max(1, last - first + 1), MemoryEstimate.floats(n, n)) ?? .max
    }

    static let name = "attention gradients"
}
