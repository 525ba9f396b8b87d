import Testing
import ViTLensCore
@testable import ViTLensModels

/// How the attention pass cuts query rows into blocks for its workers.
@Suite(.serialized) struct MultiHeadAttentionTests {
    /// Every row in exactly one block, no block over `blockRows(keys:)`, as many blocks as the thread
    /// count allows (a multiple of it when there are enough rows) and blocks within one row of
    /// each other, so that no worker waits for another's larger block.
    @Test(arguments: [1, 2, 3, 12, 50, 127, 128, 129, 197, 257, 785, 1370, 3601])
    func blocksCoverRowsEvenly(_ n: Int) {
        let saved = Compute.threads
        defer { Compute.threads = saved }
        for threads in [1, 2, 3, 8] {
            Compute.threads = threads
            let (count, rows) = MultiHeadAttention.blocks(tokens: n)
            let most = MultiHeadAttention.blockRows(keys: n)
            #expect(rows >= 1 && rows <= most, "n \(n) threads \(threads)")
            #expect((count - 1) * rows < n && count * rows >= n, "blocks must cover \(n) rows exactly: \(count) x \(rows)")
            let last = n - (count - 1) * rows
            if count > 1 { #expect(rows - last < count, "n \(n) threads \(threads): last block \(last) of \(rows)") }
            let fair = (n + min(n, threads) - 1) / min(n, threads)
            #expect(rows <= fair, "n \(n) threads \(threads): blocks of \(rows) rows, over a fair share of \(fair)")
            #expect(count >= (n + most - 1) / most)
            #expect(MultiHeadAttention.workers(tokens: n) == min(threads, count))
        }
    }

    /// Blocks of one head's scores near 600 KB for long sequences, 128 rows for short ones.
    @Test func longSequencesTakeSmallerBlocks() {
        #expect(MultiHeadAttention.blockRows(keys: 197) == 128 && MultiHeadAttention.blockRows(keys: 1_200) == 128)
        #expect(MultiHeadAttention.blockRows(keys: 3_601) == 42 && MultiHeadAttention.blockRows(keys: 12_000) == 14)
        let saved = Compute.threads
        defer { Compute.threads = saved }
        Compute.threads = 2
        let (count, rows) = MultiHeadAttention.blocks(tokens: 3_601)
        #expect(count == 86 && rows == 42 && rows * 3_601 <= 150 * 1_024, "\(count) x \(rows)")
    }

    /// The case that motivated even blocks: 197 tokens on 2 threads are 99 + 98 rows, not 128 + 69.
    @Test func vitBaseTokensSplitInHalves() {
        let saved = Compute.threads
        defer { Compute.threads = saved }
        Compute.threads = 2
        let (count, rows) = MultiHeadAttention.blocks(tokens: 197)
        #expect(count == 2 && rows == 99)
    }
}
