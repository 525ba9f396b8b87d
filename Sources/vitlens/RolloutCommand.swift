import ArgumentParser
import Foundation
import ViTLens

/// `vitlens rollout`: attention rollout (Abnar & Zuidema 2020).
struct RolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Attention rollout: fuse heads, add the identity, renormalise rows, multiply through the layers.",
        discussion: """
        Per layer l in [first, last]: A = fusion over heads; optionally discard the lowest --discard-ratio \
        of each row's off-diagonal entries (the CLS-to-CLS entry is never dropped); Â = (A + I) row-normalised; \
        R_l = Â_l · R_(l-1). The map is the readout row (CLS by default) over the patch tokens, prefix tokens \
        (registers, distillation) excluded. Writes rollout.npy float32 [gh,gw] (raw, not rescaled; [T] for \
        text), rollout.png and rollout.json (layers, options, mass left on CLS and other prefix tokens). \
        SigLIP (no CLS): the readout is the attention pooling head's probe (the last layer), head-fused, \
        times the rollout of the encoder layers. \(BatchHelp.text)
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Fraction of each row's lowest entries to zero per layer, in [0, 1).") var discardRatio = 0.0
    @Option(help: "Discard per-row (default) or global (vit-explain's selection over all entries).") var discardMode: DiscardModeOption = .perRow
    @Option(help: "Head fusion.") var headFusion: HeadFusion = .mean
    @Option(help: "Residual: identity ((A+I) row-normalised), half (0.5A+0.5I), none.") var residual: ResidualOption = .identity
    @Option(help: "First layer used, 0-based (negative counts from the end).") var firstLayer = 0
    @Option(help: "Last layer used, 0-based (negative counts from the end).") var lastLayer = -1
    @Flag(help: "Read out the mean of the patch rows instead of a query row (models without CLS).") var meanOfPatches = false
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var batch: BatchSizeOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try input.validate(allowText: true, allowMany: true)
        guard discardRatio >= 0, discardRatio < 1 else { throw ValidationError("--discard-ratio must be in [0, 1), got \(discardRatio)") }
        _ = try Rollout(job.options)
    }

    var job: RolloutJob {
        var job = RolloutJob()
        job.options = Rollout.Options(fusion: headFusion, discardRatio: discardRatio, discardMode: discardMode.mode,
                                      residual: residual.residual, firstLayer: firstLayer, lastLayer: lastLayer)
        (job.query, job.meanOfPatches, job.style) = (queryOptions.spec, meanOfPatches, render.style)
        (job.residualName, job.discardModeName) = (residual.rawValue, discardMode.rawValue)
        return job
    }

    mutating func run() throws {
        try input.expandImageArguments(excluding: output.out)
        try compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "rollout", inputs: input.inputPaths)
        let session = try input.session(quiet: output.quiet)
        let job = self.job
        try output.run(input, session, into: folder, job: job, batchSize: batch.batchSize)
    }
}

/// `--residual`.
enum ResidualOption: String, CaseIterable, ExpressibleByArgument {
    case identity, half, none
    var residual: Rollout.Residual {
        switch self {
        case .identity: return .identityRenormalized
        case .half: return .halfIdentity
        case .none: return .none
        }
    }
}

/// `--discard-mode`.
enum DiscardModeOption: String, CaseIterable, ExpressibleByArgument {
    case perRow = "per-row", global
    var mode: Rollout.DiscardMode { self == .perRow ? .perRow : .global }
}
