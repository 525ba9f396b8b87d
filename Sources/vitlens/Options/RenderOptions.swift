import ArgumentParser
import ViTLens

extension Colormap: ExpressibleByArgument {}

/// How maps become pictures.
struct RenderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Colormap: \(Colormap.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var colormap: Colormap = .viridis

    @Option(help: ArgumentHelp("Map scaling for display: max (divide by the max), minmax, or pNN (clip at the NN-th percentile). Saved .npy values are never rescaled.", valueName: "max|minmax|pNN"))
    var normalize = "max"

    @Option(help: ArgumentHelp("Upsampling to image size: nearest (patch-faithful, as DINO) or bilinear.", valueName: "nearest|bilinear"))
    var upsample = "nearest"

    @Option(help: "Overlay weight of the heatmap over the photo, in [0, 1].")
    var alpha: Float = 0.5

    func validate() throws {
        _ = try normalization()
        _ = try upsampling()
        guard (0 ... 1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1]") }
    }

    func normalization() throws -> MapNormalization {
        switch normalize {
        case "max": return .max
        case "minmax": return .minMax
        default:
            if normalize.hasPrefix("p"), let p = Float(normalize.dropFirst()), p > 0, p <= 100 { return .percentile(p) }
            throw ValidationError("--normalize must be max, minmax or pNN with 0 < NN <= 100, got '\(normalize)'")
        }
    }

    func upsampling() throws -> Upsampling {
        switch upsample {
        case "nearest": return .nearest
        case "bilinear": return .bilinear
        default: throw ValidationError("--upsample must be nearest or bilinear, got '\(upsample)'")
        }
    }

    /// The map `[rows, cols]` over `canvas` with a colour bar; a labelled list (``TokenStrip``)
    /// when `tokens` name the entries of a `[T]` map (text); else a plain colour-mapped grid
    /// (4 to 24 px per cell). Every picture stays within ``CanvasLimit``: a canvas too large for
    /// it is box-downsampled first, and cells shrink (down to 1 px) for large grids.
    func picture(_ map: Tensor, canvas: RGBImage?, title: String, tokens: [String]? = nil) throws -> RGBImage {
        if let tokens, map.shape == [tokens.count] {
            return try TokenStrip(tokens: tokens, values: map.values, colormap: colormap, normalization: try normalization(),
                                  title: title).render()
        }
        /// Room kept for the colour bar when shrinking a picture to the canvas limit.
        let barRoom = 1024
        let overlay = Overlay(colormap: colormap, blend: .constant(alpha: alpha))
        if let canvas {
            let r = try overlay.render(map, on: canvas.shrunkToFit(reservingWidth: barRoom), normalization: try normalization(),
                                       upsampling: try upsampling())
            return try ColorBar(colormap: colormap, low: r.low, high: r.high, title: title).fitted(to: r.image)
        }
        let rows = map.shape.count == 2 ? map.shape[0] : 1
        let cols = map.shape.last ?? 1
        let cell = max(1, min(max(4, min(24, 480 / max(rows, cols))), (CanvasLimit.maxSide - barRoom) / max(rows, cols)))
        try RenderError.requireFinite(map.values, what: "map \(map.shape)")
        let norm = try normalization().apply(map.reshaped([rows, cols]))
        let big = try Upsampling.nearest.apply(norm.values, height: rows * cell, width: cols * cell)
        let image = try colormap.image(big)
        return try ColorBar(colormap: colormap, low: norm.low, high: norm.high, title: title).fitted(to: image)
    }
}
