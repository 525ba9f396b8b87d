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
    @OptionGroup var output: OutputOptions
    @Flag(help: "Divide each patch row by its sum after dropping prefix tokens (the published definition does not).")
    var renormalize = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws { try input.validate(allowText: false, allowMany: true) }

    func run() throws {
        compute.apply()
        let folder = try output.open(Self.configuration.commandName ?? "distance", inputs: input.inputPaths)
        let session = try input.session()
        var job = DistanceJob()
        job.renormalize = renormalize
        let names = input.attentions.map { [$0] } ?? input.images
        let (product, failed) = try job.run(session, inputs: names, prepare: { name in
            input.attentions != nil ? try input.single(session) : try input.image(name, session)
        }, progress: { event in
            switch event {
            case .done(let i, let n, let name) where n > 1 && !output.quiet:
                FileHandle.standardError.write(Data("[\(i + 1)/\(n)] \(name)\n".utf8))
            case .failed(_, let error): FileHandle.standardError.write(Data("vitlens: \(error)\n".utf8))
            default: break
            }
        })
        try output.finish(product, into: folder)
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
