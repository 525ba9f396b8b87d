import ArgumentParser
import Foundation
import ViTLens

/// `vitlens distance`: mean attention distance per layer and head (ViT paper, Fig. 7), over many images.
struct DistanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distance",
        abstract: "Mean attention distance per layer and head, averaged over images (ViT paper Fig. 7), plus attention entropy.",
        discussion: """
        Per layer l, head h: W = A[h, patches, patches] (prefix tokens dropped, rows not renormalised unless \
        --renormalize), D_ij = patch size x Euclidean distance between patch centres, MAD = mean over query \
        patches of sum_j W_ij D_ij, in input pixels; averaged over the images. Also the mean row entropy \
        (nats). Writes mean_attention_distance.npy float32 [layers,heads], attention_entropy.npy \
        [layers,heads], per_image_mean_attention_distance.npy [images,layers,heads], \
        mean_attention_distance.csv, mean_attention_distance.svg and .png, distance.json (input_count, and \
        each failure with its reason). An image that fails (unreadable, too small, over --max-memory, NaN) \
        is skipped: the means are over the images that succeeded, OUT/failures.csv (file,reason) lists it, \
        stderr ends with 'N of M images failed:' and one line per failure, and the exit status is 1 \
        (nothing is written when every image fails). A progress bar with ETA goes to stderr (redrawn on a \
        terminal, one line per image otherwise; --quiet hides it; VITLENS_PROGRESS=always|never|auto overrides).
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Divide each patch row by its sum after dropping prefix tokens (the published definition does not).")
    var renormalize = false
    @OptionGroup var batch: BatchSizeOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws { try input.validate(allowText: false, allowMany: true) }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "distance", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        var job = DistanceJob()
        job.renormalize = renormalize
        job.batchSize = batch.batchSize
        let names = input.attentions.map { [$0] } ?? input.images
        guard names.count > 1 else {
            try output.finish(try job.run(session, inputs: names, prepare: { _ in try input.single(session) }, progress: { event in
                if case .failed(_, let error) = event { FileHandle.standardError.write(Data("vitlens: \(error)\n".utf8)) }
            }).product, into: folder)
            return
        }
        let bar = ProgressBar(total: names.count, unit: .items("img"), style: output.progressStyle)
        var failures: [ImageBatch.Failure] = []
        let product: AnalysisProduct
        do {
            defer { bar.finish() }
            product = try job.run(session, inputs: names, prepare: { name in
                bar.begin(name)
                return try input.image(name, session)
            }, progress: { event in
                switch event {
                case .done(_, _, let name): bar.advance(name)
                case .failed(let name, let error):
                    bar.advance(name, failed: true)
                    failures.append(ImageBatch.Failure(file: name, error: error))
                }
            }).product
        } catch where failures.count == names.count {
            output.reportFailures(failures, of: names.count, nothingWritten: true)
            throw ExitCode(1)
        }
        if !failures.isEmpty { try folder.write(ImageBatch.failuresCSV(failures), ImageBatch.failuresFileName) }
        try output.finish(product, into: folder)
        output.reportFailures(failures, of: names.count, nothingWritten: false)
        if !failures.isEmpty { throw ExitCode(1) }
    }
}
