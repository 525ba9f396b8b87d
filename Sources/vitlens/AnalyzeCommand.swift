import ArgumentParser
import Foundation
import ViTLens

/// `vitlens analyze`: rollout, last-layer heads with DINO masks and mean attention distance from
/// one forward pass, streaming (no layer's attention is kept beyond what each analysis needs).
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Rollout + last-layer heads (with DINO masks) + mean attention distance from ONE forward pass.",
        discussion: """
        Writes rollout.npy [gh,gw], cls_attention.npy [heads,gh,gw], masks.npy uint8 [heads,gh,gw], \
        mean_attention_distance.npy [layers,heads], rollout.png, \
        heads.png and analyze.json, with the same definitions and defaults as the rollout, heads and \
        distance commands. Memory stays near one layer of attention plus what rollout keeps.
        """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @Option(help: "DINO mask mass fraction t in (0, 1].") var threshold = 0.6
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        try input.validate(allowText: false, allowMany: false)
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], got \(threshold)") }
    }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        let loader = try InputLoader(input)
        let source = try loader.single()
        let start = DispatchTime.now().uptimeNanoseconds
        var observers = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1, query: .cls)), MeanAttentionDistance())
        try source.feed(&observers)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard let rollout = observers.first.first.result, let heads = observers.first.second.result,
              let mad = observers.second.result
        else { throw CommandError("an analysis produced no result") }
        let masks = try heads.masks(threshold: threshold)
        try output.npy(rollout.map, "rollout.npy")
        try output.npy(heads.maps, "cls_attention.npy")
        try output.write(NPY.encode(uint8: masks.values, shape: masks.shape), "masks.npy")
        try output.npy(mad.mean, "mean_attention_distance.npy")
        try output.png(try render.picture(rollout.map, canvas: source.canvas, title: "rollout"), "rollout.png")
        var tiles: [Mosaic.Tile] = []
        for h in 0 ..< heads.heads {
            tiles.append(Mosaic.Tile(try render.picture(heads.maps.slice(h), canvas: source.canvas, title: "head \(h)"), caption: "head \(h)"))
        }
        tiles.append(Mosaic.Tile(try render.picture(try heads.fused(.mean), canvas: source.canvas, title: "mean"), caption: "mean"))
        try output.png(try Mosaic(tiles: tiles, title: "last layer, CLS query").render(), "heads.png")
        var meta = loader.provenance()
        meta["input"] = source.name
        meta["layout"] = layoutJSON(source.layout)
        meta["forward_and_analyses_seconds"] = seconds
        meta["kept_mass"] = masks.keptMass
        meta["threshold"] = threshold
        try output.json(meta, "analyze.json")
        try output.commit()
        if !quiet {
            print(String(format: "forward + analyses: %.2f s, ", seconds) + "\(source.layout.tokenCount) tokens; wrote \(output.url.path)")
        }
    }
}
