import ArgumentParser
import Foundation
import ViTLens
import ViTLensWeb

/// `vitlens report`: one self-contained HTML page with every analysis of some images and sentences.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One self-contained HTML report (no network references) for images and sentences.",
        discussion: """
        Per image (one forward pass each): the model card (family, layers, heads, patch size, token layout, \
        weights file and its SHA-256), the top-5 prediction when the model has a classifier, the last layer's \
        per-head CLS maps with DINO masks, attention rollout, CLS maps of every layer and head (a layer slider \
        and head buttons switch them; without JavaScript they show as a grid) and the mean-attention-distance \
        plot, and gradient explanations by the four methods (chefer, grad-rollout, attn-grad, input-grad; buttons \
        switch them) of the predicted class, or of --explain-target for an image model without a classifier \
        (e.g. similar:IMAGE). Per --text sentence: the tokens, a head view per layer, the attention matrices, and \
        with --explain-text-target (similar-text:TEXT or token:I,J) the explanations coloured over the tokens. Give one \
        image model and/or one text model with --model. An input that fails is shown in the report as a \
        failure and listed on stderr; the exit status is then 1. An existing --out file is replaced only if \
        it is a ViTLens report.
        """)

    @Argument(help: "Image file(s): JPEG or PNG.")
    var images: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Model: a Hugging Face folder, a .safetensors file beside its config.json, or a Hub id. Repeat for one image model and one text model.",
        valueName: "dir|file|id"))
    var model: [String] = []

    @Option(help: "A sentence for the text model (BERT family); repeat for more.")
    var text: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("The report file: new, or a report ViTLens wrote (it is replaced).", valueName: "report.html"))
    var out: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Image input size: resize straight to H x W (no crop). Default: the processor config decides.", valueName: "HxW"),
            transform: SizeOption.parse)
    var size: SizeOption?

    @Flag(help: "Cut a sentence longer than the model's maximum to its first tokens instead of failing it.")
    var truncate = false

    @Option(help: "DINO mask mass fraction t in (0, 1].") var threshold = 0.6
    @Option(help: ArgumentHelp(
        "What the images' explanations explain: top1 (the default for a classifier), class:N, label:NAME, similar:IMAGE or token:I,J. An image model without a classifier is explained only with this option.",
        valueName: "target"))
    var explainTarget: String?

    @Option(help: ArgumentHelp("What the sentences' explanations explain: similar-text:TEXT or token:I,J. Without it sentences get no explanation.",
                               valueName: "target"))
    var explainTextTarget: String?

    @Flag(help: "Leave the explanations out (no backward passes).")
    var noExplain = false

    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        do { _ = try ProgressStyle.resolve(quiet: quiet) } catch { throw ValidationError("\(error)") }
        guard !model.isEmpty else { throw ValidationError("--model is required") }
        guard model.count <= 2 else { throw ValidationError("give at most two --model: one image model and one text model") }
        guard !images.isEmpty || !text.isEmpty else { throw ValidationError("give at least one IMAGE or --text sentence") }
        for sentence in text {
            if sentence.isEmpty { throw ValidationError("--text is empty") }
            if InputOptions.argumentIsInvalidUTF8(sentence) {
                throw ValidationError("--text is not valid UTF-8 (bytes that are not UTF-8 arrive as U+FFFD); pass the text in UTF-8")
            }
        }
        if size != nil && images.isEmpty { throw ValidationError("--size applies to images; no IMAGE was given") }
        if truncate && text.isEmpty { throw ValidationError("--truncate goes with --text") }
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], got \(threshold)") }
        _ = try targets()
    }

    /// The parsed --explain-target and --explain-text-target, checked against the inputs given.
    func targets() throws -> (image: TargetSpec?, text: TargetSpec?) {
        func parse(_ option: String, _ value: String?) throws -> TargetSpec? {
            guard let value else { return nil }
            if noExplain { throw ValidationError("\(option) and --no-explain exclude each other") }
            do { return try TargetSpec(parsing: value) } catch { throw ValidationError("\(error)".replacingOccurrences(of: "--target ", with: option + " ")) }
        }
        let image = try parse("--explain-target", explainTarget), text = try parse("--explain-text-target", explainTextTarget)
        if image != nil && images.isEmpty { throw ValidationError("--explain-target applies to images; no IMAGE was given") }
        if text != nil && self.text.isEmpty { throw ValidationError("--explain-text-target applies to --text sentences; none was given") }
        if case .similarText? = image { throw ValidationError("--explain-target \(explainTarget ?? ""): similar-text: explains sentences; give it as --explain-text-target") }
        switch text {
        case nil, .similarText?, .tokens?: break
        default: throw ValidationError("--explain-text-target \(explainTextTarget ?? ""): a text model has no classifier and takes no image; use similar-text:TEXT or token:I,J")
        }
        return (image, text)
    }

    func run() throws {
        try compute.apply()
        try ReportFile.check(out)
        let (imageModel, textModel) = try sessions()
        var job = ReportJob()
        (job.threshold, job.style, job.truncate) = (threshold, render.style, truncate)
        job.size = size.map { ($0.height, $0.width) }
        (job.imageTarget, job.textTarget) = try targets()
        if noExplain { job.explainMethods = [] }
        let bar = ProgressBar(total: images.count + text.count, unit: .items("input"),
                              style: (try? ProgressStyle.resolve(quiet: quiet)) ?? .silent, label: "report")
        job.onProgress = { _, _, name in bar.advance(name) }
        let report = try job.run(imageModel: imageModel, images: images, textModel: textModel, texts: text)
        bar.finish()
        let html = ReportHTML.render(report)
        try ReportFile.write(html, to: out)
        let failures = report.failures
        if !quiet {
            let ok = report.sections.count - failures.count
            print("wrote \(out) (\(String(format: "%.1f", Double(html.utf8.count) / 1_000_000)) MB): \(ok) of \(report.sections.count) inputs analysed")
        }
        for failure in failures { FileHandle.standardError.write(Data("vitlens: \(failure.reason)\n".utf8)) }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// Loads each --model once and sorts them into the image model and the text model.
    private func sessions() throws -> (image: AnalysisSession?, text: AnalysisSession?) {
        var image: AnalysisSession?, textModel: AnalysisSession?
        for spec in model {
            let session = try ModelOptions.load(spec, quiet: quiet)
            if session.vision != nil {
                if let other = image?.modelSpec { throw CommandError("--model \(other) and --model \(spec) are both image models; give at most one image model and one text model") }
                image = session
            } else {
                if let other = textModel?.modelSpec { throw CommandError("--model \(other) and --model \(spec) are both text models; give at most one image model and one text model") }
                textModel = session
            }
        }
        if !images.isEmpty, image == nil { throw CommandError("IMAGE needs an image model; --model \(model.joined(separator: ", ")) is a text model") }
        if !text.isEmpty, textModel == nil { throw CommandError("--text needs a text model (BERT family); --model \(model.joined(separator: ", ")) is an image model") }
        if let spec = image?.modelSpec, images.isEmpty { throw CommandError("--model \(spec) is an image model but no IMAGE was given") }
        if let spec = textModel?.modelSpec, text.isEmpty { throw CommandError("--model \(spec) is a text model but no --text was given") }
        return (image, textModel)
    }
}
