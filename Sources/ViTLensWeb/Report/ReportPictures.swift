import Foundation
import ViTLens

extension RenderStyle {
    /// The map alone in colormap colours at `height x width` (no photo, no colour bar).
    ///
    /// The same steps as ``Overlay/render(_:on:normalization:upsampling:)`` before the blend:
    /// normalise on the grid, upsample, colour. The page lays the picture over the model input with
    /// CSS opacity ``alpha``, which is the overlay's constant blend `(1 - alpha) * photo + alpha * colour`;
    /// flat colour blocks keep the PNGs small.
    /// - Throws: `RenderError` for a non-finite or mis-shaped map.
    func heatPicture(_ map: Tensor, height: Int, width: Int) throws -> ReportPicture {
        try RenderError.requireFinite(map.values, what: "map \(map.shape)")
        let normalized = try normalization.apply(map)
        let big = try upsampling.apply(normalized.values, height: height, width: width)
        return ReportPicture(png: try ImageIO.encodePNG(try colormap.image(big)), low: normalized.low, high: normalized.high)
    }

    /// A `T x T` (or any rank-2) matrix in colormap colours, one pixel per cell (the page scales it up
    /// without smoothing).
    func matrixPicture(_ matrix: Tensor) throws -> ReportPicture {
        try RenderError.requireFinite(matrix.values, what: "matrix \(matrix.shape)")
        let normalized = try normalization.apply(matrix)
        return ReportPicture(png: try ImageIO.encodePNG(try colormap.image(normalized.values)), low: normalized.low, high: normalized.high)
    }
}

enum MaskPicture {
    /// A 0/1 mask `[rows, columns]` at `height x width`, white where kept and black elsewhere (the page
    /// multiplies it over the photo, dimming the dropped patches).
    static func png(_ mask: ArraySlice<UInt8>, rows: Int, columns: Int, height: Int, width: Int) throws -> Data {
        let values = Tensor(shape: [rows, columns], values: mask.map(Float.init))
        let big = try Upsampling.nearest.apply(values, height: height, width: width)
        var pixels = [UInt8](repeating: 0, count: 3 * height * width)
        for (i, v) in big.values.enumerated() where v >= 0.5 {
            (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (255, 255, 255)
        }
        return try ImageIO.encodePNG(RGBImage(width: width, height: height, pixels: pixels))
    }
}
