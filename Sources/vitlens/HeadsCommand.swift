import ArgumentParser
import Foundation
import ViTLens

/// `vitlens heads`: one layer's per-head attention of a query (CLS by default), as arrays,
/// heatmaps and DINO threshold masks.
struct HeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Per-head attention maps of one layer (default: the last) for CLS or any query, with DINO masks.",
        discussion: """
        Images write cls_attention.npy float32 [heads,gh,gw] (raw CLS-to-patch probabilities; \
        query_attention.npy for other queries), masks.npy uint8 [heads,gh,gw] (per head the smallest set \
        of patches holding a fraction --threshold of that head's patch mass, as in the DINO paper), \
        head_NN.png overlays, the fused map (mean.png by default), heads.png (all in one mosaic), \
        masks.png and heads.json. Text (--text) writes token_attention.npy [heads,T] for the query token, \
        layer_attention.npy [heads,T,T], tokens.json and heads.png (one T x T matrix per head). SigLIP has no \
        CLS: its last layer is the attention pooling head, whose probe is the default query there \
        (cls_attention.npy holds the probe's attention); other layers need a --query. \(BatchHelp.text)
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Layer to show, 0-based; negative counts from the end (-1 = last).") var layer = -1
    @Option(help: "DINO mask mass fraction t in (0, 1].") var threshold = 0.6
    @Option(help: "Fusion for the combined map.") var headFusion: HeadFusion = .mean
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var batch: BatchSizeOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: true, allowMany: true)
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], got \(threshold)") }
    }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "heads", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        var job = HeadsJob()
        (job.layer, job.query, job.threshold, job.fusion, job.style) = (layer, queryOptions.spec, threshold, headFusion, render.style)
        try output.run(input, session, into: folder, job: job, batchSize: batch.batchSize)
    }
}
