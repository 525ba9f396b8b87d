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
        probabilities are still computed explicitly). scripts/bench.sh runs this beside PyTorch.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var compute: ComputeOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Input size (default: the model's image_size).", valueName: "HxW"),
            transform: SizeOption.parse) var size: SizeOption?
    @Option(help: "Timed runs per mode.") var runs = 20
    @Option(help: "Untimed warm-up runs per mode.") var warmup = 3

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must be 0 or more") }
    }

    func run() throws {
        compute.apply()
        let (_, loaded) = try modelOptions.load()
        guard case .vision(let model) = loaded else { throw CommandError("bench needs an image model") }
        let h = size?.height ?? model.imageSize
        let w = size?.width ?? model.imageSize
        var rng = SplitMix64(seed: 0)
        let pixels = Tensor(shape: [model.channels, h, w], values: (0 ..< model.channels * h * w).map { _ in rng.nextFloat() * 2 - 1 })
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
        let withAttn = try time {
            var rec = AttentionRecorder()
            _ = try model.forward(pixels, observer: &rec)
        }
        let streaming = try time { _ = try model.forward(pixels) }
        let layout = model.layout(height: h, width: w)
        let json = """
        {"engine": "vitlens", "threads": \(Compute.threads), "size": "\(h)x\(w)", "tokens": \(layout.tokenCount), "runs": \(runs), \
        "with_attentions": {"median_ms": \(fmt(withAttn.median)), "min_ms": \(fmt(withAttn.min))}, \
        "streaming": {"median_ms": \(fmt(streaming.median)), "min_ms": \(fmt(streaming.min))}, "peak_rss_mb": \(fmt(peakRSSMegabytes()))}
        """
        print(json)
    }

    private func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// A small deterministic generator for benchmark inputs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
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
