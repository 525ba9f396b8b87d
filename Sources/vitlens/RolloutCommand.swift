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
        text), rollout.png and rollout.json (layers, options, mass left on CLS and other prefix tokens).
        """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @Option(help: "Fraction of each row's lowest entries to zero per layer, in [0, 1).") var discardRatio = 0.0
    @Option(help: ArgumentHelp("Discard per-row (default) or global (vit-explain's selection over all entries).", valueName: "per-row|global"))
    var discardMode = "per-row"
    @Option(help: ArgumentHelp("Head fusion: mean, max, min, std or headN.", valueName: "fusion")) var headFusion = "mean"
    @Option(help: ArgumentHelp("Residual: identity ((A+I) row-normalised), half (0.5A+0.5I), none.", valueName: "mode"))
    var residual = "identity"
    @Option(help: "First layer used, 0-based (negative counts from the end).") var firstLayer = 0
    @Option(help: "Last layer used, 0-based (negative counts from the end).") var lastLayer = -1
    @Flag(help: "Read out the mean of the patch rows instead of a query row (models without CLS).") var meanOfPatches = false
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        try input.validate(allowText: true, allowMany: false)
        guard discardRatio >= 0, discardRatio < 1 else { throw ValidationError("--discard-ratio must be in [0, 1), got \(discardRatio)") }
        _ = try options(readout: .cls)
    }

    func options(readout: Readout) throws -> Rollout.Options {
        let mode: Rollout.DiscardMode
        switch discardMode {
        case "per-row": mode = .perRow
        case "global": mode = .global
        default: throw ValidationError("--discard-mode must be per-row or global, got '\(discardMode)'")
        }
        let res: Rollout.Residual
        switch residual {
        case "identity": res = .identityRenormalized
        case "half": res = .halfIdentity
        case "none": res = .none
        default: throw ValidationError("--residual must be identity, half or none, got '\(residual)'")
        }
        return Rollout.Options(fusion: try parseFusion(headFusion), discardRatio: discardRatio, discardMode: mode,
                               residual: res, firstLayer: firstLayer, lastLayer: lastLayer, readout: readout)
    }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        let loader = try InputLoader(input)
        let source = try loader.single()
        let layout = source.layout
        _ = try source.layerIndex(firstLayer, option: "--first-layer")
        _ = try source.layerIndex(lastLayer, option: "--last-layer")
        let readout: Readout = meanOfPatches ? .meanOfPatches : .query(try queryOptions.tokenQuery(layout: layout, input: source.name))
        var rollout = try Rollout(try options(readout: readout))
        try source.feed(&rollout)
        guard let result = rollout.result else { throw CommandError("rollout produced no result") }
        try output.npy(result.map, "rollout.npy")
        try output.png(try render.picture(result.map, canvas: source.canvas, title: "rollout", tokens: source.tokens), "rollout.png")
        var meta = loader.provenance()
        meta["input"] = source.name
        meta["layout"] = layoutJSON(layout)
        meta["layers"] = [result.layers.lowerBound, result.layers.upperBound]
        meta["readout"] = readout.description
        meta["head_fusion"] = headFusion
        meta["discard_ratio"] = discardRatio
        meta["discard_mode"] = discardMode
        meta["residual"] = residual
        meta["cls_mass"] = result.clsMass.map { Double($0) } ?? NSNull()
        meta["prefix_mass"] = Double(result.prefixMass)
        meta["patch_mass"] = Double(result.map.values.reduce(0, +))
        meta["files"] = ["rollout.npy": result.map.shape]
        try output.json(meta, "rollout.json")
        try output.commit()
        if !quiet {
            print("rollout over layers \(result.layers.lowerBound)...\(result.layers.upperBound): patch mass \(String(format: "%.4f", meta["patch_mass"] as? Double ?? 0)); wrote \(output.url.path)/rollout.npy, rollout.png")
        }
    }
}
