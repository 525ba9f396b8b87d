import ArgumentParser
import Foundation
import ViTLens

/// `vitlens import-onnx MODEL.onnx --out DIR [--force]`: ONNX export -> Hugging Face folder.
struct ImportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-onnx",
        abstract: "Turn an ONNX export of a Hugging Face ViT or DINOv2 model into a Hugging Face folder.",
        discussion: """
            Writes config.json, model.safetensors (Hub key names) and preprocessor_config.json. Nodes \
            outside the backbone (a decoder, a classifier) are dropped. The graph must come from \
            torch.onnx.export(dynamo=False), which keeps module paths in node names.
            """
    )

    @Argument(help: "The .onnx file.")
    var model: String

    @Option(name: .long, help: "The folder to write.")
    var out: String

    @Flag(name: .long, help: "Replace the output folder if it exists and is not empty.")
    var force = false

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out is empty: name a folder for the imported model") }
    }

    func run() throws {
        let report = try ONNXImporter.importHuggingFace(
            from: URL(fileURLWithPath: model), to: URL(fileURLWithPath: out), overwrite: force)
        print(report.summary)
    }
}
