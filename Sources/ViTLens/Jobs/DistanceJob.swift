import Foundation

/// Mean attention distance and attention entropy per layer and head, averaged over many inputs
/// (ViT paper Fig. 7); what `vitlens distance` writes. Inputs that fail are reported and skipped; the
/// metadata records how many inputs the means are over and each failure with its reason.
public struct DistanceJob: Sendable {
    /// Divide each patch row by its sum after dropping prefix tokens.
    public var renormalize = false

    public init() {}

    /// What happened to one input.
    public enum Progress: Sendable {
        case done(index: Int, count: Int, name: String)
        case failed(name: String, error: any Error)
    }

    /// Runs one forward pass per input (`prepare` turns a name into an input) and builds the files.
    /// - Throws: ``SessionError/noResult(analysis:layer:)`` when no input could be analysed.
    /// - Returns: the product and the names of the inputs that failed.
    public func run(_ session: AnalysisSession, inputs names: [String], prepare: (String) throws -> AnalysisInput,
                    progress: (Progress) -> Void = { _ in }) throws -> (product: AnalysisProduct, failed: [String]) {
        var mad = MeanAttentionDistance(renormalize: renormalize)
        var entropy = AttentionEntropy(queries: .patches)
        var used: [String] = [], failures: [ImageBatch.Failure] = []
        var provenance = session.provenance()
        for (i, name) in names.enumerated() {
            do {
                let input = try prepare(name)
                var pair = ObserverPair(mad, entropy)
                try session.run(input, observer: &pair)
                (mad, entropy) = (pair.first, pair.second)
                used.append(input.name)
                provenance = session.provenance(for: input)
                progress(.done(index: i, count: names.count, name: name))
            } catch {
                failures.append(ImageBatch.Failure(file: name, error: error))
                progress(.failed(name: name, error: error))
            }
        }
        guard let distances = mad.result, let entropies = entropy.result, !used.isEmpty else {
            throw SessionError.noResult(analysis: "distance (no input could be analysed, \(failures.count) failed)", layer: nil)
        }
        var product = AnalysisProduct()
        product.add("mean_attention_distance.npy", .array(distances.mean))
        product.add("attention_entropy.npy", .array(entropies.mean))
        product.add("per_image_mean_attention_distance.npy", .array(distances.perImage))
        var csv = "layer,head,mean_attention_distance_px,attention_entropy_nats\n"
        for l in 0 ..< distances.layers {
            for h in 0 ..< distances.heads {
                csv += "\(l),\(h),\(String(format: "%.4f", distances.value(layer: l, head: h))),\(String(format: "%.6f", entropies.value(layer: l, head: h)))\n"
            }
        }
        product.add("mean_attention_distance.csv", .bytes(Data(csv.utf8)))
        let plot = try ScatterPlot.meanAttentionDistance(distances.mean, title: "Mean attention distance (\(used.count) image\(used.count == 1 ? "" : "s"))")
        product.add("mean_attention_distance.svg", .bytes(Data(plot.svg().utf8)))
        product.add("mean_attention_distance.png", .png(try plot.render()))
        let fields = Fields(inputs: used, inputCount: used.count, failed: failures.map(\.file), failures: failures, renormalize: renormalize,
                            files: ["mean_attention_distance.npy": distances.mean.shape, "attention_entropy.npy": entropies.mean.shape,
                                    "per_image_mean_attention_distance.npy": distances.perImage.shape])
        product.add("distance.json", .json(Metadata(provenance, fields)))
        func range(_ v: [Float]) -> String { String(format: "%.1f-%.1f", v.min() ?? 0, v.max() ?? 0) }
        let first = (0 ..< distances.heads).map { distances.value(layer: 0, head: $0) }
        let last = (0 ..< distances.heads).map { distances.value(layer: distances.layers - 1, head: $0) }
        product.summary.append("mean attention distance over \(used.count) input(s), layer 0: \(range(first)) px, layer \(distances.layers - 1): \(range(last)) px")
        return (product, failures.map(\.file))
    }

    struct Fields: Encodable, Sendable {
        var inputs: [String]
        /// How many inputs the means are over.
        var inputCount: Int
        var failed: [String]
        /// Each failed input and why.
        var failures: [ImageBatch.Failure]
        var renormalize: Bool
        var files: [String: [Int]]

        enum CodingKeys: String, CodingKey {
            case inputs, inputCount = "input_count", failed, failures, renormalize, files
        }
    }
}
