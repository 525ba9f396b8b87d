import Foundation

/// One layer's per-head attention of a query (CLS by default): arrays, heatmaps and DINO masks for
/// images; the layer's token-to-token matrices for text. What `vitlens heads` writes.
public struct HeadsJob: BatchableJob, Sendable {
    /// Layer, 0-based; negative counts from the end.
    public var layer = -1
    public var query = QuerySpec.automatic
    /// DINO mask mass fraction in (0, 1].
    public var threshold = 0.6
    /// Fusion for the combined map.
    public var fusion = HeadFusion.mean
    public var style = RenderStyle()

    public init() {}

    /// Runs the forward pass and builds the files.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        if let encoding = input.encoding {
            let l = try input.layerIndex(layer)
            let q = try query.resolve(in: input.layout, input: input.name)
            let index = try q.index(in: input.layout)
            var fields = Fields(input: input.name, layer: l, query: q.description, layout: LayoutRecord(input.layout))
            var product = AnalysisProduct()
            try text(session, input, encoding: encoding, layer: l, query: index, into: &product)
            fields.tokens = encoding.tokens
            product.add("heads.json", .json(Metadata(session.provenance(for: input), fields)))
            return product
        }
        var maps = try observer(for: input)
        let output = try session.run(input, observer: &maps)
        return try product(session, input, observer: maps, output: output)
    }

    /// The per-head map observer for an image input (layer and query checked against its layout).
    public func observer(for input: AnalysisInput) throws -> HeadMaps {
        let l = try input.layerIndex(layer)
        let q = try query.resolve(in: input.layout, input: input.name)
        _ = try q.index(in: input.layout, layer: l)
        return HeadMaps(layer: l, query: q)
    }

    /// The image files (arrays, head pictures, masks, `heads.json`) from finished head maps.
    public func product(_ session: AnalysisSession, _ input: AnalysisInput, observer maps: HeadMaps, output: ForwardOutput) throws -> AnalysisProduct {
        let l = maps.layer
        let q = maps.query
        var fields = Fields(input: input.name, layer: l, query: q.description, layout: LayoutRecord(input.layout))
        var product = AnalysisProduct()
        guard let result = maps.result else { throw SessionError.noResult(analysis: "heads", layer: l) }
        try fusion.validate(heads: result.heads)
        let stack = result.maps  // [heads, gh, gw]
        let masks = try result.masks(threshold: threshold)
        let arrayName = q == .cls ? "cls_attention.npy" : "query_attention.npy"
        product.add(arrayName, .array(stack))
        product.add("masks.npy", .bytes(NPY.encode(uint8: masks.values, shape: masks.shape)))
        var tiles: [Mosaic.Tile] = [], maskTiles: [Mosaic.Tile] = []
        let plane = stack.count / result.heads
        for h in 0 ..< result.heads {
            let pic = try style.picture(stack.slice(h), canvas: input.canvas, title: "head \(h)")
            product.add(String(format: "head_%02d.png", h), .png(pic))
            tiles.append(Mosaic.Tile(pic, caption: "head \(h)"))
            let mask = Tensor(shape: Array(masks.shape.dropFirst()), values: masks.values[(h * plane) ..< ((h + 1) * plane)].map(Float.init))
            maskTiles.append(Mosaic.Tile(try style.maskPicture(mask, canvas: input.canvas),
                                         caption: String(format: "head %d: %.0f%%", h, 100 * masks.keptMass[h])))
        }
        let fusedPic = try style.picture(try result.fused(fusion), canvas: input.canvas, title: fusion.description)
        product.add("\(fusion.description).png", .png(fusedPic))
        tiles.append(Mosaic.Tile(fusedPic, caption: fusion.description))
        product.add("heads.png", .png(try Mosaic(tiles: tiles, title: "layer \(l), query \(q)").render()))
        product.add("masks.png", .png(try Mosaic(tiles: maskTiles, title: "DINO masks, t = \(threshold)").render()))
        fields.threshold = threshold
        fields.keptMass = masks.keptMass
        fields.fusion = fusion.description
        fields.files = [arrayName: stack.shape, "masks.npy": masks.shape]
        product.add("heads.json", .json(Metadata(session.provenance(for: input), fields)))
        return product
    }

    /// Text: the layer's `[heads, T, T]`, the query token's rows, one labelled matrix per head.
    private func text(_ session: AnalysisSession, _ input: AnalysisInput, encoding: TextEncoding, layer l: Int, query q: Int,
                      into product: inout AnalysisProduct) throws {
        var recorder = AttentionRecorder()
        try session.run(input, observer: &recorder)
        let layerAttention = recorder.attentions.slice(l)  // [heads, T, T]
        let heads = layerAttention.shape[0], t = layerAttention.shape[1]
        try fusion.validate(heads: heads)
        var rows = [Float]()
        for h in 0 ..< heads { rows += layerAttention.values[((h * t + q) * t) ..< ((h * t + q + 1) * t)] }
        product.add("token_attention.npy", .array(Tensor(shape: [heads, t], values: rows)))
        product.add("layer_attention.npy", .array(layerAttention))
        product.add("tokens.json", .json(encoding.tokens))
        // Matrices small enough that the mosaic of heads + 1 fits the canvas limit unscaled (labels stay sharp).
        let side = Mosaic.largestTileSide(count: heads + 1)
        var tiles: [Mosaic.Tile] = []
        for (title, matrix) in (0 ..< heads).map({ ("head \($0)", layerAttention.slice($0)) }) + [(fusion.description, try fusion.fuse(layerAttention))] {
            var m = TokenMatrix(tokens: encoding.tokens, matrix: matrix, colormap: style.colormap, normalization: style.normalization, title: title)
            m.maxSide = side
            tiles.append(Mosaic.Tile(try m.render(), caption: title))
        }
        product.add("heads.png", .png(try Mosaic(tiles: tiles, title: "layer \(l): rows = queries, columns = keys").render()))
        product.summary.append("layer \(l), query token \(q) '\(encoding.tokens[q])': most attended tokens per head")
        for h in 0 ..< heads {
            let r = Array(rows[(h * t) ..< ((h + 1) * t)])
            let top = r.indices.sorted { r[$0] > r[$1] }.prefix(3).map { "\(encoding.tokens[$0]) " + String(format: "%.2f", r[$0]) }
            product.summary.append("  head \(h): " + top.joined(separator: ", "))
        }
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layer: Int
        var query: String
        var layout: LayoutRecord
        var threshold: Double?
        var keptMass: [Double]?
        var fusion: String?
        var files: [String: [Int]]?
        var tokens: [String]?

        enum CodingKeys: String, CodingKey {
            case input, layer, query, layout, threshold, keptMass = "kept_mass", fusion, files, tokens
        }
    }
}
