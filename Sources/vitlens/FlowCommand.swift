import ArgumentParser
import Foundation
import ViTLens

/// `vitlens flow`: attention flow (Abnar & Zuidema's max-flow variant) for small token counts.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Attention flow: max-flow from the output CLS token to each input token (small models only).",
        discussion: """
        Layered graph over every layer boundary, capacities = head-mean attention with the residual \
        ((A+I) row-normalised); the flow from the readout token to each input token, normalised to sum to 1. \
        Refused above a work limit (about one ViT-B/16 CLS row, ~3 s here). Writes attention_flow.npy \
        float32 [gh,gw] ([T] for text), attention_flow.png and attention_flow.json.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws { try input.validate(allowText: true, allowMany: false) }

    func run() throws {
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "flow", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        var job = FlowJob()
        (job.query, job.style) = (queryOptions.spec, render.style)
        try output.finish(try job.run(session, try input.single(session)), into: folder)
    }
}
