import ArgumentParser
import Foundation
import ViTLens

/// `vitlens stats`: attention and token-norm statistics with confidence intervals over many images,
/// streaming, shardable and resumable.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Attention and token-norm statistics with 95% confidence intervals over a folder of images (streaming, shardable, resumable).",
        discussion: """
        INPUTS: image files, folders (searched recursively for .jpg/.jpeg/.png, hidden files skipped) or \
        @list.txt (one path per line, relative to the list's folder, # comments). The list is sorted by path \
        bytes and de-duplicated; --shard I/N takes the inputs whose index mod N is I. Per layer and head, \
        over the images: mean attention distance (published and renormalised), attention entropy, CLS mass \
        on patches and on prefix tokens, mass each prefix token receives, sink share (the largest mean \
        attention one key receives from the patch rows); per layer the patch token norms, their histogram \
        (fixed log bins) and high-norm outliers (norm > --outlier-threshold x the image's median patch norm, \
        Darcet et al. 2024). Each with mean, standard deviation and a Student-t 95% CI over images (stats.csv). \
        Writes mean_attention_distance.npy float32 [layers,heads] (the distance command's contract), one \
        NAME.npy per statistic, outlier_positions.npy, stats.csv, token_norm_histogram.csv, stats.json, \
        SVG+PNG plots and stats_state.json (the mergeable state: vitlens merge). Memory does not grow with \
        the number of images. A bad image is listed in failures.csv and the run goes on (--fail-fast stops); \
        the exit status is 1 if any image failed (0 with --allow-failures), 1 if none succeeded. The state \
        is checkpointed into --out every 25 images: run the same command again to resume an interrupted run \
        (--force starts over). docs/STATS.md has the definitions.
        """)

    @Argument(help: ArgumentHelp("Image files, folders or @list.txt.", valueName: "inputs"))
    var inputs: [String] = []
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("Process only shard I of N (0 <= I < N): inputs whose index in the sorted list mod N is I; merge the N folders with vitlens merge.", valueName: "I/N"))
    var shard: String?
    @OptionGroup var batch: BatchSizeOptions
    @Flag(help: "Stop at the first image that fails (exit status 1).")
    var failFast = false
    @Flag(help: "Exit with status 0 even if some images failed (they are still listed in failures.csv).")
    var allowFailures = false
    @Option(help: "A patch token is a high-norm outlier when its L2 norm exceeds this multiple of the median patch norm of its image and layer (must be above 1).")
    var outlierThreshold: Double = TokenNormOutliers.defaultThreshold
    @Option(parsing: .unconditional, help: ArgumentHelp("Input size: resize straight to H x W (no crop). Default: the processor config decides.", valueName: "HxW"),
            transform: SizeOption.parse)
    var size: SizeOption?
    @Flag(help: "Ignore a checkpoint of another run in --out and start over.")
    var force = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give INPUTS: image files, folders or @list.txt") }
        if modelOptions.model == nil { throw ValidationError("--model is required") }
        if let shard { do { _ = try Shard(parsing: shard) } catch { throw ValidationError("\(error)") } }
        if !(outlierThreshold.isFinite && outlierThreshold > 1) { throw ValidationError(StatisticsError.badThreshold(outlierThreshold).description) }
    }

    func run() throws {
        try compute.apply()
        // Files inside --out (its plots, after a first run into a folder among the inputs) are not inputs.
        let outPath = URL(fileURLWithPath: output.out).standardizedFileURL.path + "/"
        let expanded = try InputList(expanding: inputs)
        let list = InputList(paths: expanded.paths.filter { !URL(fileURLWithPath: $0).standardizedFileURL.path.hasPrefix(outPath) })
        guard list.count > 0 else { throw CommandError(InputListError.noImages(arguments: inputs).description) }
        var readPaths = inputs.map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }
        if let model = modelOptions.model, FileManager.default.fileExists(atPath: model) { readPaths.append(model) }
        let folder = try output.open("stats", inputs: readPaths)
        let session = try modelOptions.session(quiet: output.quiet)
        var job = StatsJob()
        job.outlierThreshold = outlierThreshold
        job.size = size.map { ($0.height, $0.width) }
        job.shard = try shard.map(Shard.init(parsing:)) ?? .whole
        job.failFast = failFast
        job.batchSize = batch.batchSize
        let checkpointName = (output.out as NSString).appendingPathComponent(StatsState.fileName)
        let previous = force ? nil : try StatsCheckpoint.load(from: output.out)
        var state = try job.start(session, list: list, resume: previous, checkpointName: checkpointName)
        let shardItems = list.shard(job.shard)
        let bar = ProgressBar(total: shardItems.count, unit: .items("img"), style: output.progressStyle)
        bar.update(done: state.done.count)
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            defer { bar.finish() }
            try job.run(session, list: list, state: &state, checkpoint: { s in
                try StatsCheckpoint.save(s, to: output.out, inputs: readPaths, arguments: arguments)
            }, progress: { event in
                switch event {
                case .started(let item): bar.begin(item.path)
                case .done(let item): bar.advance(item.path)
                case .failed(let item, _): bar.advance(item.path, failed: true)
                }
            })
        }
        let failures = state.failures.map { ImageBatch.Failure(file: $0.file, reason: $0.reason) }
        guard state.images > 0 else {
            output.reportFailures(failures, of: state.done.count, nothingWritten: false)
            throw CommandError(StatsError.noImages(failed: state.failures.count).description)
        }
        try output.finish(try StatsReport.product(state), into: folder)
        output.reportFailures(failures, of: state.done.count, nothingWritten: false)
        if !failures.isEmpty && !allowFailures { throw ExitCode(1) }
    }
}
