import ArgumentParser
import Foundation
import ViTLens

/// `vitlens convert IN --out DIR`: any supported checkpoint -> Hugging Face folder.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write an image model ViTLens loads (timm or Hugging Face; .pth, .bin, .safetensors) as a Hugging Face folder.",
        discussion: """
            Writes config.json (timm configs become Hugging Face vit/deit ones), model.safetensors (float32, \
            Hub key names) and preprocessor_config.json (the source's, or the fields that reproduce timm's \
            pretrained_cfg; a note says where transformers cannot match it exactly). The model is loaded \
            first; the folder appears complete or not at all and never replaces files ViTLens did not write. \
            See docs/FORMATS.md.
            """
    )

    @Argument(help: "The model: a .pth/.bin/.pt/.ckpt or .safetensors file beside its config.json, a DINO release .pth with --arch, a folder, or a Hub id.")
    var model: String

    @OptionGroup var key: StateDictKeyOption
    @OptionGroup var architecture: ArchitectureOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let job = ConvertJob(model: model, stateDictKey: key.stateDictKey, preset: try architecture.preset())
        let report = try job.run(into: output.out, arguments: Array(CommandLine.arguments.dropFirst()))
        for note in report.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        guard !output.quiet else { return }
        for line in report.summary { print(line) }
    }
}
