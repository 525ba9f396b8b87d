import ArgumentParser
import Foundation
import ViTLens

/// `vitlens dump`: every layer's attention and the model's outputs as NumPy files.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write every layer's attention and the model outputs as .npy files.",
        discussion: """
        Image models write pixel_values.npy float32 [3,H,W]; attentions.npy float32 [layers,heads,N,N]; \
        hidden_state.npy float32 [N,D] (after the final LayerNorm); logits.npy float32 [classes] when the \
        model has a classifier (the top 5 are printed); meta.json (token layout, model, input). \
        Text models (--text) write input_ids.npy int64 [T], tokens.json, attentions.npy [layers,heads,T,T], \
        hidden_state.npy [T,D] and meta.json. --with adds attention_logits.npy (QK^T/sqrt(d)), queries.npy \
        and keys.npy [layers,heads,N,headDim]. Memory: all layers are kept (layers*heads*N^2*4 bytes).
        """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @Option(name: .customLong("with"), parsing: .upToNextOption,
            help: ArgumentHelp("Extra tensors, comma- or space-separated: logits (QK^T/sqrt(d), attention_logits.npy), queries, keys.", valueName: "kind"))
    var extras: [String] = []
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        try input.validate(allowText: true, allowMany: false)
        if input.attentions != nil { throw ValidationError("dump runs a model: give IMAGE or --text with --model") }
        for e in kinds where !["logits", "queries", "keys"].contains(e) {
            throw ValidationError("--with takes logits, queries or keys, got '\(e)'")
        }
    }

    /// `--with` values, comma- or space-separated.
    var kinds: [String] { extras.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        var options = CaptureOptions()
        if kinds.contains("logits") { options.insert(.logits) }
        if kinds.contains("queries") { options.insert(.queries) }
        if kinds.contains("keys") { options.insert(.keys) }
        let loader = try InputLoader(input)
        let source = try loader.single()
        var recorder = AttentionRecorder(options: options)
        var meta = loader.provenance()
        meta["input"] = source.name
        var layout: TokenLayout
        switch source {
        case .image(_, let prepared):
            guard case .image(let pipeline, _) = source else { return }
            let r = try pipeline.run(prepared, observer: &recorder)
            try output.npy(prepared.pixels, "pixel_values.npy")
            layout = r.layout
            try output.npy(r.hiddenState, "hidden_state.npy")
            if let logits = r.logits { try output.npy(logits, "logits.npy") }
            meta["input_size"] = [prepared.pixels.shape[1], prepared.pixels.shape[2]]
            if let logits = r.logits, !quiet {
                printTopFive(logits, labels: pipeline.model.labels)
            }
        case .text(let model, let encoding):
            layout = TokenLayout(textTokens: encoding.ids.count)
            let out: TextOutput
            do { out = try model.forward(ids: encoding.ids, typeIds: encoding.typeIds, observer: &recorder) } catch let e as MemoryLimitError {
                throw InputError(file: "--text", problem: e.description)
            }
            try output.write(NPY.encode(int64: encoding.ids.map(Int64.init), shape: [encoding.ids.count]), "input_ids.npy")
            try output.json(encoding.tokens, "tokens.json")
            try output.npy(out.hiddenState, "hidden_state.npy")
            meta["text"] = input.text ?? ""
        case .array:
            throw CommandError("dump runs a model")
        }
        try output.npy(recorder.attentions, "attentions.npy")
        if options.contains(.logits) { try output.npy(recorder.logits, "attention_logits.npy") }
        if options.contains(.queries) { try output.npy(recorder.queries, "queries.npy") }
        if options.contains(.keys) { try output.npy(recorder.keys, "keys.npy") }
        meta["layout"] = layoutJSON(layout)
        meta["attentions_shape"] = recorder.attentions.shape
        try output.json(meta, "meta.json")
        try output.commit()
        if !quiet {
            print("wrote \(output.written.count) files to \(output.url.path): \(output.written.joined(separator: ", "))")
        }
    }

    private func printTopFive(_ logits: Tensor, labels: [Int: String]) {
        let v = logits.values
        let m = v.max() ?? 0
        let e = v.map { exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        for i in v.indices.sorted(by: { v[$0] > v[$1] }).prefix(5) {
            print(String(format: "%6.2f%%", 100 * e[i] / s) + "  " + (labels[i] ?? "class \(i)"))
        }
    }
}

