import ArgumentParser
import Foundation
import ViTLens

/// `vitlens faithfulness`: deletion and insertion curves of explanation maps, with a random baseline.
struct FaithfulnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faithfulness",
        abstract: "Score explanation maps by deleting and inserting patches in their order (deletion/insertion AUC).",
        discussion: """
        The target (\(TargetSpec.forms)) is resolved once on the unperturbed image: top1 stays that \
        image's class at every step. Methods: chefer, grad-rollout, attn-grad (summed over layers), \
        input-grad (one forward and one backward each), attention (last layer, CLS row, mean of heads) \
        and rollout (one plain forward). Each curve point is one forward: (steps + 1) x 2 per method and \
        per random order. Sanity check (Adebayo et al. 2018, on by default): every map is computed again \
        on a copy of the model whose weights are shuffled (--sanity all: every tensor at once, embeddings \
        included; top-K: the head and the last K layers; none: skip; the shuffle is seeded with --seed, \
        the copy is written to the temporary folder and removed) and compared with the real map by \
        Spearman rank correlation: near 1 means the map ignores the weights. A similar: target is \
        resolved again under the shuffled weights; a class stays the class of the real model. A target \
        whose gradient is zero on the input (similar: with the image itself) is reported on stderr and \
        as gradient_zero: true. Writes faithfulness.json (the report: per method its deletion and \
        insertion curves and AUCs, the random baseline, the sanity correlations, target, class and \
        label), curves.csv (method,curve,fraction,value), summary.csv \
        (method,deletion_auc,insertion_auc,spearman), deletion.svg/.png and insertion.svg/.png. Image \
        models only. \(BatchHelp.text)
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(help: ArgumentHelp("What to explain: \(TargetSpec.forms).", valueName: "target")) var target = "top1"
    @Option(help: ArgumentHelp("all, or a comma-separated list of chefer, grad-rollout, attn-grad, input-grad, attention, rollout.",
                               valueName: "list")) var methods = "all"
    @Option(help: "Perturbation steps per curve (1 ... patches).") var steps = 16
    @Option(help: ArgumentHelp("What removed patches show: mean (per-channel mean) or blur:R (box blur of radius R).",
                               valueName: "baseline")) var baseline = "mean"
    @Option(help: "Seeded random patch orders averaged as a baseline (0: none).") var randomOrders = 8
    @Option(help: "Seed of the random orders and of the sanity check's shuffle.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Model-randomisation sanity check: all (shuffle every weight), top-K (the head and the last K layers) or none.",
                               valueName: "all|top-K|none")) var sanity = "all"
    @Flag(help: "Recompute each layer during the backward instead of storing its activations (less memory, same maps).")
    var recompute = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: false, allowMany: true)
        if input.attentions != nil { throw ValidationError("faithfulness needs a model: give --model and an IMAGE, not --attentions") }
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if randomOrders < 0 { throw ValidationError("--random-orders must be 0 or more, got \(randomOrders)") }
        do {
            _ = try TargetSpec(parsing: target)
            _ = try FaithfulnessJob.methods(parsing: methods)
            _ = try FaithfulnessJob.baseline(parsing: baseline)
            _ = try FaithfulnessJob.sanity(parsing: sanity)
        } catch { throw ValidationError("\(error)") }
    }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        var job = FaithfulnessJob()
        (job.target, job.methods, job.baseline) = (try TargetSpec(parsing: target), try FaithfulnessJob.methods(parsing: methods),
                                                   try FaithfulnessJob.baseline(parsing: baseline))
        (job.steps, job.randomOrders, job.seed) = (steps, randomOrders, seed)
        (job.sanity, job.recompute) = (try FaithfulnessJob.sanity(parsing: sanity), recompute)
        let folder = try output.open(Self.configuration.commandName ?? "faithfulness", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        try output.run(input, session, into: folder) { try job.run(session, $0) }
    }
}
