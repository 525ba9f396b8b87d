import Dispatch
import ViTLensCore

/// Mean attention distance per layer and head (ViT paper, Dosovitskiy et al. 2021, Fig. 7 and
/// App. D.7; the authors' code in google-research/vision_transformer#162), averaged over images.
///
/// For layer `l`, head `h` and one image, with `G` patches at grid coordinates `g_i = (row, col)`
/// and patch size `p` pixels:
/// - `W = A_l[h, patches, patches]`: every prefix row and column (CLS, distillation token,
///   registers) is dropped and, by default, rows are **not** renormalised (the reference; they sum
///   to `1 − attention to prefix tokens`). With `renormalize` each row is divided by its sum
///   (a row with no patch mass counts as distance 0); that value is always ≥ the reference one.
/// - `D_ij = p · ‖g_i − g_j‖₂`, the distance between patch centres in input pixels.
/// - `d_i = Σ_j W_ij D_ij` and `MAD_{l,h} = (1/G) Σ_i d_i`.
///
/// The result is the mean over all forward passes since creation, plus each pass's values.
/// Anchors: uniform attention over a 14x14 grid with `p = 16` gives 116.49 px, identity attention
/// 0, uniform attention over the four nearest neighbours `p`.
///
/// Cost per layer: one read of `[heads, G, G]`; `D` is never built: its rows are read as segments
/// of a `rows x (2 columns − 1)` table (``PatchDistances``; 28 KB at 60 x 60 patches, against
/// 52 MB for the `G x G` matrix before), and the weighted sums are SIMD dot products over each
/// query row.
public struct MeanAttentionDistance: AttentionObserver {
    /// Whether each row of `W` is divided by its sum (default `false`, the reference behaviour).
    public let renormalize: Bool
    /// Statistics over all completed passes; `nil` before the first ``finish()``.
    public private(set) var result: LayerHeadStatistics?

    private var accumulator = LayerHeadAccumulator(analysis: "mean attention distance")
    private var grid: PatchGrid?
    private var prefix = 0
    private var distances: PatchDistances?
    /// In-pass per-row sums for large grids (see ``rowStatistics``).
    private var rowKernel: MADRowKernel?

    /// Creates the observer; see the type's discussion for `renormalize`.
    public init(renormalize: Bool = false) {
        self.renormalize = renormalize
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        guard let g = geometry.layout.grid else { throw AnalysisError.needsPatchGrid(analysis: "mean attention distance") }
        try accumulator.begin(layers: geometry.layers, heads: geometry.heads)
        let table = (g == grid ? distances : nil) ?? PatchDistances(g)
        distances = table
        grid = g
        prefix = geometry.layout.prefixCount
        // From a few hundred patches on, reading the finished layer again costs a visible share of
        // the forward; compute the row sums inside the attention pass instead.
        rowKernel = g.count >= 256 ? MADRowKernel(distances: table, prefix: prefix, patches: g.count,
                                                  heads: geometry.heads, renormalize: renormalize) : nil
    }

    /// The in-pass row kernel for grids of 256 patches and more.
    public var rowStatistics: [any AttentionRowStatistic] { rowKernel.map { [$0] } ?? [] }

    /// `false` when the in-pass row kernel computes the sums (grids of 256 patches and more).
    public func needsProbabilities(layer: Int) -> Bool { rowKernel == nil }

    /// The patch distance table (``PatchDistances``).
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        PatchDistances.bytes(geometry.layout.grid)
    }

    public mutating func observe(_ attention: LayerAttention) throws {
        guard let grid, let distances else { return }
        let g = grid.count
        let n = attention.tokens
        let p = prefix
        guard n == p + g else {
            throw AnalysisError.geometryMismatch(analysis: "mean attention distance", expected: "\(p + g) tokens", found: "\(n) tokens")
        }
        let heads = attention.heads
        if let kernel = rowKernel, let sums = kernel.take(heads: heads) {
            try accumulator.record(layer: attention.layer, values: sums.map { $0 / Double(g) })
            return
        }
        guard attention.hasProbabilities else {
            throw AnalysisError.geometryMismatch(analysis: "mean attention distance",
                                                 expected: "layer \(attention.layer)'s probabilities or all its rows", found: "neither")
        }
        let renormalize = self.renormalize
        // Query rows split across Compute.threads, each with its own per-head partial sums
        // (memory-bound: one pass over heads * G^2 probabilities).
        let workers = Swift.max(1, Swift.min(Compute.threads, g))
        var partials = [Double](repeating: 0, count: workers * heads)
        guard let pBase = attention.probabilities.baseAddress else { return }
        nonisolated(unsafe) let probs = pBase
        partials.withUnsafeMutableBufferPointer { pb in
            nonisolated(unsafe) let part = pb.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = g * w / workers, hi = g * (w + 1) / workers
                for i in lo ..< hi {
                    for h in 0 ..< heads {
                        let a = probs + (h * n + p + i) * n + p
                        let (dot, sum) = distances.dotAndSum(a, query: i)
                        if renormalize {
                            if sum > 0 { part[w * heads + h] += Double(dot) / Double(sum) }
                        } else {
                            part[w * heads + h] += Double(dot)
                        }
                    }
                }
            }
        }
        var acc = [Double](repeating: 0, count: heads)
        for w in 0 ..< workers { for h in 0 ..< heads { acc[h] += partials[w * heads + h] } }
        try accumulator.record(layer: attention.layer, values: acc.map { $0 / Double(g) })
    }

    public mutating func finish() throws {
        result = accumulator.finish()
    }

    /// The patch-centre distance matrix `D_ij = p · ‖g_i − g_j‖₂`, `[G, G]`, for a grid.
    ///
    /// Built from a `rows x columns` table of `p · sqrt(dr² + dc²)` indexed by the absolute row
    /// and column offsets, copied out row segment by row segment (no per-element square roots).
    public static func distanceMatrix(_ grid: PatchGrid) -> Tensor {
        let rows = grid.rows, cols = grid.columns, g = grid.count
        let p = Float(grid.patchSize)
        var table = [Float](repeating: 0, count: rows * cols)
        for dr in 0 ..< rows {
            for dc in 0 ..< cols { table[dr * cols + dc] = p * Float(dr * dr + dc * dc).squareRoot() }
        }
        var d = [Float](repeating: 0, count: g * g)
        table.withUnsafeBufferPointer { tb in
            d.withUnsafeMutableBufferPointer { db in
                guard let t = tb.baseAddress, let out = db.baseAddress else { return }
                for ri in 0 ..< rows {
                    for ci in 0 ..< cols {
                        let i = ri * cols + ci
                        for rj in 0 ..< rows {
                            let base = t + abs(ri - rj) * cols
                            let dst = out + i * g + rj * cols
                            // Columns left of ci mirror the offsets ci ... 1, the rest run 0 ... cols-1-ci.
                            for cj in 0 ..< ci { dst[cj] = base[ci - cj] }
                            (dst + ci).update(from: base, count: cols - ci)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [g, g], values: d)
    }
}

/// Mean attention distance's per-query-row sums, computed inside the attention pass.
final class MADRowKernel: AttentionRowStatistic, @unchecked Sendable {
    let distances: PatchDistances
    let prefix: Int
    let patches: Int
    let heads: Int
    let renormalize: Bool
    /// `d_i` per patch row and head, `[patches, heads]`, Double.
    private let perRow: UnsafeMutablePointer<Double>
    private let done: UnsafeMutablePointer<UInt8>

    init(distances: PatchDistances, prefix: Int, patches: Int, heads: Int, renormalize: Bool) {
        self.distances = distances
        self.prefix = prefix
        self.patches = patches
        self.heads = heads
        self.renormalize = renormalize
        perRow = .allocate(capacity: patches * heads)
        done = .allocate(capacity: patches)
        done.initialize(repeating: 0, count: patches)
    }

    deinit {
        perRow.deallocate()
        done.deallocate()
    }

    func accumulate(layer: Int, head: Int, heads h: Int, rows: Range<Int>, probabilities: UnsafePointer<Float>, tokens n: Int) {
        guard h == heads, n == prefix + patches else { return }
        for r in rows where r >= prefix {
            let i = r - prefix
            let a = probabilities + (r - rows.lowerBound) * n + prefix
            let (dot, sum) = distances.dotAndSum(a, query: i)
            perRow[i * heads + head] = renormalize ? (sum > 0 ? Double(dot) / Double(sum) : 0) : Double(dot)
            if head == heads - 1 { done[i] = 1 }
        }
    }

    /// Per-head sums over the patch rows if every row was delivered this layer (then resets).
    func take(heads h: Int) -> [Double]? {
        var complete = h == heads
        for i in 0 ..< patches where done[i] == 0 {
            complete = false
            break
        }
        done.update(repeating: 0, count: patches)
        guard complete else { return nil }
        var acc = [Double](repeating: 0, count: heads)
        for i in 0 ..< patches { for head in 0 ..< heads { acc[head] += perRow[i * heads + head] } }
        return acc
    }
}
