import ViTLensCore

/// Attention flow (Abnar & Zuidema 2020): max-flow through the layered attention graph, for small
/// token counts.
///
/// The graph has `(L + 1)·N` nodes, one copy of the tokens at every layer boundary (level 0 =
/// input, level `L` = output). For each observed layer `l` (forward order, all layers), with
/// `Â_l = (mean_h A_l + I)` row-normalised (computed in double), there is an edge from level
/// `l + 1` token `i` to level `l` token `j` with capacity `Â_l[i, j]`. The flow of output token
/// `u` to input token `v` is the max-flow value from node `(L, u)` to node `(0, v)`; the readout
/// row is these `N` values divided by their sum (Abnar's normalisation). ``Readout/meanOfPatches``
/// averages the normalised rows of every patch output token.
///
/// Max-flow is Dinic's algorithm on doubles (Abnar's code uses networkx's Edmonds–Karp; the
/// max-flow value is the same). One readout row solves `N` max-flow problems on a graph of
/// `L·N²` edges; ``Readout/meanOfPatches`` solves `G` times as many. The observer refuses work
/// above ``maxWork`` = readout rows · N · L·N², set to one CLS row of a 12-layer ViT-B/16 at 224 px
/// (N = 197). Measured in release builds on a busy 2-core machine (CPU time, 12 layers, CLS row):
/// N = 65: 0.07 s, N = 101: 0.3 s, N = 197: 3 s; the mean of the 64 patch rows at N = 65: 3 s
/// (refused: 64·65·50,700 > maxWork). Rollout is the scalable approximation.
public struct AttentionFlow: AttentionObserver {
    /// Largest accepted `readout rows · N · (layers · N²)`: 197 · 12 · 197² (ViT-B/16 CLS row).
    public static let maxWork = 197 * 12 * 197 * 197

    /// The output row(s) read.
    public let readout: Readout
    /// The flow of the last completed forward pass; `nil` until ``finish()``.
    public private(set) var result: AttentionFlowResult?

    private var layout: TokenLayout?
    private var layers: [[Double]] = []
    private var readoutRows = 1

    /// `rows · N · layers · N²`, saturating instead of overflowing.
    static func work(rows: Int, tokens n: Int, layers: Int) -> Int {
        let (a, o1) = n.multipliedReportingOverflow(by: n)
        let (b, o2) = a.multipliedReportingOverflow(by: n)
        let (c, o3) = b.multipliedReportingOverflow(by: layers)
        let (d, o4) = c.multipliedReportingOverflow(by: rows)
        return o1 || o2 || o3 || o4 ? Int.max : d
    }

    /// Creates the observer for `readout` (default CLS).
    public init(readout: Readout = .cls) {
        self.readout = readout
    }

    /// Every layer's fused matrix in float64 and the flow network's edges (about 48 bytes each).
    public func estimatedBytes(for geometry: AttentionGeometry) -> Int {
        let n = geometry.layout.tokenCount
        return Limits.product(geometry.layers, n, n, 8 + 48) ?? .max
    }

    public mutating func begin(_ geometry: AttentionGeometry) throws {
        let n = geometry.layout.tokenCount
        let rows = readout == .meanOfPatches ? geometry.layout.patchRange.count : 1
        _ = try readout.weights(in: geometry.layout)
        guard Self.work(rows: rows, tokens: n, layers: geometry.layers) <= Self.maxWork else {
            throw AnalysisError.flowTooLarge(tokens: n, layers: geometry.layers, readoutRows: rows, maxWork: Self.maxWork)
        }
        readoutRows = rows
        layout = geometry.layout
        layers = []
        result = nil
    }

    public mutating func observe(_ attention: LayerAttention) throws {
        guard let layout else { return }
        let n = layout.tokenCount
        guard attention.tokens == n else {
            throw AnalysisError.geometryMismatch(analysis: "attention flow", expected: "\(n) tokens", found: "\(attention.tokens) tokens")
        }
        guard Self.work(rows: readoutRows, tokens: n, layers: layers.count + 1) <= Self.maxWork else {
            throw AnalysisError.flowTooLarge(tokens: n, layers: layers.count + 1, readoutRows: readoutRows, maxWork: Self.maxWork)
        }
        let heads = attention.heads
        let p = attention.probabilities
        var m = [Double](repeating: 0, count: n * n)
        for h in 0 ..< heads {
            for k in 0 ..< n * n { m[k] += Double(p[h * n * n + k]) }
        }
        for i in 0 ..< n {
            var s = 0.0
            for j in 0 ..< n {
                m[i * n + j] /= Double(heads)
                if i == j { m[i * n + j] += 1 }
                s += m[i * n + j]
            }
            for j in 0 ..< n { m[i * n + j] /= s }
        }
        layers.append(m)
    }

    public mutating func finish() throws {
        guard let layout, !layers.isEmpty else { throw AnalysisError.noLayersObserved(analysis: "attention flow") }
        let n = layout.tokenCount
        let l = layers.count
        var network = FlowNetwork(nodes: (l + 1) * n)
        for (k, m) in layers.enumerated() {
            for i in 0 ..< n {
                for j in 0 ..< n where m[i * n + j] > 0 {
                    network.addEdge(from: (k + 1) * n + i, to: k * n + j, capacity: m[i * n + j])
                }
            }
        }
        let outputs: [Int]
        switch readout {
        case .query(let q): outputs = [try q.index(in: layout)]
        case .meanOfPatches: outputs = Array(layout.patchRange)
        }
        var raw = [Double](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: n)
        for u in outputs {
            var flows = [Double](repeating: 0, count: n)
            for v in 0 ..< n { flows[v] = network.maxFlow(from: l * n + u, to: v) }
            let total = flows.reduce(0, +)
            for v in 0 ..< n {
                raw[v] += flows[v] / Double(outputs.count)
                row[v] += (total > 0 ? flows[v] / total : 0) / Double(outputs.count)
            }
        }
        result = AttentionFlowResult(
            distribution: TokenDistribution(row: row.map { Float($0) }, layout: layout),
            rawFlow: raw, layers: l, readout: readout)
        layers = []
    }
}

/// The outcome of ``AttentionFlow``.
public struct AttentionFlowResult: Sendable, Equatable {
    /// The normalised flow row (sums to 1) and its split by token role.
    public var distribution: TokenDistribution
    /// Max-flow values before normalisation, `[tokens]` (averaged over outputs for mean of patches).
    public var rawFlow: [Double]
    /// Number of layers in the graph.
    public var layers: Int
    /// The readout used.
    public var readout: Readout

    /// The normalised flow over the patches, `[rows, columns]` (`[tokens]` for text).
    public var map: Tensor { distribution.map }
}
