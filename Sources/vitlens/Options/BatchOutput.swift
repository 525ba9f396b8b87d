import ArgumentParser
import Foundation
import ViTLens

/// The batch rule as the `--help` of heads, rollout and dump states it.
enum BatchHelp {
    static let text = """
    Many IMAGEs: each image's files go to OUT/NAME/, NAME being the file name without its extension; \
    names that clash (ignoring case) use the whole file name with '.' replaced by '_', and a name still \
    taken gets -2, -3, ... in argument order. One IMAGE writes straight into OUT. An image that fails \
    (unreadable, too small, over --max-memory, NaN) does not stop the batch: the others are written, \
    OUT/failures.csv (file,reason) lists it, stderr ends with 'N of M images failed:' and one line per \
    failure, and the exit status is 1 (nothing is written when every image fails). A progress bar with \
    ETA goes to stderr (redrawn on a terminal, one line per image otherwise; --quiet hides it; \
    VITLENS_PROGRESS=always|never|auto overrides).
    """
}

/// `--batch-size`: images per forward pass in multi-image runs (heads, rollout, dump, distance, stats).
struct BatchSizeOptions: ParsableArguments {
    static let maximum = 256

    @Option(help: ArgumentHelp(
        "Images per forward pass when there are many IMAGEs: 1 to \(BatchSizeOptions.maximum), or auto (the default: up to \(BatchSize.automaticMaximum) images while their patches stay within \(BatchSize.automaticRows), so 8 at 224x224 and 1 at 3,601 tokens; docs/PERFORMANCE.md). Consecutive images of one size (in argument order) share every matrix product; an image of another size starts a new batch. Arrays equal those of --batch-size 1 to 1e-6 relative.",
        valueName: "n|auto"))
    var batchSize: BatchSize = .automatic

    func validate() throws {
        if case .fixed(let n) = batchSize, n < 1 || n > Self.maximum {
            throw ValidationError("--batch-size must be from 1 to \(Self.maximum) or auto, got \(n)")
        }
    }
}

extension BatchSize: ExpressibleByArgument {
    public init?(argument: String) {
        if argument.lowercased() == "auto" { self = .automatic; return }
        guard let n = Int(argument) else { return nil }
        self = .fixed(n)
    }

    public var defaultValueDescription: String { description }
}

extension OutputOptions {
    /// Runs `job` on the input: one input (IMAGE, `--text`, `--attentions`) writes into `--out` as
    /// always; several IMAGEs go through an ``ImageBatch`` into one subfolder each, `batchSize`
    /// images per forward pass, with a progress bar, `failures.csv` and exit status 1 when any image
    /// failed.
    func run<Job: BatchableJob>(_ input: InputOptions, _ session: AnalysisSession, into folder: OutputDirectory,
                                job: Job, batchSize: BatchSize) throws {
        try run(input, session, into: folder, batchSize: batchSize.chunk, single: { try job.run(session, $0) },
                compute: { job.run(session, $0, batchSize: batchSize) })
    }

    /// Runs `job` on the input one image at a time (jobs that are not ``BatchableJob``s).
    func run(_ input: InputOptions, _ session: AnalysisSession, into folder: OutputDirectory,
             _ job: (AnalysisInput) throws -> AnalysisProduct) throws {
        try run(input, session, into: folder, batchSize: 1, single: job, compute: { $0.map { input in Result { try job(input) } } })
    }

    private func run(_ input: InputOptions, _ session: AnalysisSession, into folder: OutputDirectory, batchSize: Int,
                     single: (AnalysisInput) throws -> AnalysisProduct,
                     compute: ([AnalysisInput]) -> [Result<AnalysisProduct, any Error>]) throws {
        guard input.images.count > 1 else {
            try finish(try single(try input.single(session)), into: folder)
            return
        }
        let batch = ImageBatch(files: input.images)
        let bar = ProgressBar(total: batch.files.count, unit: .items("img"), style: progressStyle)
        var done: [(file: String, folder: String, summary: [String])] = []
        let failures = try batch.run(batchSize: batchSize, progress: bar, prepare: { _, file in try input.image(file, session) },
                                     compute: compute) { i, file, product in
            try folder.write(product, in: batch.folders[i])
            for line in product.warnings { FileHandle.standardError.write(Data("warning: \(file): \(line)\n".utf8)) }
            done.append((file, batch.folders[i], product.summary))
        }
        guard !done.isEmpty else {
            reportFailures(failures, of: batch.files.count, nothingWritten: true)
            throw ExitCode(1)
        }
        if !failures.isEmpty { try folder.write(ImageBatch.failuresCSV(failures), ImageBatch.failuresFileName) }
        try folder.commit()
        if !quiet {
            for (file, name, summary) in done {
                print("\(file) -> \(name)/")
                for line in summary { print("  " + line) }
            }
            let extra = failures.isEmpty ? "" : " and \(ImageBatch.failuresFileName)"
            print("wrote \(folder.written.count) files to \(folder.url.path) in \(done.count) folders\(extra): "
                + done.map { $0.folder + "/" }.joined(separator: ", "))
        }
        reportFailures(failures, of: batch.files.count, nothingWritten: false)
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// Prints `N of M images failed:` and one line per failure to standard error (even with `--quiet`).
    func reportFailures(_ failures: [ImageBatch.Failure], of count: Int, nothingWritten: Bool) {
        var lines = ImageBatch.report(failures, of: count)
        guard !lines.isEmpty else { return }
        if nothingWritten { lines.append("nothing was written to \(out)") }
        FileHandle.standardError.write(Data(lines.map { $0 + "\n" }.joined().utf8))
    }
}
