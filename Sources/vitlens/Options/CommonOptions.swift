import ArgumentParser
import Foundation
import ViTLens

/// `--model`: a Hugging Face folder, a `.safetensors` file beside its config, or a Hub id (declared once,
/// used by every command).
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Model: a Hugging Face folder (config.json + model.safetensors), a .safetensors or .pth/.bin file beside its config.json (Hugging Face or timm), a DINO .pth with --arch, or a Hub id such as facebook/dino-vits8 (read from the Hugging Face cache, downloaded if missing unless HF_HUB_OFFLINE=1).",
        valueName: "dir|file|id"))
    var model: String?

    @OptionGroup var key: StateDictKeyOption
    @OptionGroup var architecture: ArchitectureOptions
    @OptionGroup var preprocess: PreprocessOptions

    /// Loads the model once, showing each file a Hub download fetches as a byte progress bar on
    /// standard error (nothing when `quiet`).
    func session(quiet: Bool = false) throws -> AnalysisSession {
        guard let model else { throw ValidationError("--model is required") }
        let display = DownloadDisplay(style: (try? ProgressStyle.resolve(quiet: quiet)) ?? .lines)
        return try AnalysisSession(model: model, downloads: { display.show($0) }, stateDictKey: key.stateDictKey,
                                   preset: try architecture.preset(), preprocessing: try preprocess.preprocessing())
    }

    /// Loads the model `spec`, showing each file a Hub download fetches as a byte progress bar on
    /// standard error (nothing when `quiet`).
    static func load(_ spec: String, quiet: Bool = false) throws -> AnalysisSession {
        let display = DownloadDisplay(style: (try? ProgressStyle.resolve(quiet: quiet)) ?? .lines)
        return try AnalysisSession(model: spec, downloads: { display.show($0) })
    }
}

/// `--key`: which state dict of a `torch.save` file holding several.
struct StateDictKeyOption: ParsableArguments {
    @Option(name: .customLong("key"), help: ArgumentHelp(
        "For a .pth/.bin checkpoint holding several state dicts (DINO's teacher and student, a training checkpoint's model), the one to load (default: the first of state_dict, model, teacher, model_ema, module, student, net, else the only one).",
        valueName: "name"))
    var stateDictKey: String?
}

/// `--out` and `--quiet`, and the writing of a product into the output folder.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output folder: new, empty, or one ViTLens wrote (docs/RELIABILITY.md); created if missing.")
    var out: String

    @Flag(name: .shortAndLong, help: "Print nothing but errors (no progress bars).")
    var quiet = false

    func validate() throws {
        do { _ = try ProgressStyle.resolve(quiet: quiet) } catch { throw ValidationError("\(error)") }
    }

    /// How progress shows: `--quiet`, then `VITLENS_PROGRESS`, then whether stderr is a terminal.
    var progressStyle: ProgressStyle { (try? ProgressStyle.resolve(quiet: quiet)) ?? .silent }

    /// Checks `--out` before any work (a folder with foreign files, the current or home folder, ... are refused).
    func open(_ command: String, inputs: [String]) throws -> OutputDirectory {
        try OutputDirectory(out, command: command, inputs: inputs)
    }

    /// Writes every file of `product`, swaps them in, and prints the summary and where they went.
    func finish(_ product: AnalysisProduct, into output: OutputDirectory) throws {
        try output.write(product)
        try output.commit()
        for line in product.warnings { FileHandle.standardError.write(Data("warning: \(line)\n".utf8)) }
        guard !quiet else { return }
        for line in product.summary { print(line) }
        print("wrote \(output.written.count) files to \(output.url.path): \(output.written.joined(separator: ", "))")
    }
}

/// `--threads`.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and ViTLens's kernels (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp(
        "Refuse to start a forward pass whose estimated peak memory (weights + activations + what the analyses keep) is above this: bytes or 512M, 8G, 1.5GB (default: 80% of physical memory).",
        valueName: "size"), transform: ComputeOptions.parseMemory)
    var maxMemory: Int?

    static func parseMemory(_ text: String) throws -> Int {
        guard let v = MemoryBudget.parse(text) else { throw ValidationError("expected a size such as 512M, 8G or 1.5GB") }
        return v
    }

    func validate() throws {
        if let t = threads, t < 1 || t > Limits.maxThreads {
            throw ValidationError("--threads must be from 1 to \(Limits.maxThreads), got \(t)")
        }
    }

    /// Loads BLAS and applies the thread count to it and the kernels.
    /// - Throws: a one-line error when the BLAS library cannot be loaded.
    func apply() throws {
        try BLAS.load()
        let n = threads ?? ProcessInfo.processInfo.activeProcessorCount
        Compute.threads = n
        BLAS.setThreads(n)
        if let maxMemory { MemoryBudget.limit = maxMemory }
    }
}

/// `--size HxW` (and `--grid RxC`): two positive whole numbers joined by `x`.
///
/// Declare the option with `parsing: .unconditional` and `transform: SizeOption.parse(_:)` so that a
/// value such as `-5x7` reaches the parser (instead of being read as an option) and gets a message
/// that says what is wrong with it.
struct SizeOption: ExpressibleByArgument, Equatable {
    var height: Int
    var width: Int

    init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    init?(argument: String) {
        guard let s = try? Self.parse(argument) else { return nil }
        self = s
    }

    /// Parses `HxW`, bounded by ``Limits/maxInputSide``.
    static func parse(_ argument: String) throws -> SizeOption {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]) else {
            throw ValidationError("expected two whole numbers joined by x, such as 480x640")
        }
        guard h > 0, w > 0 else { throw ValidationError("height and width must be positive") }
        guard h <= Limits.maxInputSide, w <= Limits.maxInputSide else {
            throw ValidationError("each side must be at most \(Limits.maxInputSide)")
        }
        return SizeOption(height: h, width: w)
    }

    static var defaultValueDescription: String { "HxW" }
}

