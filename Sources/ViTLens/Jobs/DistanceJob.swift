import Foundation

/// Mean attention distance and attention entropy per layer and head, averaged over many inputs
/// (ViT paper Fig. 7); what `vitlens distance` writes. Inputs that fail are reported and skipped; the
/// metadata records how many inputs the means are over and each failure with its reason.
public struct DistanceJob: Sendable {
    /// Divide each patch row by its sum after dropping prefix tokens.
    public var renormalize = false
    /// Images per forward pass (see ``AnalysisSession/run(_:batchSize:makeObserver:)``); the
    /// files do not depend on it where the batched forward is exact.
    public var batchSize: BatchSize = .automatic

    public init() {}

    /// What happened to one input.
    public enum Progress: Sendable {
        case done(index: Int, count: Int, name: String)
        case failed(name: String, error: any Error)
    }

    /// Runs the inputs, ``batchSize`` per forward pass (`prepare` turns a name into an input), and
    /// builds the files.
    /// - Throws: ``SessionError/noResult(analysis:layer:)`` when no input could be analysed.
    /// - Returns: the product and the names of the inputs that failed.
    public func run(_ session: AnalysisSession, inputs names: [String], prepare: (String) throws -> AnalysisInput,
                    progress: (Progress) -> Void = { _ in }) throws -> (product: AnalysisProduct, failed: [String]) {
        // Each image gets its own observers (a batch interleaves images layer by layer); the means
        // over images are taken here, in input order, from each image's float32 values.
        var distanceSums: [Double] = [], entropySums: [Double] = []
        var perImage: [Float] = []
        var geometry: (layers: Int, heads: Int)?
        var used: [String] = [], failures: [ImageBatch.Failure] = []
        var provenance = session.provenance()
        let renormalize = self.renormalize
        var start = 0
        while start < names.count {
            let chunk = start ..< min(names.count, start + batchSize.chunk)
            var prepared: [(index: Int, input: AnalysisInput)] = []
            var errors: [Int: any Error] = [:]
            for i in chunk {
                do { prepared.append((i, try prepare(names[i]))) } catch { errors[i] = error }
            }
            let passes = session.run(prepared.map(\.input), batchSize: batchSize) { _ in
                ObserverPair(MeanAttentionDistance(renormalize: renormalize), AttentionEntropy(queries: .patches))
            }
            var done: [Int: (input: AnalysisInput, distance: LayerHeadStatistics, entropy: LayerHeadStatistics)] = [:]
            for (item, pass) in zip(prepared, passes) {
                do {
                    let pair = try pass.get().observer
                    guard let distance = pair.first.result, let entropy = pair.second.result else {
                        throw SessionError.noResult(analysis: "distance", layer: nil)
                    }
                    if let g = geometry, g != (distance.layers, distance.heads) {
                        throw AnalysisError.geometryMismatch(analysis: "mean attention distance", expected: "\(g.layers) layers x \(g.heads) heads",
                                                             found: "\(distance.layers) layers x \(distance.heads) heads")
                    }
                    done[item.index] = (item.input, distance, entropy)
                } catch { errors[item.index] = error }
            }
            for i in chunk {
                if let (input, distance, entropy) = done[i] {
                    if geometry == nil {
                        geometry = (distance.layers, distance.heads)
                        distanceSums = [Double](repeating: 0, count: distance.mean.count)
                        entropySums = distanceSums
                    }
                    for k in distanceSums.indices {
                        distanceSums[k] += Double(distance.mean.values[k])
                        entropySums[k] += Double(entropy.mean.values[k])
                    }
                    perImage += distance.mean.values
                    used.append(input.name)
                    provenance = session.provenance(for: input)
                    progress(.done(index: i, count: names.count, name: names[i]))
                } else if let error = errors[i] {
                    failures.append(ImageBatch.Failure(file: names[i], error: error))
                    progress(.failed(name: names[i], error: error))
                }
            }
            start = chunk.upperBound
        }
        guard let g = geometry, !used.isEmpty else {
            throw SessionError.noResult(analysis: "distance (no input could be analysed, \(failures.count) failed)", layer: nil)
        }
        let count = Double(used.count)
        let distances = LayerHeadValues(layers: g.layers, heads: g.heads, mean: Tensor(shape: [g.layers, g.heads], values: distanceSums.map { Float($0 / count) }),
                                        perImage: Tensor(shape: [used.count, g.layers, g.heads], values: perImage))
        let entropies = LayerHeadValues(layers: g.layers, heads: g.heads, mean: Tensor(shape: [g.layers, g.heads], values: entropySums.map { Float($0 / count) }),
                                        perImage: Tensor(shape: [0], values: []))
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

    /// Means over images `[layers, heads]` and the per-image values `[images, layers, heads]`.
    struct LayerHeadValues {
        var layers: Int
        var heads: Int
        var mean: Tensor
        var perImage: Tensor
        func value(layer: Int, head: Int) -> Float { mean[layer, head] }
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
