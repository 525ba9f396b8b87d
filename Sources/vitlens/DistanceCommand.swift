import ArgumentParser
import Foundation
import ViTLens

/// `vitlens distance`: mean attention distance per layer and head (ViT paper, Fig. 7), over many images.
struct DistanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distance",
        abstract: "Mean attention distance per layer and head, averaged over images (ViT paper Fig. 7), plus attention entropy.",
        discussion: """
        Per layer l, head h: W = A[h, patches, patches] (prefix tokens dropped, rows not renormalised unless \
        --renormalize), D_ij = patch size x Euclidean distance between patch centres, MAD = mean over query \
        patches of sum_j W_ij D_ij, in input pixels; averaged over the images. Also the mean row entropy \
        (nats). Writes mean_attention_distance.npy float32 [layers,heads], attention_entropy.npy \
        [layers,heads], per_image_mean_attention_distance.npy [images,layers,heads], \
        mean_attention_distance.csv, mean_attention_distance.svg and .png, distance.json. An image that fails \
        is reported and skipped; the exit status is non-zero if any failed.
        """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @Flag(help: "Divide each patch row by its sum after dropping prefix tokens (the published definition does not).")
    var renormalize = false
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws { try input.validate(allowText: false, allowMany: true) }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        let loader = try InputLoader(input)
        var mad = MeanAttentionDistance(renormalize: renormalize)
        var entropy = AttentionEntropy(queries: .patches)
        var used: [String] = []
        var failed: [String] = []
        let inputs: [String] = input.attentions.map { [$0] } ?? input.images
        for (i, name) in inputs.enumerated() {
            do {
                let source = input.attentions != nil ? try loader.single() : try loader.image(name)
                var pair = ObserverPair(mad, entropy)
                try source.feed(&pair)
                mad = pair.first
                entropy = pair.second
                used.append(source.name)
                if !quiet && inputs.count > 1 { FileHandle.standardError.write(Data("[\(i + 1)/\(inputs.count)] \(name)\n".utf8)) }
            } catch {
                failed.append(name)
                FileHandle.standardError.write(Data("vitlens: \(error)\n".utf8))
            }
        }
        guard let distances = mad.result, let entropies = entropy.result, !used.isEmpty else {
            throw CommandError("no input could be analysed (\(failed.count) failed)")
        }
        try output.npy(distances.mean, "mean_attention_distance.npy")
        try output.npy(entropies.mean, "attention_entropy.npy")
        try output.npy(distances.perImage, "per_image_mean_attention_distance.npy")
        var csv = "layer,head,mean_attention_distance_px,attention_entropy_nats\n"
        for l in 0 ..< distances.layers {
            for h in 0 ..< distances.heads {
                csv += "\(l),\(h),\(String(format: "%.4f", distances.value(layer: l, head: h))),\(String(format: "%.6f", entropies.value(layer: l, head: h)))\n"
            }
        }
        try output.write(Data(csv.utf8), "mean_attention_distance.csv")
        let plot = try ScatterPlot.meanAttentionDistance(
            distances.mean, title: "Mean attention distance (\(used.count) image\(used.count == 1 ? "" : "s"))")
        try output.write(Data(plot.svg().utf8), "mean_attention_distance.svg")
        try output.png(plot.render(), "mean_attention_distance.png")
        var meta = loader.provenance()
        meta["inputs"] = used
        meta["failed"] = failed
        meta["renormalize"] = renormalize
        meta["files"] = ["mean_attention_distance.npy": distances.mean.shape, "attention_entropy.npy": entropies.mean.shape,
                         "per_image_mean_attention_distance.npy": distances.perImage.shape]
        try output.json(meta, "distance.json")
        try output.commit()
        if !quiet {
            let firstLast = (0 ..< distances.heads).map { distances.value(layer: 0, head: $0) }
            let last = (0 ..< distances.heads).map { distances.value(layer: distances.layers - 1, head: $0) }
            print("mean attention distance over \(used.count) input(s), layer 0: \(range(firstLast)) px, layer \(distances.layers - 1): \(range(last)) px")
            print("wrote \(output.url.path)/mean_attention_distance.{npy,csv,svg,png}")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func range(_ v: [Float]) -> String {
        String(format: "%.1f-%.1f", v.min() ?? 0, v.max() ?? 0)
    }
}
