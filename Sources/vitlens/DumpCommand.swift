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
        and keys.npy [layers,heads,N,headDim]. SigLIP: the last of the layers is the attention pooling head \
        (meta.json's layout names it poolingHeadLayer): every row of head h is the probe's attention of head h, \
        and with --with every row holds the probe's scaled scores (logits) and query (queries), keys the \
        head's keys. Memory: all layers are kept (layers*heads*N^2*4 bytes), one image at a time. \(BatchHelp.text)
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .customLong("with"), parsing: .upToNextOption,
            help: ArgumentHelp("Extra tensors, comma- or space-separated: logits (QK^T/sqrt(d), attention_logits.npy), queries, keys.", valueName: "kind"))
    var extras: [String] = []
    @OptionGroup var batch: BatchSizeOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: true, allowMany: true)
        if input.attentions != nil { throw ValidationError("dump runs a model: give IMAGE or --text with --model") }
        _ = try capture()
    }

    /// `--with` values, comma- or space-separated.
    func capture() throws -> CaptureOptions {
        var options = CaptureOptions()
        for kind in extras.flatMap({ $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }) {
            switch kind {
            case "logits": options.insert(.logits)
            case "queries": options.insert(.queries)
            case "keys": options.insert(.keys)
            default: throw ValidationError("--with takes logits, queries or keys, got '\(kind)'")
            }
        }
        return options
    }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "dump", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        var job = DumpJob()
        job.capture = try capture()
        try output.run(input, session, into: folder, job: job, batchSize: batch.batchSize)
    }
}
