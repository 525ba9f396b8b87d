import ArgumentParser
import Foundation
import ViTLens

/// `--model`: a Hugging Face folder, a `.safetensors` file beside its config, or a Hub id.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Model: a Hugging Face folder (config.json + model.safetensors), a .safetensors file beside its config.json, or a Hub id such as facebook/dino-vits8 (read from the Hugging Face cache, downloaded if missing unless HF_HUB_OFFLINE=1).",
        valueName: "dir|file|id"))
    var model: String

    /// Resolves and loads the model.
    func load() throws -> (ModelFiles, LoadedModel) {
        let files = try resolveModel(model)
        return (files, try ModelLoader.load(files))
    }
}

/// `--threads`.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and ViTLens's kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Applies the thread count to BLAS and the kernels.
    func apply() {
        let n = threads ?? ProcessInfo.processInfo.activeProcessorCount
        Compute.threads = n
        BLAS.setThreads(n)
    }
}

/// `--size HxW`: resize straight to H x W (no crop), interpolating position embeddings.
struct SizeOption: ExpressibleByArgument, Equatable {
    var height: Int
    var width: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), h > 0, w > 0 else { return nil }
        height = h
        width = w
    }

    static var defaultValueDescription: String { "HxW" }
}

/// Resolves a model spec, printing one line per file a Hub download fetches to standard error.
func resolveModel(_ spec: String) throws -> ModelFiles {
    try ModelLocator.resolve(spec, environment: ProcessInfo.processInfo.environment, progress: { line in
        FileHandle.standardError.write(Data("downloading \(line)\n".utf8))
    })
}
