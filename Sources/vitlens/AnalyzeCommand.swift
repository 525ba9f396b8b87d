import ArgumentParser
import Foundation
import ViTLens

/// `vitlens analyze`: rollout, last-layer heads with DINO masks and mean attention distance from
/// one forward pass, streaming (no layer's attention is kept beyond what each analysis needs).
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Rollout + last-layer heads (with DINO masks) + mean attention distance from ONE forward pass.",
        discussion: """
        Writes rollout.npy [gh,gw], cls_attention.npy [heads,gh,gw], masks.npy uint8 [heads,gh,gw], \
        mean_attention_distance.npy [layers,heads], rollout.png, \
        heads.png and analyze.json, with the same definitions and defaults as the rollout, heads and \
        distance commands. Memory stays near one layer of attention plus what rollout keeps.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "DINO mask mass fraction t in (0, 1].") var threshold = 0.6
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: false, allowMany: false)
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], got \(threshold)") }
    }

    func run() throws {
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "analyze", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        var job = AnalyzeJob()
        (job.threshold, job.style) = (threshold, render.style)
        try output.finish(try job.run(session, try input.single(session)), into: folder)
    }
}
