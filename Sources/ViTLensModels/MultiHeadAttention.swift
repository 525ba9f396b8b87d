import CViTLensKernels
import Dispatch
import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// The kernels that run the attention products and the softmax in this process.
public enum AttentionKernel: String, Sendable {
    /// ViTLens's own (Sources/CViTLensKernels): `QKᵀ` and `PV` on keys and values packed once per
    /// head and layer, an AVX-512 softmax that also finds non-finite scores in its maximum pass.
    case packedAVX512 = "packed-avx512"
    /// BLAS sgemm for `QKᵀ` and `PV`, the Swift softmax (``Kernels/softmaxRow(_:count:)``) and a
    /// separate pass over the scores for non-finite values.
    case blas

    /// `packedAVX512` on CPUs with AVX-512 F unless the environment sets
    /// `VITLENS_ATTENTION_KERNEL=blas`; else `blas`.
    public static var current: AttentionKernel { MultiHeadAttention.packedKernel ? .packedAVX512 : .blas }
}

/// Scaled dot-product attention with explicit probabilities (never a fused kernel), per head:
/// `P = softmax(Q_h K_hᵀ / sqrt(d_h) + B_h + mask)` (`B` an optional ``AttentionBias``), `context_h = P V_h`.
///
/// Computed in blocks of query rows, every head of a block together, blocks spread over
/// ``Compute/threads`` with single-threaded BLAS calls: a head's block of scores (at most 128 rows,
/// fewer for long sequences, see ``blockRows(keys:)``) stays in
/// cache from the `QKᵀ` product through the softmax, the observers' row statistics and the `PV`
/// product, instead
/// of streaming `heads * N^2` floats through memory three times (the difference at N = 3,601).
/// Each probability is computed exactly as in a whole-matrix pass (same dot products, same softmax).
/// With the packed kernel (``AttentionKernel/packedAVX512``) the softmax runs in AVX-512 too and,
/// without a bias or mask, scans the scores for NaN and infinities in its maximum pass.
enum MultiHeadAttention {
    /// Whether the products `QKᵀ` and `PV` run on ViTLens's packed kernel (keys and values packed
    /// once per head and layer, then an AVX-512 micro-kernel; 1.4-1.7x BLAS single-threaded on these
    /// thin products) rather than BLAS: on CPUs with AVX-512 F unless `VITLENS_ATTENTION_KERNEL=blas`.
    /// `QKᵀ` is one fused multiply-add chain over the head width then the scale, as OpenBLAS computes
    /// it; `PV` sums the keys in order.
    static let packedKernel: Bool = {
        if ProcessInfo.processInfo.environment["VITLENS_ATTENTION_KERNEL"]?.lowercased() == "blas" { return false }
        return vitlens_packed_available() == 1
    }()

    /// Most query rows per block at any length.
    static let blockRows = 128

    /// Most query rows per block for `n` keys: 128, fewer from about 1,200 keys on so that a block
    /// of one head's scores stays near 600 KB (150 x 1,024 floats; 42 rows at 3,601 tokens) and
    /// shares the 2 MB L2 with the packed keys or values and the observers' row buffers, never
    /// under 14 (one micro-kernel tile). Measured at 3,601 tokens against 128 rows (3 alternating
    /// profiles): forward with rollout, heads and distance 2,497-2,622 vs 2,945-3,073 ms, row
    /// statistics 653-695 vs 862-899 thread-ms, `QKᵀ` 970-1,023 vs 1,232-1,274. Outputs do not
    /// depend on the block size (each score is one chain over the head width, each context entry
    /// sums the keys in order): `analyze` wrote the same bytes with 42, 56 and 128 rows.
    static func blockRows(keys n: Int) -> Int { max(14, min(blockRows, 150 * 1_024 / max(1, n))) }

    /// How the `n` query rows are cut: `count` blocks of `rows` rows (the last may be shorter).
    /// At least `ceil(n / blockRows(keys: n))` blocks, rounded up to a multiple of
    /// ``Compute/threads`` so that every worker gets as many rows (at 197 tokens on 2 threads: 99 +
    /// 98 rows, not 128 + 69, which left one thread idle for a third of the pass). Depends on `n`
    /// and the thread count only.
    static func blocks(tokens n: Int) -> (count: Int, rows: Int) {
        guard n > 0 else { return (0, 0) }
        let threads = max(1, Compute.threads)
        let most = blockRows(keys: n)
        let least = (n + most - 1) / most
        let count = min(n, (least + threads - 1) / threads * threads)
        let rows = (n + count - 1) / count
        return ((n + rows - 1) / rows, rows)
    }

    /// Threads the attention of `n` tokens runs on: ``Compute/threads``, at most one per block.
    static func workers(tokens n: Int) -> Int { max(1, min(Compute.threads, blocks(tokens: n).count)) }

    /// Runs one layer's attention for image `image` of a batch (its rows of `work.qkv` and
    /// `work.context`; `work.probs` holds that image's probabilities afterwards when
    /// `work.keepsProbabilities`, else each block's scores live in its worker's slot of `work.probs`
    /// only while the block is computed).
    /// - Returns: `nil`, or the first (block-order) head and query row whose scores hold a NaN or
    ///   an infinity; the scores are scanned per block before the softmax, which would hide them.
    static func run(work: Workspace, image: Int = 0, tokens n: Int, heads h: Int, headDim dh: Int, hidden d: Int, bias: AttentionBias?,
                    mask: UnsafePointer<Float>?, layer: Int, statistics: [any AttentionRowStatistic]) -> (head: Int, row: Int)? {
        let pass = OpProfile.start()
        defer { OpProfile.stop(.attention, pass) }
        let scale = 1 / Float(dh).squareRoot()
        nonisolated(unsafe) let w = work
        nonisolated(unsafe) let q = work.q + image * n * 3 * d, k = work.k + image * n * 3 * d, v = work.v + image * n * 3 * d
        nonisolated(unsafe) let context = work.context + image * n * d
        nonisolated(unsafe) let mask = mask
        let layout = Self.blocks(tokens: n)
        let blocks = layout.count, blockRows = layout.rows
        // Per block: the first non-finite score as head * n + row, or -1. Each block writes its slot only.
        let firstBad = UnsafeMutablePointer<Int>.allocate(capacity: blocks)
        firstBad.initialize(repeating: -1, count: blocks)
        defer { firstBad.deallocate() }
        nonisolated(unsafe) let bad = firstBad
        let savedThreads = BLAS.threads
        let workers = min(w.keepsProbabilities ? workers(tokens: n) : w.attentionWorkers, blocks)
        let parallel = workers > 1
        if parallel { BLAS.setThreads(1) }
        defer { if parallel { BLAS.setThreads(savedThreads) } }
        let keep = w.keepsProbabilities
        let slot = min(n, blockRows) * n
        let keysPerHead = w.packedKeys.map { _ in vitlens_packed_rows_count(Int32(n), Int32(dh)) } ?? 0
        let valuesPerHead = w.packedValues.map { _ in vitlens_packed_columns_count(Int32(n), Int32(dh)) } ?? 0
        nonisolated(unsafe) let packedKeys = w.packedKeys, packedValues = w.packedValues
        if let packedKeys, let packedValues {
            // Each head's keys and values packed once for all blocks of query rows.
            Compute.forEachItem(h, workers: workers) { _, head in
                vitlens_pack_rows(k + head * dh, Int32(3 * d), Int32(n), Int32(dh), packedKeys + head * keysPerHead)
                vitlens_pack_columns(v + head * dh, Int32(3 * d), Int32(n), Int32(dh), packedValues + head * valuesPerHead)
            }
        }
        Compute.forEachItem(blocks, workers: workers) { worker, b in
            let r0 = b * blockRows
            let rows = min(blockRows, n - r0)
            for head in 0 ..< h {
                let scores = keep ? w.probs + (head * n + r0) * n : w.probs + worker * slot
                var t = OpProfile.start()
                if let packedKeys {
                    vitlens_packed_gemm(Int32(rows), Int32(n), Int32(dh), scale, q + r0 * 3 * d + head * dh, Int32(3 * d),
                                        packedKeys + head * keysPerHead, scores, Int32(n))
                } else {
                    BLAS.sgemm(transB: true, m: rows, n: n, k: dh, alpha: scale,
                               a: q + r0 * 3 * d + head * dh, lda: 3 * d, b: k + head * dh, ldb: 3 * d, c: scores, ldc: n)
                }
                OpProfile.stopGEMM(.attentionScores, t, m: rows, n: n, k: dh)
                // Before the mask, which may hold -inf for dropped keys. Without bias and mask the
                // packed path scans the scores inside the softmax's maximum pass instead.
                let fusedCheck = packedKeys != nil && bias == nil && mask == nil
                if !fusedCheck {
                    t = OpProfile.start()
                    if bad[b] < 0, let i = Finite.firstNonFinite(scores, count: rows * n) { bad[b] = head * n + r0 + i / n }
                    OpProfile.stop(.attentionFiniteChecks, t)
                }
                t = bias != nil || mask != nil ? OpProfile.start() : 0
                bias?.add(to: scores, head: head, firstRow: r0, rows: rows)
                if let mask {
                    for r in 0 ..< rows {
                        let row = scores + r * n
                        for c in 0 ..< n { row[c] += mask[c] }
                    }
                }
                OpProfile.stop(.attentionBias, t)
                if let logits = w.logits {
                    t = OpProfile.start()
                    (logits + (head * n + r0) * n).update(from: scores, count: rows * n)
                    OpProfile.stop(.attentionCopies, t)
                }
                t = OpProfile.start()
                if packedKeys != nil {
                    let i = Int(vitlens_softmax_rows(scores, Int32(rows), Int32(n), Int32(n), fusedCheck && bad[b] < 0 ? 1 : 0))
                    if i >= 0 { bad[b] = head * n + r0 + i }
                } else {
                    for r in 0 ..< rows { Kernels.softmaxRow(scores + r * n, count: n) }
                }
                OpProfile.stop(.softmax, t)
                t = statistics.isEmpty ? 0 : OpProfile.start()
                for s in statistics {
                    s.accumulate(layer: layer, head: head, heads: h, rows: r0 ..< (r0 + rows), probabilities: scores, tokens: n)
                }
                OpProfile.stop(.rowStatistics, t)
                t = OpProfile.start()
                if let packedValues {
                    vitlens_packed_gemm(Int32(rows), Int32(dh), Int32(n), 1, scores, Int32(n), packedValues + head * valuesPerHead,
                                        context + r0 * d + head * dh, Int32(d))
                } else {
                    BLAS.sgemm(m: rows, n: dh, k: n, a: scores, lda: n, b: v + head * dh, ldb: 3 * d,
                               c: context + r0 * d + head * dh, ldc: d)
                }
                OpProfile.stopGEMM(.attentionValues, t, m: rows, n: dh, k: n)
            }
        }
        for b in 0 ..< blocks where bad[b] >= 0 { return (bad[b] / n, bad[b] % n) }
        return nil
    }
}

import Dispatch
