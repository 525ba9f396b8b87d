import ArgumentParser
import Foundation
import ViTLens

/// `vitlens heads`: one layer's per-head attention of a query (CLS by default), as arrays,
/// heatmaps and DINO threshold masks.
struct HeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Per-head attention maps of one layer (default: the last) for CLS or any query, with DINO masks.",
        discussion: """
        Images write cls_attention.npy float32 [heads,gh,gw] (raw CLS-to-patch probabilities; \
        query_attention.npy for other queries), masks.npy uint8 [heads,gh,gw] (per head the smallest set \
        of patches holding a fraction --threshold of that head's patch mass, as in the DINO paper), \
        head_NN.png overlays, the fused map (mean.png by default), heads.png (all in one mosaic), \
        masks.png and heads.json. Text (--text) writes token_attention.npy [heads,T] for the query token, \
        layer_attention.npy [heads,T,T], tokens.json and heads.png (one T x T matrix per head).
        """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String
    @Option(help: "Layer to show, 0-based; negative counts from the end (-1 = last).") var layer = -1
    @Option(help: "DINO mask mass fraction t in (0, 1].") var threshold = 0.6
    @Option(help: ArgumentHelp("Fusion for the combined map: mean, max, min, std or headN.", valueName: "fusion"))
    var headFusion = "mean"
    @OptionGroup var queryOptions: QueryOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var compute: ComputeOptions
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        try input.validate(allowText: true, allowMany: false)
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], got \(threshold)") }
        _ = try parseFusion(headFusion)
    }

    func run() throws {
        compute.apply()
        let output = try OutputDirectory(out, command: Self.configuration.commandName ?? "", inputs: input.inputPaths)
        let loader = try InputLoader(input)
        let source = try loader.single()
        let layout = source.layout
        let l = try source.layerIndex(layer)
        let query = try queryOptions.tokenQuery(layout: layout, input: source.name)
        _ = try query.index(in: layout)
        let fusion = try parseFusion(headFusion)
        var meta = loader.provenance()
        meta["input"] = source.name
        meta["layer"] = l
        meta["query"] = query.description
        meta["layout"] = layoutJSON(layout)

        if layout.grid == nil {
            try text(source, layer: l, query: query, fusion: fusion, output: output, meta: &meta)
        } else {
            var maps = HeadMaps(layer: l, query: query)
            try source.feed(&maps)
            guard let result = maps.result else { throw CommandError("no attention was delivered for layer \(l)") }
            try fusion.validate(heads: result.heads)
            let stack = result.maps  // [heads, gh, gw]
            let masks = try result.masks(threshold: threshold)
            try output.npy(stack, query == .cls ? "cls_attention.npy" : "query_attention.npy")
            try output.write(NPY.encode(uint8: masks.values, shape: masks.shape), "masks.npy")
            var tiles: [Mosaic.Tile] = []
            var maskTiles: [Mosaic.Tile] = []
            for h in 0 ..< result.heads {
                let pic = try render.picture(stack.slice(h), canvas: source.canvas, title: "head \(h)")
                try output.png(pic, String(format: "head_%02d.png", h))
                tiles.append(Mosaic.Tile(pic, caption: "head \(h)"))
                let m = Tensor(shape: Array(masks.shape.dropFirst()), values: masks.values[(h * stack.count / result.heads) ..< ((h + 1) * stack.count / result.heads)].map(Float.init))
                let maskPic = try maskPicture(m, canvas: source.canvas)
                maskTiles.append(Mosaic.Tile(maskPic, caption: String(format: "head %d: %.0f%%", h, 100 * masks.keptMass[h])))
            }
            let fused = try result.fused(fusion)
            let fusedPic = try render.picture(fused, canvas: source.canvas, title: fusion.description)
            try output.png(fusedPic, "\(fusion.description).png")
            tiles.append(Mosaic.Tile(fusedPic, caption: fusion.description))
            try output.png(try Mosaic(tiles: tiles, title: "layer \(l), query \(query)").render(), "heads.png")
            try output.png(try Mosaic(tiles: maskTiles, title: "DINO masks, t = \(threshold)").render(), "masks.png")
            meta["threshold"] = threshold
            meta["kept_mass"] = masks.keptMass
            meta["fusion"] = fusion.description
            meta["files"] = ["\(query == .cls ? "cls_attention" : "query_attention").npy": stack.shape, "masks.npy": masks.shape]
        }
        try output.json(meta, "heads.json")
        try output.commit()
        if !quiet { print("wrote \(output.written.count) files to \(output.url.path)") }
    }

    private func maskPicture(_ mask: Tensor, canvas: RGBImage?) throws -> RGBImage {
        let overlay = Overlay(colormap: render.colormap, blend: .proportional(alpha: 0.6))
        if let canvas { return try overlay.render(mask, on: canvas, normalization: .fixed(low: 0, high: 1), upsampling: .nearest).image }
        return try render.picture(mask, canvas: nil, title: "mask")
    }

    private func text(_ source: AttentionInput, layer l: Int, query: TokenQuery, fusion: HeadFusion,
                      output: OutputDirectory, meta: inout [String: Any]) throws {
        guard case .text(_, let encoding) = source else { throw CommandError("text layout without text input") }
        var recorder = AttentionRecorder()
        try source.feed(&recorder)
        let layerAttention = recorder.attentions.slice(l)  // [heads, T, T]
        let heads = layerAttention.shape[0], t = layerAttention.shape[1]
        try fusion.validate(heads: heads)
        let q = try query.index(in: source.layout)
        var rows = [Float]()
        for h in 0 ..< heads { rows += layerAttention.values[((h * t + q) * t) ..< ((h * t + q + 1) * t)] }
        try output.npy(Tensor(shape: [heads, t], values: rows), "token_attention.npy")
        try output.npy(layerAttention, "layer_attention.npy")
        try output.json(encoding.tokens, "tokens.json")
        var tiles: [Mosaic.Tile] = []
        // Matrices small enough that the mosaic of heads + 1 fits the canvas limit unscaled (labels stay sharp).
        let side = Mosaic.largestTileSide(count: heads + 1)
        for h in 0 ..< heads {
            var m = TokenMatrix(tokens: encoding.tokens, matrix: layerAttention.slice(h), colormap: render.colormap,
                                normalization: try render.normalization(), title: "head \(h)")
            m.maxSide = side
            tiles.append(Mosaic.Tile(try m.render(), caption: "head \(h)"))
        }
        let fused = try fusion.fuse(layerAttention)
        var fm = TokenMatrix(tokens: encoding.tokens, matrix: fused, colormap: render.colormap,
                             normalization: try render.normalization(), title: fusion.description)
        fm.maxSide = side
        tiles.append(Mosaic.Tile(try fm.render(), caption: fusion.description))
        try output.png(try Mosaic(tiles: tiles, title: "layer \(l): rows = queries, columns = keys").render(), "heads.png")
        meta["tokens"] = encoding.tokens
        if !quiet {
            print("layer \(l), query token \(q) '\(encoding.tokens[q])': most attended tokens per head")
            for h in 0 ..< heads {
                let r = Array(rows[(h * t) ..< ((h + 1) * t)])
                let top = r.indices.sorted { r[$0] > r[$1] }.prefix(3).map { "\(encoding.tokens[$0]) " + String(format: "%.2f", r[$0]) }
                print("  head \(h): " + top.joined(separator: ", "))
            }
        }
    }
}
