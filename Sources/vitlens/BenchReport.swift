import Foundation
import ViTLens

/// The one JSON line `bench` prints (scripts/bench.sh reads it).
struct BenchReport: Encodable {
    struct Timing: Encodable {
        var medianMs: Double, minMs: Double
        init(_ t: (median: Double, min: Double)) { (medianMs, minMs) = (rounded(t.median), rounded(t.min)) }
        enum CodingKeys: String, CodingKey { case medianMs = "median_ms", minMs = "min_ms" }
    }
    /// `--batch-size B`: one image per pass and `B` per pass, every layer's attention feeding mean
    /// attention distance; throughput in images per second.
    struct Batched: Encodable {
        var batchSize: Int
        var single: Timing, batch: Timing
        var singleImagesPerSecond: Double, batchImagesPerSecond: Double
        enum CodingKeys: String, CodingKey {
            case batchSize = "batch_size", single = "batch_1", batch = "batch_b"
            case singleImagesPerSecond = "batch_1_images_per_s", batchImagesPerSecond = "batch_b_images_per_s"
        }
    }
    var engine = "vitlens"
    /// The BLAS library and the kernels it runs (``BLAS/description``).
    var blas = BLAS.description
    /// The attention products' and softmax's kernels (``AttentionKernel``).
    var attentionKernel = AttentionKernel.current.rawValue
    /// The Linear layers' kernel (``LinearKernel``).
    var linearKernel = LinearKernel.current.rawValue
    var threads: Int
    /// The input (absent for `--gemm-peak` alone).
    var size: String?, tokens: Int?, runs: Int?
    /// `--gemm-peak` (and `--profile`): GFLOP/s of the best square fp32 product (``GEMMPeak``).
    var gemmPeakGflops: Double?
    /// The kernel that reached `gemmPeakGflops`: `blas` or `packed-avx512`.
    var gemmPeakKernel: String?
    var withAttentions: Timing?, streaming: Timing?
    var batched: Batched?
    /// `--profile`: time per kind of operation (``BenchProfiles``).
    var profile: BenchProfiles?
    var peakRSSMB: Double
    enum CodingKeys: String, CodingKey {
        case engine, blas, attentionKernel = "attention_kernel", linearKernel = "linear_kernel", threads, size, tokens, runs, gemmPeakGflops = "gemm_peak_gflops", gemmPeakKernel = "gemm_peak_kernel", withAttentions = "with_attentions", streaming,
             batched, profile, peakRSSMB = "peak_rss_mb"
    }
}

/// Two decimals, as the report prints.
func rounded(_ v: Double) -> Double { (v * 100).rounded() / 100 }

extension SeededRandom {
    /// A float in [0, 1) from the top 24 bits (the benchmark's random inputs and weights).
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

/// Peak resident set size of this process in MB (Linux `VmHWM`; 0 where unavailable).
func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Double($0) } ?? 0
        return kb / 1024
    }
    return 0
}
