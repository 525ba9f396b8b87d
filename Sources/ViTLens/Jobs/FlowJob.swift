import Foundation

/// Attention flow (max-flow) for small token counts; what `vitlens flow` writes.
public struct FlowJob: Sendable {
    public var query = QuerySpec.automatic
    public var style = RenderStyle()

    public init() {}

    /// Runs the forward pass and builds `attention_flow.npy`, `.png` and `.json`.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        var flow = AttentionFlow(readout: .query(try query.resolve(in: input.layout, input: input.name)))
        try session.run(input, observer: &flow)
        guard let result = flow.result else { throw SessionError.noResult(analysis: "attention flow", layer: nil) }
        var product = AnalysisProduct()
        product.add("attention_flow.npy", .array(result.map))
        product.add("attention_flow.png", .png(try style.picture(result.map, canvas: input.canvas, title: "flow", tokens: input.encoding?.tokens)))
        let fields = Fields(input: input.name, layout: LayoutRecord(input.layout), readout: result.readout.description, layers: result.layers,
                            files: ["attention_flow.npy": result.map.shape])
        product.add("attention_flow.json", .json(Metadata(session.provenance(for: input), fields)))
        return product
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layout: LayoutRecord
        var readout: String
        var layers: Int
        var files: [String: [Int]]
    }
}
