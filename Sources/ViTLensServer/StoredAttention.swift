import Foundation
import ViTLens

/// One input's attention as the server keeps it: every layer (float32 or float16), or, when that does
/// not fit the budget, every layer's prefix-token rows plus the last layer in full ("partial").
final class StoredAttention: @unchecked Sendable {
    enum Mode: String { case full, partial }
    enum DType: String { case float32, float16 }

    let layers: Int, heads: Int, tokens: Int, prefix: Int
    let mode: Mode
    let dtype: DType
    // full: [layers, heads, N, N]; partial: prefixRows [layers, heads, P, N] and last [heads, N, N].
    private(set) var f32: [Float] = []
    private(set) var f16: [Float16] = []
    private(set) var last: [Float] = []

    init(layers: Int, heads: Int, tokens: Int, prefix: Int, mode: Mode, dtype: DType) {
        (self.layers, self.heads, self.tokens, self.prefix, self.mode, self.dtype) = (layers, heads, tokens, prefix, mode, dtype)
    }

    /// Bytes a store of this shape takes.
    static func bytes(layers: Int, heads: Int, tokens n: Int, prefix: Int, mode: Mode, dtype: DType) -> Int {
        let width = dtype == .float32 ? 4 : 2
        switch mode {
        case .full: return layers * heads * n * n * width
        case .partial: return layers * heads * prefix * n * width + heads * n * n * 4
        }
    }

    var bytes: Int { Self.bytes(layers: layers, heads: heads, tokens: tokens, prefix: prefix, mode: mode, dtype: dtype) }

    /// The views a partial store cannot answer without a new forward pass.
    var recomputeNeeded: [String] {
        guard mode == .partial else { return [] }
        return ["attention of patch or text-token queries in layers other than the last",
                "rollout", "masks of layers other than the last"]
    }

    func allocate() {
        let n = tokens
        switch (mode, dtype) {
        case (.full, .float32): f32 = [Float](repeating: 0, count: layers * heads * n * n)
        case (.full, .float16): f16 = [Float16](repeating: 0, count: layers * heads * n * n)
        case (.partial, .float32): f32 = [Float](repeating: 0, count: layers * heads * prefix * n)
        case (.partial, .float16): f16 = [Float16](repeating: 0, count: layers * heads * prefix * n)
        }
        if mode == .partial { last = [Float](repeating: 0, count: heads * n * n) }
    }

    /// Copies one layer from the forward pass.
    func store(_ a: LayerAttention) {
        let n = tokens, plane = heads * n * n
        switch mode {
        case .full:
            copy(a.probabilities, count: plane, to: a.layer * plane)
        case .partial:
            for h in 0 ..< heads {
                let src = UnsafeBufferPointer(rebasing: a.probabilities[(h * n * n) ..< (h * n * n + prefix * n)])
                copy(src, count: prefix * n, to: (a.layer * heads + h) * prefix * n)
            }
            if a.layer == layers - 1 { last.withUnsafeMutableBufferPointer { _ = $0.initialize(from: a.probabilities) } }
        }
    }

    private func copy(_ src: UnsafeBufferPointer<Float>, count: Int, to offset: Int) {
        switch dtype {
        case .float32: f32.withUnsafeMutableBufferPointer { dst in for i in 0 ..< count { dst[offset + i] = src[i] } }
        case .float16: f16.withUnsafeMutableBufferPointer { dst in for i in 0 ..< count { dst[offset + i] = Float16(src[i]) } }
        }
    }

    private func read(_ offset: Int, _ count: Int, into out: inout [Float]) {
        switch dtype {
        case .float32: out += f32[offset ..< offset + count]
        case .float16: out += f16[offset ..< offset + count].lazy.map(Float.init)
        }
    }

    /// Query `q`'s rows of every head in layer `l`, `[heads * N]`, or nil when a partial store lacks them.
    func rows(layer l: Int, query q: Int) -> [Float]? {
        let n = tokens
        var out = [Float]()
        out.reserveCapacity(heads * n)
        switch mode {
        case .full:
            for h in 0 ..< heads { read(((l * heads + h) * n + q) * n, n, into: &out) }
        case .partial:
            if l == layers - 1 {
                for h in 0 ..< heads { out += last[((h * n) + q) * n ..< ((h * n) + q + 1) * n] }
            } else if q < prefix {
                for h in 0 ..< heads { read(((l * heads + h) * prefix + q) * n, n, into: &out) }
            } else {
                return nil
            }
        }
        return out
    }

    /// Layer `l` in full, `[heads, N, N]` as float32, or nil for a partial store's inner layers.
    func layer(_ l: Int) -> [Float]? {
        let plane = heads * tokens * tokens
        switch mode {
        case .full:
            var out = [Float]()
            out.reserveCapacity(plane)
            read(l * plane, plane, into: &out)
            return out
        case .partial:
            return l == layers - 1 ? last : nil
        }
    }

    /// Replays the stored layers into `observer` as a forward pass would (row statistics, then
    /// `observe`), for analyses computed from the cache. Full stores only.
    func replay<O: AttentionObserver>(into observer: inout O, layout: TokenLayout) throws {
        precondition(mode == .full, "replay needs a full store")
        let n = tokens
        try observer.begin(AttentionGeometry(layers: layers, heads: heads, tokens: n, headDim: 0, layout: layout))
        let statistics = observer.rowStatistics
        for l in 0 ..< layers {
            guard let values = layer(l) else { continue }
            try values.withUnsafeBufferPointer {
                try observer.replay(layer: l, heads: heads, tokens: n, layout: layout, probabilities: $0, statistics: statistics)
            }
        }
        try observer.finish()
    }
}

/// Fills a ``StoredAttention`` during the upload's forward pass.
struct StoreCapture: AttentionObserver {
    let store: StoredAttention

    func estimatedBytes(for geometry: AttentionGeometry) -> Int { store.bytes }
    mutating func begin(_ geometry: AttentionGeometry) throws { store.allocate() }
    mutating func observe(_ attention: LayerAttention) throws { store.store(attention) }
}

/// Copies chosen rows of chosen layers during a recompute (`[layer][query] -> [heads * N]`).
struct RowCapture: AttentionObserver {
    let layers: Set<Int>
    let queries: [Int]
    var rows: [Int: [Int: [Float]]] = [:]

    func estimatedBytes(for g: AttentionGeometry) -> Int { layers.count * queries.count * g.heads * g.tokens * 4 }
    mutating func observe(_ a: LayerAttention) throws {
        guard layers.contains(a.layer) else { return }
        var byQuery: [Int: [Float]] = [:]
        for q in queries {
            var r = [Float]()
            r.reserveCapacity(a.heads * a.tokens)
            for h in 0 ..< a.heads { r += a.row(head: h, query: q) }
            byQuery[q] = r
        }
        rows[a.layer] = byQuery
    }
}
