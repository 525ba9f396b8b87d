import Foundation

/// Rollout, last-layer CLS heads with DINO masks and mean attention distance from ONE forward pass;
/// what `vitlens analyze` writes.
public struct AnalyzeJob: Sendable {
    /// DINO mask mass fraction in (0, 1].
    public var threshold = 0.6
    public var style = RenderStyle()

    public init() {}

    /// Runs the forward pass with the three analyses and builds the files.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        let start = DispatchTime.now().uptimeNanoseconds
        var observers = ObserverPair(ObserverPair(try Rollout(), HeadMaps(layer: -1, query: .cls)), MeanAttentionDistance())
        try session.run(input, observer: &observers)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard let rollout = observers.first.first.result, let heads = observers.first.second.result, let mad = observers.second.result
        else { throw SessionError.noResult(analysis: "analyze", layer: nil) }
        let masks = try heads.masks(threshold: threshold)
        var product = AnalysisProduct()
        product.add("rollout.npy", .array(rollout.map))
        product.add("cls_attention.npy", .array(heads.maps))
        product.add("masks.npy", .bytes(NPY.encode(uint8: masks.values, shape: masks.shape)))
        product.add("mean_attention_distance.npy", .array(mad.mean))
        product.add("rollout.png", .png(try style.picture(rollout.map, canvas: input.canvas, title: "rollout")))
        var tiles: [Mosaic.Tile] = []
        for h in 0 ..< heads.heads {
            tiles.append(Mosaic.Tile(try style.picture(heads.maps.slice(h), canvas: input.canvas, title: "head \(h)"), caption: "head \(h)"))
        }
        tiles.append(Mosaic.Tile(try style.picture(try heads.fused(.mean), canvas: input.canvas, title: "mean"), caption: "mean"))
        product.add("heads.png", .png(try Mosaic(tiles: tiles, title: "last layer, CLS query").render()))
        let fields = Fields(input: input.name, layout: LayoutRecord(input.layout), forwardAndAnalysesSeconds: seconds,
                            keptMass: masks.keptMass, threshold: threshold)
        product.add("analyze.json", .json(Metadata(session.provenance(for: input), fields)))
        product.summary.append(String(format: "forward + analyses: %.2f s, ", seconds) + "\(input.layout.tokenCount) tokens")
        return product
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layout: LayoutRecord
        var forwardAndAnalysesSeconds: Double
        var keptMass: [Double]
        var threshold: Double

        enum CodingKeys: String, CodingKey {
            case input, layout, forwardAndAnalysesSeconds = "forward_and_analyses_seconds", keptMass = "kept_mass", threshold
        }
    }
}
