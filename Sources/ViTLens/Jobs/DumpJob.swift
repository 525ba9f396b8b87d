import Foundation

/// Every layer's attention and the model's outputs as NumPy files; what `vitlens dump` writes.
public struct DumpJob: BatchableJob, Sendable {
    /// Extra tensors: logits (QK^T/sqrt(d) plus any attention bias: the softmax input), queries, keys.
    public var capture = CaptureOptions()

    public init() {}

    /// Runs the forward pass, keeping every layer, and builds the files.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        var recorder = try observer(for: input)
        let output = try session.run(input, observer: &recorder)
        return try product(session, input, observer: recorder, output: output)
    }

    /// A recorder keeping every layer (and the extras in ``capture``).
    public func observer(for input: AnalysisInput) throws -> AttentionRecorder {
        AttentionRecorder(options: capture)
    }

    /// The arrays and `meta.json` from a finished recorder and the forward's outputs.
    public func product(_ session: AnalysisSession, _ input: AnalysisInput, observer recorder: AttentionRecorder,
                        output: ForwardOutput) throws -> AnalysisProduct {
        var product = AnalysisProduct()
        var fields = Fields(input: input.name, layout: LayoutRecord(input.layout))
        switch (input.source, output) {
        case (.image(let prepared), .vision(let output)):
            product.add("pixel_values.npy", .array(prepared.pixels))
            product.add("hidden_state.npy", .array(output.hiddenState))
            if let logits = output.logits {
                product.add("logits.npy", .array(logits))
                product.summary += Self.topFive(logits, labels: session.vision?.model.labels ?? [:])
            }
            fields.inputSize = [prepared.pixels.shape[1], prepared.pixels.shape[2]]
        case (.text(let text, let encoding), .text(let output)):
            product.add("input_ids.npy", .bytes(NPY.encode(int64: encoding.ids.map(Int64.init), shape: [encoding.ids.count])))
            product.add("tokens.json", .json(encoding.tokens))
            product.add("hidden_state.npy", .array(output.hiddenState))
            fields.text = text
        default:
            throw SessionError.noResult(analysis: "dump (it runs a model: give an image or a sentence)", layer: nil)
        }
        product.add("attentions.npy", .array(recorder.attentions))
        if capture.contains(.logits) { product.add("attention_logits.npy", .array(recorder.logits)) }
        if capture.contains(.queries) { product.add("queries.npy", .array(recorder.queries)) }
        if capture.contains(.keys) { product.add("keys.npy", .array(recorder.keys)) }
        fields.attentionsShape = recorder.attentions.shape
        product.add("meta.json", .json(Metadata(session.provenance(for: input), fields)))
        return product
    }

    /// The five most probable classes, as `  93.12%  label` lines.
    static func topFive(_ logits: Tensor, labels: [Int: String]) -> [String] {
        ClassScore.top(logits, labels: labels).map { String(format: "%6.2f%%", 100 * $0.probability) + "  " + $0.label }
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layout: LayoutRecord
        var inputSize: [Int]?
        var text: String?
        var attentionsShape: [Int] = []

        enum CodingKeys: String, CodingKey {
            case input, layout, inputSize = "input_size", text, attentionsShape = "attentions_shape"
        }
    }
}
