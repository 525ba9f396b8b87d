import ViTLensCore

/// Rollout's per-layer work (head fusion, per-row discard, residual) done inside the attention pass,
/// one block of query rows and one head at a time while the rows are still in cache. Used by the
/// stored-layers strategy whenever the work is row-local and head-incremental (every option but
/// global discard and std fusion).
final class RolloutRowKernel: AttentionRowStatistic, @unchecked Sendable {
    let options: Rollout.Options
    let layers: ClosedRange<Int>
    let n: Int
    /// The fused, discarded, residual-added layer being filled (released after the last layer when
    /// the layers are handed over at half precision).
    private(set) var current: FloatStorage?
    /// With ``Rollout/StoredPrecision/float16``, the half-precision copy of `current`, written row by
    /// row as each row is finished.
    private var half: RolloutHalfLayer?
    /// Per row of `current` in this layer: 0 not yet filled, 1 filled, 2 filled but out of float16's
    /// range (so the layer is handed over as float32).
    private let done: UnsafeMutablePointer<UInt8>

    init(options: Rollout.Options, layers: ClosedRange<Int>, tokens n: Int) {
        self.options = options
        self.layers = layers
        self.n = n
        current = FloatStorage(count: n * n)
        half = options.storedPrecision == .float16 ? RolloutHalfLayer(tokens: n) : nil
        done = .allocate(capacity: n)
        done.initialize(repeating: 0, count: n)
    }

    deinit { done.deallocate() }

    func accumulate(layer: Int, head: Int, heads: Int, rows: Range<Int>, probabilities: UnsafePointer<Float>, tokens: Int) {
        guard layers.contains(layer), tokens == n, rows.upperBound <= n, let current else { return }
        let out = current.pointer + rows.lowerBound * n
        let count = rows.count * n
        if options.fusion == .mean, options.discardRatio == 0, heads > 1, head == heads - 1, let half {
            // The last head's add, the division, the residual and the float16 copy in two passes
            // per row instead of five, each entry through the same operations in the same order.
            let hf = Float(heads)
            for r in rows {
                let row = current.pointer + r * n
                let fresh = probabilities + (r - rows.lowerBound) * n
                done[r] = Self.finishMeanRow(row, adding: fresh, heads: hf, diagonal: r, n: n, options.residual, into: half) ? 1 : 2
            }
            return
        }
        // Same per-element order as the whole-layer fusion: head 0 copied, heads 1... combined in turn.
        switch options.fusion {
        case .mean:
            if head == 0 { out.update(from: probabilities, count: count) } else { for i in 0 ..< count { out[i] += probabilities[i] } }
        case .max:
            if head == 0 { out.update(from: probabilities, count: count) } else {
                for i in 0 ..< count { out[i] = probabilities[i] > out[i] ? probabilities[i] : out[i] }
            }
        case .min:
            if head == 0 { out.update(from: probabilities, count: count) } else {
                for i in 0 ..< count { out[i] = probabilities[i] < out[i] ? probabilities[i] : out[i] }
            }
        case .head(let k):
            if head == k { out.update(from: probabilities, count: count) }
        case .std:
            return  // needs every head at once: never used in the pass (see `supports`)
        }
        guard head == heads - 1 else { return }
        if options.fusion == .mean {
            let hf = Float(heads)
            for i in 0 ..< count { out[i] /= hf }
        }
        let scratch = options.discardRatio > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: n) : nil
        defer { scratch?.deallocate() }
        for r in rows {
            let row = current.pointer + r * n
            if let scratch { Rollout.discardRow(row, diagonal: r, n: n, ratio: options.discardRatio, scratch: scratch) }
            Rollout.addResidualRow(row, diagonal: r, n: n, options.residual)
            done[r] = half.map { $0.store(rows: r ..< r + 1, of: current.pointer) ? 1 : 2 } ?? 1
        }
    }

    /// Finishes one row of a mean-fused layer from the last head's `fresh` row: `a = (row + fresh) / heads`,
    /// then the residual (as ``Rollout/addResidualRow(_:diagonal:n:_:)``: the identity's 1 added
    /// to the diagonal and the row multiplied by the inverse of its sum, summed in 16 lanes then the
    /// tail; or halved plus ½ on the diagonal), written to `row` and stored in `half` (as
    /// ``RolloutHalfLayer/store(row:from:)``; the renormalisation in the same pass as the float16 copy).
    /// Every entry goes through the operations of the unfused path in its order, so the results are
    /// bit-identical. Returns `false` when the row is out of float16's range.
    static func finishMeanRow(_ row: UnsafeMutablePointer<Float>, adding fresh: UnsafePointer<Float>, heads hf: Float, diagonal i: Int,
                              n: Int, _ residual: Rollout.Residual, into half: RolloutHalfLayer) -> Bool {
        let out = UnsafeMutableRawPointer(row), src = UnsafeRawPointer(fresh)
        let single = MemoryLayout<Float>.stride
        let vectors = n / 16
        switch residual {
        case .identityRenormalized:
            var acc = SIMD16<Float>(repeating: 0)
            for c in 0 ..< vectors {
                var v = (out.loadUnaligned(fromByteOffset: c * 16 * single, as: SIMD16<Float>.self)
                    + src.loadUnaligned(fromByteOffset: c * 16 * single, as: SIMD16<Float>.self)) / hf
                if i >= c * 16 && i < c * 16 + 16 { v[i - c * 16] += 1 }
                out.storeBytes(of: v, toByteOffset: c * 16 * single, as: SIMD16<Float>.self)
                acc += v
            }
            var s = acc.sum()
            for j in (vectors * 16) ..< n {
                row[j] = (row[j] + fresh[j]) / hf
                if j == i { row[j] += 1 }
                s += row[j]
            }
            return half.store(row: i, from: row, scaledBy: 1 / s)
        case .halfIdentity:
            for j in 0 ..< n { row[j] = (row[j] + fresh[j]) / hf * 0.5 }
            row[i] += 0.5
        case .none:
            for j in 0 ..< n { row[j] = (row[j] + fresh[j]) / hf }
        }
        return half.store(row: i, from: row)
    }

    /// Whether `options` can be computed row block by row block, head by head.
    static func supports(_ options: Rollout.Options) -> Bool {
        options.fusion != .std && (options.discardRatio == 0 || options.discardMode == .perRow)
    }

    /// Hands over the finished layer if every row was filled (then starts fresh buffers when more
    /// layers follow); `nil` if the rows were not all delivered (the caller then fuses itself).
    func take(layer: Int) -> RolloutStoredLayer? {
        var complete = true
        var inRange = true
        for r in 0 ..< n {
            if done[r] == 0 { complete = false }
            if done[r] == 2 { inRange = false }
        }
        done.update(repeating: 0, count: n)
        guard complete, let finished = current else { return nil }
        let more = layer < layers.upperBound
        defer {
            if !more {
                current = nil
                half = nil
            }
        }
        if let half, inRange {
            // The float32 layer is reused for the next layer, or released after the last.
            if more { self.half = RolloutHalfLayer(tokens: n) }
            return .half(half)
        }
        if more { current = FloatStorage(count: n * n) }
        return .single(finished)
    }
}
