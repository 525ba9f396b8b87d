import Foundation
import ViTLens

/// `bench --profile`: where a forward pass's time goes, per ``OpProfile/Kind``, for one mode
/// (the streaming forward, every attention kept, or the analyze trio), averaged over the timed runs.
struct BenchProfile: Encodable {
    /// One kind's share of the forward.
    struct Row: Encodable {
        var kind: String
        /// Milliseconds per forward; thread-milliseconds for a threaded kind (`threaded`).
        var ms: Double
        /// `ms` over the forward's wall time (threaded kinds: over wall time x threads).
        var share: Double
        var threaded: Bool
        var calls: Int
        /// Matrix products only: flops per forward, the rate, and the rate over the GEMM peak.
        var flops: Int?
        var gflops: Double?
        var peakShare: Double?
        enum CodingKeys: String, CodingKey {
            case kind, ms, share, threaded, calls, flops, gflops, peakShare = "peak_share"
        }
    }

    /// Mean wall time of one forward (ms).
    var forwardMs: Double
    /// The forward's wall time not covered by any wall-clock kind (ms and share).
    var otherMs: Double, otherShare: Double
    /// Minor + major page faults per forward (getrusage).
    var pageFaults: Double
    /// Wall-clock kinds first (they partition the forward with "other"), then the threaded ones.
    var kinds: [Row]

    enum CodingKeys: String, CodingKey {
        case forwardMs = "forward_ms", otherMs = "other_ms", otherShare = "other_share", pageFaults = "page_faults", kinds
    }

    /// Summarises `totals` recorded over `runs` forwards taking `wallNanoseconds` together, with
    /// `threads` attention workers and a GEMM peak of `peak` GFLOP/s. A threaded product's rate is
    /// its flops over its thread-seconds divided by `threads` (all workers busy).
    init(totals: OpProfile.Totals, runs: Int, wallNanoseconds: UInt64, pageFaults: Int, threads: Int, peak: Double) {
        let perRun = Double(max(1, runs))
        let forward = Double(wallNanoseconds) / perRun / 1e6
        forwardMs = rounded(forward)
        self.pageFaults = rounded(Double(pageFaults) / perRun)
        var covered = 0.0
        kinds = OpProfile.Kind.allCases.compactMap { kind -> Row? in
            let e = totals[kind]
            guard e.calls > 0 else { return nil }
            let ms = Double(e.nanoseconds) / perRun / 1e6
            let width = kind.isThreaded ? Double(threads) : 1
            if !kind.isThreaded { covered += ms }
            var row = Row(kind: kind.name, ms: rounded(ms), share: forward > 0 ? (ms / width / forward * 1000).rounded() / 1000 : 0,
                          threaded: kind.isThreaded, calls: e.calls / max(1, runs))
            if kind.isGEMM {
                row.flops = e.flops / max(1, runs)
                let rate = ms > 0 ? Double(e.flops) / perRun / (ms / width / 1e3) / 1e9 : 0
                row.gflops = rounded(rate)
                row.peakShare = peak > 0 ? (rate / peak * 1000).rounded() / 1000 : nil
            }
            return row
        }
        otherMs = rounded(forward - covered)
        otherShare = forward > 0 ? ((forward - covered) / forward * 1000).rounded() / 1000 : 0
    }

    /// Runs `body` `warmup` times, then `runs` times with the recorder enabled, and summarises.
    static func measure(runs: Int, warmup: Int, threads: Int, peak: Double, _ body: () throws -> Void) throws -> BenchProfile {
        for _ in 0 ..< warmup { try body() }
        OpProfile.reset()
        let faults = pageFaultCount()
        var wall: UInt64 = 0
        OpProfile.isEnabled = true
        defer { OpProfile.isEnabled = false }
        for _ in 0 ..< runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            wall += DispatchTime.now().uptimeNanoseconds - start
        }
        OpProfile.isEnabled = false
        return BenchProfile(totals: OpProfile.totals(), runs: runs, wallNanoseconds: wall, pageFaults: pageFaultCount() - faults,
                            threads: threads, peak: peak)
    }

    /// Minor + major page faults of this process so far.
    static func pageFaultCount() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        return usage.ru_minflt + usage.ru_majflt
    }
}

/// `bench --profile`'s object in the report: both modes and the peak they are compared with.
struct BenchProfiles: Encodable {
    var gemmPeakGflops: Double
    /// The streaming forward (no observer); absent with `--batch-size`.
    var streaming: BenchProfile?
    /// Every layer's probabilities kept by an ``AttentionRecorder`` (the batch-1 target's workload, like
    /// Hugging Face's `output_attentions=True`); absent with `--batch-size` and when the maps would take over 1 GiB.
    var withAttentions: BenchProfile?
    /// Rollout + last-layer head maps + mean attention distance from one forward (as `analyze`);
    /// absent with `--batch-size`.
    var analyze: BenchProfile?
    /// With `--batch-size B`: one batched forward of `B` images, every layer's attention feeding mean
    /// attention distance per image (the batch-8 target's workload); ms are per forward of `B` images.
    var batched: BenchProfile?
    var note = "ms per forward (mean of the timed runs); threaded kinds (attention_*, softmax, row_statistics) are "
        + "thread-ms on the attention workers inside attention_pass, their share over wall x threads and their GFLOP/s "
        + "over thread-seconds / threads; other = forward - every wall-clock kind"
    enum CodingKeys: String, CodingKey {
        case gemmPeakGflops = "gemm_peak_gflops", streaming, withAttentions = "with_attentions", analyze, batched, note
    }
}
