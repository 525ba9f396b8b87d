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
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws { try input.validate(allowText: true, allowMany: false) }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        let loader = try InputLoader(input)
        let source = try loader.single()
        let layout = source.layout
        var flow = AttentionFlow(readout: .query(try queryOptions.tokenQuery(layout: layout, input: source.name)))
        try source.feed(&flow)
        guard let result = flow.result else { throw CommandError("attention flow produced no result") }
        try output.npy(result.map, "attention_flow.npy")
        try output.png(try render.picture(result.map, canvas: source.canvas, title: "flow", tokens: source.tokens), "attention_flow.png")
        var meta = loader.provenance()
        meta["input"] = source.name
        meta["layout"] = layoutJSON(layout)
        meta["readout"] = result.readout.description
        meta["layers"] = result.layers
        meta["files"] = ["attention_flow.npy": result.map.shape]
        try output.json(meta, "attention_flow.json")
        try output.commit()
        if !quiet { print("wrote \(output.url.path)/attention_flow.npy, attention_flow.png") }
    }
}
