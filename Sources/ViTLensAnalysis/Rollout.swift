import ViTLensCore

/// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers") as a
/// streaming observer.
///
/// For every used layer `l` (``Options/firstLayer`` ... ``Options/lastLayer``, inclusive, in
/// forward order):
/// 1. fuse the heads: `F_l = fusion(A_l)` (``HeadFusion``, mean by default);
/// 2. optionally discard: zero the smallest entries of `F_l` (``DiscardMode``, ratio `r ∈ [0, 1)`);
/// 3. add the residual (``Residual``), default `Â_l = (F_l + I)` with every row divided by its sum;
/// 4. chain: `R = Â_last · … · Â_first` (deeper layers multiply on the left).
///
/// The result reads one row of `R`: `rowᵀ = uᵀ R` with `u = e_CLS` by default (``Readout``).
///
/// Models without CLS whose layout marks an attention pooling head (`TokenLayout.poolingHeadLayer`,
/// SigLIP) read the probe instead: when the CLS readout is asked for and the range ends at the
/// pooling head's layer `P`, `u` is the probe's attention row fused over the heads (no discard, no
/// residual: the probe is not a token, so no identity path runs through it) and `R` is the product
/// over `first ... P-1`; the result is exactly `probe-attention · rollout(first ... P-1)`.
/// Invariants: with mean fusion, no discard and either identity residual, every row of `R` sums to
/// 1 and all entries are ≥ 0, so ``RolloutResult/map`` + CLS mass + prefix mass = 1.
///
/// ## Cost (why two strategies)
/// Layers arrive first to last but the readout row `uᵀ Â_L ⋯ Â_1` multiplies from the last layer
/// down, so a streaming observer must either keep the running product or keep the layers:
/// - ``Strategy/fullProduct`` keeps `R` (`N x N`, plus two `N x N` work buffers: `12·N²` bytes) and
///   pays one `N x N x N` sgemm per layer after the first (`2N³` flops: 15 MFLOP at N = 197, 93 GFLOP
///   at N = 3,601). It also yields every query row (``RolloutResult/matrix``).
/// - ``Strategy/storedLayers`` keeps each `Â_l` and, in ``finish()``, multiplies the readout row
///   through them (`2N²` flops per layer). By default (``StoredPrecision/float16``) a layer takes
///   `2·N² + 4·N` bytes (off-diagonal entries as float16, within a proved error bound), with
///   ``StoredPrecision/float32`` `4·N²`; one more float32 layer (`4·N²`) is being filled while the
///   layers stream past: 363 MB for 12 layers at N = 3,601 (674 MB at float32).
/// - ``Strategy/automatic`` (default) takes the full product up to
///   ``Strategy/automaticFullProductLimit`` tokens, and above that stored layers unless they would
///   exceed ``Strategy/automaticStoredBytesLimit``. Pick ``Strategy/fullProduct`` explicitly to
///   bound memory by `12·N²` bytes whatever the depth, or to get all query rows.
///
/// Both give the same row up to float rounding (float32) or within the bound of
/// ``StoredPrecision`` (float16). Measured at N = 3,601 tokens and 6 heads (DINO ViT-S/8 at 480 px)
/// in a release build (`-target-cpu haswell`) on a shared 2-core x86-64 machine, CPU time per
/// layer: fusion + residual 60 ms (stored layers); the stored-layer readout 6 ms per layer in
/// ``finish()`` (float16 and float32 alike: 10-13 ms each with two threads on a loaded machine);
/// the float16 conversion inside the pass 80 ms of CPU for all 12 layers (perf); the full
/// product's sgemm 960 ms (≈ 0.5 s wall on two idle cores, as much as the forward pass's own
/// layer); discard adds 190 ms (per row, r = 0.9) or 240 ms (global).
public struct Rollout: AttentionObserver {
    /// How the identity (the residual connection) enters each layer's matrix.
    public enum Residual: Sendable, Equatable, Hashable {
        /// `Â = (F + I)` with each row divided by its sum (Abnar's code, ViT paper, Chefer). Default.
        case identityRenormalized
        /// `Â = 0.5·F + 0.5·I`, not renormalised (the paper's formula). Equals
        /// ``identityRenormalized`` exactly when the rows of `F` sum to 1 (mean fusion, no discard).
        case halfIdentity
        /// `Â = F`: the plain product of the fused matrices (Abnar's `add_residual=False`).
        case none
    }

    /// Which entries ``Options/discardRatio`` removes; see `discard(_:n:ratio:mode:cls:scratch:)`.
    public enum DiscardMode: Sendable, Equatable, Hashable {
        /// Per row, the `floor(r·(N−1))` smallest off-diagonal entries (diagonal, hence CLS→CLS, kept).
        case perRow
        /// Over the whole matrix, the `floor(r·(N²−1))` smallest entries except CLS→CLS (vit-explain's
        /// selection; `floor(r·N²)` when the layout has no CLS).
        case global
    }

    /// How the product is kept while layers stream past (see the type's discussion of cost).
    public enum Strategy: Sendable, Equatable, Hashable {
        /// Full product up to ``automaticFullProductLimit`` tokens (cheap, and all rows come free);
        /// above it stored layers while they fit in ``automaticStoredBytesLimit``, else full product.
        case automatic
        /// Keep the running `N x N` product: `O(N²)` memory, one sgemm per layer, all rows available.
        case fullProduct
        /// Keep each layer's `N x N` matrix: `O(layers·N²)` memory, readout row only.
        case storedLayers

        /// Largest token count for which ``automatic`` always keeps the full product (one sgemm of
        /// at most 2.1 GFLOP per layer).
        public static let automaticFullProductLimit = 1_024
        /// Most bytes ``automatic`` spends on stored layers (used layers times
        /// ``StoredPrecision/bytesPerLayer(tokens:)``); 1 GiB holds the 12 layers of a ViT-S/8 at
        /// 480 px (3,601 tokens: 311 MB at float16, 622 MB at float32).
        public static let automaticStoredBytesLimit = 1 << 30
    }

    /// How the stored-layers strategy keeps each layer's `Â` (see the type's discussion of cost).
    ///
    /// ## Range
    /// Every entry of `Â` lies in `[0, 1]` for every option combination, given probabilities in
    /// `[0, 1]`: each fusion (mean, max, min, one head, and std, which is at most ½) stays in
    /// `[0, 1]`; discard only zeroes entries; the renormalised identity gives `(F_ij + δ_ij) / s_i`
    /// with `s_i ≥ F_ij + δ_ij`, the half identity `½F_ij + ½δ_ij`, and `.none` leaves `F`. Scaled
    /// by `2¹⁵` an entry is at most `32,768` (plus float32 rounding), far below float16's largest
    /// finite value `65,504`, so ``float16`` applies to every combination. A layer that still holds a
    /// value beyond that range (attention delivered by a caller, not a softmax) is kept float32
    /// instead of becoming ∞; NaN and ∞ are kept as they are.
    ///
    /// ## Error bound (``float16``)
    /// Rounding to nearest, each stored off-diagonal entry `a` becomes `a' = 2⁻¹⁵ · fl₁₆(2¹⁵ a)` with
    /// `|a' − a| ≤ 2⁻¹¹ · a` when `2¹⁵ a ≥ 2⁻¹⁴` (normal float16) and `|a' − a| ≤ 2⁻²⁵ · 2⁻¹⁵ = 2⁻⁴⁰`
    /// below; the diagonal is exact. With `u = 2⁻¹¹`, `η = 2⁻⁴⁰`, the layers in multiplication order
    /// `B_1 = Â_last, …, B_L = Â_first`, the float32 path's row `x_k = x_{k−1} B_k` and the float16
    /// path's `y_k` (from the same non-negative readout `x_0 = y_0`), the error `e_k = |y_k − x_k|`
    /// obeys, entry by entry (all factors are non-negative),
    /// `e_k ≤ e_{k−1} B_k + u (x_{k−1} + e_{k−1}) B_k + η σ_{k−1} 𝟙ᵀ` with `σ_k = Σ_j y_k,j`, so
    ///
    /// `|row16_j − row32_j| ≤ ((1 + u)^L − 1) · row32_j + η Σ_k (1 + u)^{L−k} σ_{k−1} (𝟙ᵀ B_{k+1} ⋯ B_L)_j`.
    ///
    /// With row-stochastic layers (mean fusion, no discard, an identity residual) `σ ≤ (1 + u)^L`
    /// and the column sums of the products are at most `N`, so the second term is below
    /// `1.02 · L · N · 2⁻⁴⁰`. For 12 layers: `|Δ_j| ≤ 0.00587 · row32_j + 4e-8` at 3,601 tokens, and
    /// the row sums stay within `0.00587 + 4e-8` of 1. Measured on DINO ViT-S/8 at 480 px (`vitlens
    /// analyze`'s rollout.npy against the float32 path) the largest difference was 2.7e-9, relative
    /// 1e-5 (the bound's worst case assumes every rounding goes the same way).
    /// The double-precision accumulation is the same in both paths.
    public enum StoredPrecision: Sendable, Equatable, Hashable {
        /// Off-diagonal entries as IEEE float16 of `2¹⁵ · a`, the diagonal as float32:
        /// `2·N² + 4·N` bytes per layer, readout within the bound above. Default.
        case float16
        /// Every entry as float32, `4·N²` bytes per layer: exactly the float32 products.
        case float32

        /// Bytes one stored layer of `n` tokens takes (`Int.max` on overflow).
        public func bytesPerLayer(tokens n: Int) -> Int {
            switch self {
            case .float16: return Limits.sum(Limits.product(2, n, n) ?? .max, Limits.product(4, n) ?? .max) ?? .max
            case .float32: return MemoryEstimate.floats(n, n)
            }
        }
    }

    /// Everything that defines one rollout.
    public struct Options: Sendable, Equatable {
        /// Head fusion per layer (default `.mean`).
        public var fusion: HeadFusion
        /// Fraction `r ∈ [0, 1)` of eligible entries to zero per layer after fusion (default 0).
        public var discardRatio: Double
        /// Which entries are eligible for discarding (default `.perRow`).
        public var discardMode: DiscardMode
        /// Residual handling (default `.identityRenormalized`).
        public var residual: Residual
        /// First layer multiplied in, zero-based, inclusive; negative counts from the end (default 0).
        public var firstLayer: Int
        /// Last layer multiplied in, inclusive; negative counts from the end (default -1, the last).
        public var lastLayer: Int
        /// The row read out of the product (default CLS).
        public var readout: Readout
        /// Memory/time strategy (default `.automatic`).
        public var strategy: Strategy
        /// Precision of the layers the stored-layers strategy keeps (default `.float16`); the full
        /// product is always float32.
        public var storedPrecision: StoredPrecision

        public init(
            fusion: HeadFusion = .mean, discardRatio: Double = 0, discardMode: DiscardMode = .perRow,
            residual: Residual = .identityRenormalized, firstLayer: Int = 0, lastLayer: Int = -1,
            readout: Readout = .cls, strategy: Strategy = .automatic, storedPrecision: StoredPrecision = .float16
        ) {
            self.fusion = fusion
            self.discardRatio = discardRatio
            self.discardMode = discardMode
            self.residual = residual
            self.firstLayer = firstLayer
            self.lastLayer = lastLayer
            self.readout = readout
            self.strategy = strategy
            self.storedPrecision = storedPrecision
        }
    }

    /// The configuration.
    public let options: Options
    /// The rollout of the last completed forward pass; `nil` until ``finish()``.
    public private(set) var result: RolloutResult?

    private var layout: TokenLayout?
    private var layerRange: ClosedRange<Int> = 0 ... 0
    /// The layers multiplied into `R`: `layerRange`, less the pooling head's layer when the probe
    /// is the readout; `nil` when that leaves none.
    private var productRange: ClosedRange<Int>? = 0 ... 0
    /// The pooling head's layer when its probe row is the readout.
    private var probeLayer: Int?
    private var readoutWeights: [Double] = []
    private var fullProduct = true
    private var started = false
    private var fused: [Float] = []
    private var product: [Float] = []
    private var work: [Float] = []
    private var scratch: [Float] = []
    private var stored: [RolloutStoredLayer] = []
    /// The float32 layer being prepared by ``observe(_:)`` for half-precision storage (reused).
    private var inFlight: FloatStorage?
    /// In-pass fusion for the stored-layers strategy (nil for the full product and global discard).
    private var rowKernel: RolloutRowKernel?
    /// Layers of the last pass whose fusion ran inside the attention pass (row statistics) rather
    /// than over the finished layer; a diagnostic.
    public private(set) var layersFusedInPass = 0
    /// Layers of the last pass stored at half precision (``StoredPrecision/float16``); the others
    /// were stored as float32 (full product, ``StoredPrecision/float32``, or out of float16's range).
    public private(set) var layersStoredAtHalfPrecision = 0

    /// Creates a rollout observer.
    /// - Throws: ``AnalysisError/discardRatioOutOfRange(_:)`` unless `0 ≤ discardRatio < 1`.
    public init(_ options: Options = Options()) throws {
        guard options.discardRatio >= 0 && options.discardRatio < 1 else {
            throw AnalysisError.discardRatioOutOfRange(options.discardRatio)
        }
        self.options = options
    }

    /// Resolves a possibly negative layer index against `layers`.
    static func resolve(layer: Int, layers: Int) throws -> Int {
        let l = layer < 0 ? layers + layer : layer
        guard l >= 0 && l < layers else { throw AnalysisError.layerOutOfRange(layer: layer, layers: layers) }
        return l
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        let first = try Self.resolve(layer: options.firstLayer, layers: geometry.layers)
        let last = try Self.resolve(layer: options.lastLayer, layers: geometry.layers)
        guard first <= last else { throw AnalysisError.emptyLayerRange(first: first, last: last) }
        try options.fusion.validate(heads: geometry.heads)
        let g = geometry.layout
        if options.readout == .cls, g.clsIndex == nil, let p = g.poolingHeadLayer, p == last {
            probeLayer = p
            productRange = first < p ? first ... p - 1 : nil
            readoutWeights = []
        } else {
            probeLayer = nil
            productRange = first ... last
            readoutWeights = try options.readout.weights(in: g)
        }
        let n = geometry.layout.tokenCount
        layout = geometry.layout
        layerRange = first ... last
        switch options.strategy {
        case .fullProduct: fullProduct = true
        case .storedLayers: fullProduct = false
        case .automatic:
            let storedBytes = Limits.product(last - first + 1, options.storedPrecision.bytesPerLayer(tokens: n)) ?? .max
            fullProduct = n <= Strategy.automaticFullProductLimit || storedBytes > Strategy.automaticStoredBytesLimit
        }
        result = nil
        layersFusedInPass = 0
        layersStoredAtHalfPrecision = 0
        started = false
        stored = []
        inFlight = nil
        fused = fullProduct ? AnalysisKernels.uninitialized(n * n) : []
        product = []
        work = []
        let scratchCount = options.discardRatio > 0 ? (options.discardMode == .global ? n * n : n) : 0
        scratch = [Float](repeating: 0, count: scratchCount)
        rowKernel = nil
        if !fullProduct, RolloutRowKernel.supports(options), let range = productRange {
            rowKernel = RolloutRowKernel(options: options, layers: range, tokens: n)
        }
    }

    /// The in-pass fusion kernel, when the stored-layers strategy is used with row-local options.
    public var rowStatistics: [any AttentionRowStatistic] { rowKernel.map { [$0] } ?? [] }

    /// `false` for layers outside the range and for layers the in-pass kernel fuses; `true` for the
    /// full product, the probe layer and options the kernel cannot handle.
    public func needsProbabilities(layer: Int) -> Bool {
        guard layerRange.contains(layer) else { return false }
        if layer == probeLayer { return true }
        guard productRange?.contains(layer) == true else { return false }
        return fullProduct || rowKernel == nil
    }

    /// The full product's three `N x N` float matrices, or the stored layers
    /// (``StoredPrecision/bytesPerLayer(tokens:)`` each) plus the one float32 layer being filled,
    /// plus the global-discard scratch; mirrors the strategy choice of `begin`.
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        let n = geometry.layout.tokenCount
        let first = (try? Self.resolve(layer: options.firstLayer, layers: geometry.layers)) ?? 0
        let last = (try? Self.resolve(layer: options.lastLayer, layers: geometry.layers)) ?? geometry.layers - 1
        let layers = max(1, last - first + 1)
        let square = MemoryEstimate.floats(n, n)
        let stored = Limits.product(layers, options.storedPrecision.bytesPerLayer(tokens: n)) ?? .max
        let full: Bool
        switch options.strategy {
        case .fullProduct: full = true
        case .storedLayers: full = false
        case .automatic: full = n <= Strategy.automaticFullProductLimit || stored > Strategy.automaticStoredBytesLimit
        }
        let kept = full ? Limits.product(3, square) ?? .max : Limits.sum(stored, square) ?? .max
        let scratch = options.discardRatio > 0 && options.discardMode == .global ? square : 0
        return Limits.sum(kept, scratch) ?? .max
    }

    public mutating func observe(_ attention: LayerAttention) throws {
        guard let layout, layerRange.contains(attention.layer) else { return }
        let n = layout.tokenCount
        guard attention.tokens == n else {
            throw AnalysisError.geometryMismatch(analysis: "rollout", expected: "\(n) tokens", found: "\(attention.tokens) tokens")
        }
        try options.fusion.validate(heads: attention.heads)
        if attention.layer == probeLayer {
            // Every row of the pooling head's layer is the probe's attention: row 0, fused, is u.
            readoutWeights = try options.fusion.fuse(attention).values[0 ..< n].map(Double.init)
            return
        }
        guard productRange?.contains(attention.layer) == true else { return }
        let options = self.options
        var scratch = self.scratch
        let prepare = { (f: UnsafeMutableBufferPointer<Float>) in
            options.fusion.fuse(heads: attention.heads, from: attention.probabilities, into: f)
            guard let m = f.baseAddress else { return }
            if options.discardRatio > 0 {
                scratch.withUnsafeMutableBufferPointer { s in
                    guard let sp = s.baseAddress else { return }
                    Self.discard(m, n: n, ratio: options.discardRatio, mode: options.discardMode, cls: layout.clsIndex, scratch: sp)
                }
            }
            Self.addResidual(m, n: n, options.residual)
        }
        if !fullProduct, let kernel = rowKernel, let layer = kernel.take(layer: attention.layer) {
            // Filled inside the attention pass (row statistics): nothing left to read here.
            keep(layer)
            layersFusedInPass += 1
            return
        }
        guard attention.hasProbabilities else {
            throw AnalysisError.geometryMismatch(analysis: "rollout", expected: "layer \(attention.layer)'s probabilities or all its rows",
                                                 found: "neither")
        }
        if !fullProduct {
            // Each float32 layer gets its own pre-faulted buffer (cheap first touch at N = 3,601); at
            // half precision one float32 buffer is prepared and converted per layer.
            let layer = inFlight ?? FloatStorage(count: n * n)
            inFlight = nil
            prepare(layer.buffer)
            self.scratch = scratch
            if options.storedPrecision == .float16 {
                let half = RolloutHalfLayer(tokens: n)
                if half.storeAll(of: layer.pointer) {
                    inFlight = attention.layer < productRange?.upperBound ?? 0 ? layer : nil
                    keep(.half(half))
                    return
                }
            }
            keep(.single(layer))
            return
        }
        fused.withUnsafeMutableBufferPointer { prepare($0) }
        self.scratch = scratch
        if !started {
            swap(&fused, &product)
            fused = AnalysisKernels.uninitialized(n * n)
            work = [Float](repeating: 0, count: n * n)
        } else {
            fused.withUnsafeBufferPointer { a in
                product.withUnsafeBufferPointer { b in
                    work.withUnsafeMutableBufferPointer { c in
                        guard let ap = a.baseAddress, let bp = b.baseAddress, let cp = c.baseAddress else { return }
                        AnalysisKernels.matmul(ap, bp, cp, n: n)
                    }
                }
            }
            swap(&product, &work)
        }
        started = true
    }

    public mutating func finish() throws {
        guard let layout, started || (productRange == nil && !readoutWeights.isEmpty), !readoutWeights.isEmpty else {
            throw AnalysisError.noLayersObserved(analysis: "rollout")
        }
        let n = layout.tokenCount
        var row = readoutWeights
        var matrix: Tensor?
        if !started {
            // Only the pooling head's layer: the readout is the probe's attention itself.
        } else if fullProduct {
            row = product.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(row, $0, n: n) }
            matrix = Tensor(shape: [n, n], values: product)
        } else {
            for m in stored.reversed() { row = m.leftMultiply(row, n: n) }
        }
        result = RolloutResult(
            distribution: TokenDistribution(row: row.map { Float($0) }, layout: layout),
            layers: layerRange, options: options, matrix: matrix)
        fused = []
        product = []
        work = []
        scratch = []
        stored = []
        inFlight = nil
        rowKernel = nil
    }

    /// Appends a finished layer of the stored-layers strategy.
    private mutating func keep(_ layer: RolloutStoredLayer) {
        if case .half = layer { layersStoredAtHalfPrecision += 1 }
        stored.append(layer)
        started = true
    }

    /// Applies the residual in place to a fused `n x n` matrix.
    static func addResidual(_ m: UnsafeMutablePointer<Float>, n: Int, _ residual: Residual) {
        if residual == .none { return }
        // Rows are independent: split across cores.
        nonisolated(unsafe) let m = m
        Compute.forEachChunk(n, costPerItem: 2 * n) { rows in
            for i in rows { addResidualRow(m + i * n, diagonal: i, n: n, residual) }
        }
    }

    /// The residual of one row whose diagonal entry sits at column `i`.
    static func addResidualRow(_ row: UnsafeMutablePointer<Float>, diagonal i: Int, n: Int, _ residual: Residual) {
        switch residual {
        case .none:
            return
        case .halfIdentity:
            for j in 0 ..< n { row[j] *= 0.5 }
            row[i] += 0.5
        case .identityRenormalized:
            row[i] += 1
            var acc = SIMD16<Float>(repeating: 0)
            var j = 0
            while j + 16 <= n {
                acc += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                j += 16
            }
            var s = acc.sum()
            while j < n { s += row[j]; j += 1 }
            let inv = 1 / s
            for j in 0 ..< n { row[j] *= inv }
        }
    }
}

/// The outcome of a ``Rollout``: the readout row, its patch map, and the mass on prefix tokens.
public struct RolloutResult: Sendable, Equatable {
    /// The readout row `uᵀ R` over all tokens and its split by role.
    public var distribution: TokenDistribution
    /// The layers multiplied in (resolved, inclusive).
    public var layers: ClosedRange<Int>
    /// The options the rollout ran with.
    public var options: Rollout.Options
    /// The full product `R`, `[tokens, tokens]` (row = output token, column = input token), when the
    /// full-product strategy ran; `nil` for stored layers.
    public var matrix: Tensor?

    /// The readout row over all tokens, `[tokens]`.
    public var row: [Float] { distribution.row }
    /// The readout row over the patches, `[rows, columns]` (`[tokens]` for text); raw, not rescaled.
    public var map: Tensor { distribution.map }
    /// Mass at the CLS column, `nil` without CLS.
    public var clsMass: Float? { distribution.clsMass }
    /// Mass that flowed to the non-CLS prefix tokens (registers, distillation token).
    public var prefixMass: Float { distribution.prefixMass }
    /// The token layout.
    public var layout: TokenLayout { distribution.layout }
}
