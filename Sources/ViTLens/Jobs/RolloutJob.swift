import Foundation

/// Attention rollout with every variant named (Abnar & Zuidema 2020); what `vitlens rollout` writes.
public struct RolloutJob: BatchableJob, Sendable {
    /// Head fusion, discard, residual and layer range (the readout is set from ``query`` or ``meanOfPatches``).
    public var options = Rollout.Options()
    public var query = QuerySpec.automatic
    /// Read out the mean of the patch rows instead of a query row.
    public var meanOfPatches = false
    public var style = RenderStyle()
    /// The names the metadata records for the residual and discard mode (the CLI's spellings).
    public var residualName = "identity", discardModeName = "per-row"

    public init() {}

    /// Runs the forward pass and builds `rollout.npy`, `rollout.png` and `rollout.json`.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        var rollout = try observer(for: input)
        let output = try session.run(input, observer: &rollout)
        return try product(session, input, observer: rollout, output: output)
    }

    /// The rollout observer for `input`, its layer range and readout checked against the input.
    public func observer(for input: AnalysisInput) throws -> Rollout {
        _ = try input.layerIndex(options.firstLayer, option: "--first-layer")
        _ = try input.layerIndex(options.lastLayer, option: "--last-layer")
        var options = self.options
        options.readout = meanOfPatches ? .meanOfPatches : .query(try query.resolve(in: input.layout, input: input.name))
        return try Rollout(options)
    }

    /// `rollout.npy`, `rollout.png` and `rollout.json` from a finished rollout.
    public func product(_ session: AnalysisSession, _ input: AnalysisInput, observer rollout: Rollout, output: ForwardOutput) throws -> AnalysisProduct {
        let options = rollout.options
        guard let result = rollout.result else { throw SessionError.noResult(analysis: "rollout", layer: nil) }
        let patchMass = Double(result.map.values.reduce(0, +))
        var product = AnalysisProduct()
        product.add("rollout.npy", .array(result.map))
        product.add("rollout.png", .png(try style.picture(result.map, canvas: input.canvas, title: "rollout", tokens: input.encoding?.tokens)))
        let fields = Fields(input: input.name, layout: LayoutRecord(input.layout), layers: [result.layers.lowerBound, result.layers.upperBound],
                            readout: options.readout.description, headFusion: options.fusion.description, discardRatio: options.discardRatio,
                            discardMode: discardModeName, residual: residualName, clsMass: result.clsMass.map(Double.init),
                            prefixMass: Double(result.prefixMass), patchMass: patchMass, files: ["rollout.npy": result.map.shape])
        product.add("rollout.json", .json(Metadata(session.provenance(for: input), fields)))
        product.summary.append("rollout over layers \(result.layers.lowerBound)...\(result.layers.upperBound): patch mass "
            + String(format: "%.4f", patchMass))
        return product
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layout: LayoutRecord
        var layers: [Int]
        var readout: String
        var headFusion: String
        var discardRatio: Double
        var discardMode: String
        var residual: String
        /// Written as `null` for layouts without CLS.
        var clsMass: Double?
        var prefixMass: Double
        var patchMass: Double
        var files: [String: [Int]]

        enum CodingKeys: String, CodingKey {
            case input, layout, layers, readout, headFusion = "head_fusion", discardRatio = "discard_ratio", discardMode = "discard_mode"
            case residual, clsMass = "cls_mass", prefixMass = "prefix_mass", patchMass = "patch_mass", files
        }

        func encode(to encoder: any Swift.Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(layout, forKey: .layout)
            try c.encode(layers, forKey: .layers)
            try c.encode(readout, forKey: .readout)
            try c.encode(headFusion, forKey: .headFusion)
            try c.encode(discardRatio, forKey: .discardRatio)
            try c.encode(discardMode, forKey: .discardMode)
            try c.encode(residual, forKey: .residual)
            try c.encode(clsMass, forKey: .clsMass)  // null when absent, as before
            try c.encode(prefixMass, forKey: .prefixMass)
            try c.encode(patchMass, forKey: .patchMass)
            try c.encode(files, forKey: .files)
        }
    }
}
