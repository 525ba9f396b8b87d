import ArgumentParser
import Foundation
import ViTLens

/// `vitlens bench`: forward-pass latency of a vision model on random pixels.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the forward pass (median of N runs) with and without keeping every layer's attention.",
        discussion: """
        Prints one JSON line. "with_attentions" keeps every layer's probabilities (like Hugging Face's \
        output_attentions=True); "streaming" hands each layer to an observer that keeps nothing (the \
        probabilities are still computed explicitly). With --batch-size B it times instead, with every \
        layer's attention feeding mean attention distance, one image per forward ("batch_1") and B \
        images per batched forward ("batch_b"), each median of N runs, with images per second. \
        scripts/bench.sh runs this beside PyTorch.

        With --profile it times instead the streaming forward, the forward keeping every attention (when \
        that is at most 1 GiB), and the analyze trio (rollout + last-layer head maps + mean attention \
        distance from one forward), or with --batch-size B one batched forward of B images feeding mean \
        attention distance ("batched"), recording only during the timed runs where the time goes per kind of \
        operation (the four Linear GEMMs, attention QK^T and PV, softmax, row statistics, LayerNorm, \
        activation, bias and residual adds, copies, finite checks, observers; "other" is the rest of the \
        wall time) and the page faults per forward: "profile" gives per kind the ms per forward and its \
        share, and for products GFLOP/s and the share of the GEMM peak. Kinds run by the attention workers \
        are thread-ms (their share is over wall time x threads). --gemm-peak (implied by --profile) measures \
        the fp32 GEMM peak on square products of 2,048 and 3,072 at the same threads, the faster of the \
        loaded BLAS and ViTLens's packed Linear kernel ("gemm_peak_gflops", and which one in \
        "gemm_peak_kernel"); without --model it measures only that. scripts/profile.sh prints the profile as \
        tables.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var compute: ComputeOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Input size (default: the model's image_size).", valueName: "HxW"),
            transform: SizeOption.parse) var size: SizeOption?
    @Option(help: "Timed runs per mode.") var runs = 20
    @Option(help: "Untimed warm-up runs per mode.") var warmup = 3
    @Option(help: ArgumentHelp("Time batches of this many images (see the discussion).", valueName: "n")) var batchSize: Int?
    @Flag(help: "Profile the forward per kind of operation (see the discussion).") var profile = false
    @Flag(help: "Measure the machine's fp32 GEMM peak: the faster of BLAS and the packed Linear kernel (GFLOP/s).") var gemmPeak = false

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must be 0 or more") }
        if let b = batchSize, b < 1 || b > BatchSizeOptions.maximum {
            throw ValidationError("--batch-size must be from 1 to \(BatchSizeOptions.maximum), got \(b)")
        }
        if profile && modelOptions.model == nil { throw ValidationError("--profile needs --model") }
    }

    func run() throws {
        try compute.apply()
        if gemmPeak && modelOptions.model == nil {
            try print(report: BenchReport(threads: Compute.threads, gemmPeakGflops: rounded(GEMMPeak.gigaflops), peakRSSMB: rounded(peakRSSMegabytes())))
            return
        }
        guard let model = try modelOptions.session().vision?.model else { throw CommandError("bench needs an image model") }
        let h = size?.height ?? model.imageSize
        let w = size?.width ?? model.imageSize
        var rng = SeededRandom(seed: 0)
        func randomImage() -> Tensor {
            Tensor(shape: [model.channels, h, w], values: (0 ..< model.channels * h * w).map { _ in rng.nextFloat() * 2 - 1 })
        }
        let pixels = randomImage()
        func time(_ body: () throws -> Void) rethrows -> (median: Double, min: Double) {
            var t: [Double] = []
            for i in 0 ..< (warmup + runs) {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if i >= warmup { t.append(ms) }
            }
            t.sort()
            return (t[t.count / 2], t[0])
        }
        let tokens = model.layout(height: h, width: w).tokenCount
        let peak = profile || gemmPeak ? rounded(GEMMPeak.gigaflops) : nil
        if profile, let peak, let b = batchSize {
            let images = [pixels] + (1 ..< b).map { _ in randomImage() }
            let batched = try BenchProfile.measure(runs: runs, warmup: warmup, threads: Compute.threads, peak: peak) {
                var observers = images.map { _ in MeanAttentionDistance() }
                _ = try model.forward(batch: images, observers: &observers)
            }
            try print(report: BenchReport(threads: Compute.threads, size: "\(h)x\(w)", tokens: tokens, runs: runs, gemmPeakGflops: peak,
                                          profile: BenchProfiles(gemmPeakGflops: peak, batched: batched),
                                          peakRSSMB: rounded(peakRSSMegabytes())))
            return
        }
        if profile, let peak {
            let streaming = try BenchProfile.measure(runs: runs, warmup: warmup, threads: Compute.threads, peak: peak) {
                _ = try model.forward(pixels)
            }
            // Every map kept is layers x heads x N x N floats: skipped above 1 GiB (3.7 GB for DINO S/8 at 480).
            let keptBytes = Double(model.observedLayers * model.spec.heads) * Double(tokens) * Double(tokens) * 4
            let withAttentions = keptBytes > Double(1 << 30) ? nil
                : try BenchProfile.measure(runs: runs, warmup: warmup, threads: Compute.threads, peak: peak) {
                    var rec = AttentionRecorder()
                    _ = try model.forward(pixels, observer: &rec)
                }
            let analyze = try BenchProfile.measure(runs: runs, warmup: warmup, threads: Compute.threads, peak: peak) {
                var trio = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1, query: .cls)), MeanAttentionDistance())
                _ = try model.forward(pixels, observer: &trio)
            }
            try print(report: BenchReport(threads: Compute.threads, size: "\(h)x\(w)", tokens: tokens, runs: runs, gemmPeakGflops: peak,
                                          profile: BenchProfiles(gemmPeakGflops: peak, streaming: streaming, withAttentions: withAttentions,
                                                                 analyze: analyze),
                                          peakRSSMB: rounded(peakRSSMegabytes())))
            return
        }
        if let b = batchSize {
            let images = [pixels] + (1 ..< b).map { _ in randomImage() }
            let single = try time {
                var mad = MeanAttentionDistance()
                _ = try model.forward(pixels, observer: &mad)
            }
            let batch = try time {
                var observers = images.map { _ in MeanAttentionDistance() }
                _ = try model.forward(batch: images, observers: &observers)
            }
            let batched = BenchReport.Batched(batchSize: b, single: .init(single), batch: .init(batch),
                                              singleImagesPerSecond: rounded(1000 / single.median),
                                              batchImagesPerSecond: rounded(1000 * Double(b) / batch.median))
            try print(report: BenchReport(threads: Compute.threads, size: "\(h)x\(w)", tokens: tokens, runs: runs, gemmPeakGflops: peak, batched: batched,
                                          peakRSSMB: rounded(peakRSSMegabytes())))
            return
        }
        let withAttn = try time {
            var rec = AttentionRecorder()
            _ = try model.forward(pixels, observer: &rec)
        }
        let streaming = try time { _ = try model.forward(pixels) }
        try print(report: BenchReport(threads: Compute.threads, size: "\(h)x\(w)", tokens: tokens, runs: runs, gemmPeakGflops: peak,
                                      withAttentions: .init(withAttn), streaming: .init(streaming), peakRSSMB: rounded(peakRSSMegabytes())))
    }

    private func print(report: BenchReport) throws {
        var report = report
        if report.gemmPeakGflops != nil { report.gemmPeakKernel = GEMMPeak.source }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
