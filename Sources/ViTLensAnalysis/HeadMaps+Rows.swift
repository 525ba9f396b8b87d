import ViTLensCore

/// ``HeadMaps``'s capture done inside the attention pass: when the block holding the query row of
/// the wanted layer passes, each head's row is copied out, so the pass need not keep the layer's
/// `[heads, N, N]` probabilities for it.
final class HeadRowKernel: AttentionRowStatistic, @unchecked Sendable {
    let layer: Int
    let query: Int
    let heads: Int
    let n: Int
    /// `[heads, n]`: each head's query row, filled by ``accumulate(layer:head:heads:rows:probabilities:tokens:)``.
    private let rows: UnsafeMutablePointer<Float>
    /// 1 for each head whose row was copied in this pass.
    private let done: UnsafeMutablePointer<UInt8>

    init(layer: Int, query: Int, heads: Int, tokens n: Int) {
        self.layer = layer
        self.query = query
        self.heads = heads
        self.n = n
        rows = .allocate(capacity: heads * n)
        rows.initialize(repeating: 0, count: heads * n)
        done = .allocate(capacity: heads)
        done.initialize(repeating: 0, count: heads)
    }

    deinit {
        rows.deallocate()
        done.deallocate()
    }

    func accumulate(layer: Int, head: Int, heads: Int, rows block: Range<Int>, probabilities: UnsafePointer<Float>, tokens: Int) {
        // One block holds the query row, so only one thread writes a given head's slot.
        guard layer == self.layer, heads == self.heads, tokens == n, head >= 0, head < heads, block.contains(query) else { return }
        (rows + head * n).update(from: probabilities + (query - block.lowerBound) * n, count: n)
        done[head] = 1
    }

    /// Every head's row when all were delivered in this pass (then resets for the next pass), else `nil`.
    func take() -> [Float]? {
        let complete = (0 ..< heads).allSatisfy { done[$0] == 1 }
        done.update(repeating: 0, count: heads)
        guard complete else { return nil }
        return Array(UnsafeBufferPointer(start: rows, count: heads * n))
    }
}
