import ArgumentParser
import Foundation
import ViTLens

/// `vitlens explain`: relevance maps from attention gradients or input gradients.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a target (a class, a similarity) with gradients: Chefer relevance, gradient rollout, attention x gradient, input x gradient.",
        discussion: """
        One forward and one backward pass per input (a similar: or similar-text: target adds one plain \
        forward of the other image or sentence). --target: top1 (the predicted class), class:N, \
        label:NAME (exact id2label name), similar:IMAGE (cosine of the pooled embeddings), \
        similar-text:TEXT (cosine of the mean-pooled sentence embeddings), token:I,J (cosine of two \
        tokens' final states). Writes relevance.npy float32 [gh,gw] (raw; [T] for text; [layers,gh,gw] \
        for attn-grad), relevance.png (attn-grad: the sum over layers) and explain.json (method, target, \
        resolved class and label, target value, layers, readout, gradient_zero, recompute, explain_seconds). A target whose gradient \
        is zero on the input (similar: with the image itself) is reported on stderr and as \
        gradient_zero: true. --recompute keeps only each layer's input during the forward and reruns \
        the layer during the backward: stored activations 4 (L N D + 5 N D + heads N^2 + N ffWidth) \
        bytes instead of 4 L (5 N D + heads N^2 + N ffWidth), about one more forward's time, the same \
        map. \(BatchHelp.text)
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("What to explain: \(TargetSpec.forms).", valueName: "target")) var target = "top1"
    @Option(help: "chefer, grad-rollout, attn-grad or input-grad.") var method: ExplanationMethod = .chefer
    @Option(help: "Head fusion of gradient x attention.") var gradientFusion: GradientHeadFusion = .positiveThenMean
    @Option(help: "First layer used, 0-based (negative counts from the end).") var firstLayer = 0
    @Option(help: "Last layer used, 0-based (negative counts from the end).") var lastLayer = -1
    @Flag(help: "Read out the mean of the patch rows instead of CLS (models without CLS).") var meanOfPatches = false
    @Flag(help: "Recompute each layer during the backward instead of storing its activations (gradient checkpointing: less memory for large inputs).")
    var recompute = false
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: true, allowMany: true)
        if input.attentions != nil { throw ValidationError("explain needs gradients: give --model and an IMAGE or --text, not --attentions") }
        do { _ = try TargetSpec(parsing: target) } catch { throw ValidationError("\(error)") }
    }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        var job = ExplainJob()
        (job.method, job.target, job.meanOfPatches, job.style) = (method, try TargetSpec(parsing: target), meanOfPatches, render.style)
        job.options = AttentionGradientAccumulator.Options(fusion: gradientFusion, firstLayer: firstLayer, lastLayer: lastLayer)
        job.recompute = recompute
        let folder = try output.open(Self.configuration.commandName ?? "explain", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        try output.run(input, session, into: folder) { try job.run(session, $0) }
    }
}

extension ExplanationMethod: ExpressibleByArgument {}
extension GradientHeadFusion: ExpressibleByArgument {}
