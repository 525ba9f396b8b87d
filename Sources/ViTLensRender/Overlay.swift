import ViTLensCore

/// How strongly the coloured map covers the photo at each pixel.
public enum OverlayBlend: Sendable, Equatable, Hashable {
    /// The same weight `alpha` everywhere: `out = (1 - alpha) * image + alpha * colour`
    /// (pytorch-grad-cam's `show_cam_on_image` with `image_weight = 1 - alpha`, without its final
    /// division by the maximum, which brightens the whole picture).
    case constant(alpha: Float = 0.5)
    /// The map value is the weight: `w = alpha * m`, so low-attention regions show the photo
    /// untouched (the ViT paper's and DINO's mask-style figures).
    case proportional(alpha: Float = 1)

    /// The `alpha` parameter of either case.
    public var alpha: Float {
        switch self {
        case .constant(let a), .proportional(let a): return a
        }
    }
}

/// Blends a colour-mapped map onto a photo of the same size.
///
/// For each pixel with normalised map value `m` (clamped to `[0, 1]`) and photo channel `I`, the
/// colour `C = colormap(m)` is mixed in with weight `w` (see ``OverlayBlend``):
///
///     out = round_half_up((1 - w) * I + w * C)       (computed in Float, then clamped to 0...255)
///
/// A NaN map value leaves the photo pixel unchanged (matplotlib's "bad" colour is transparent).
public struct Overlay: Sendable, Equatable {
    /// The colormap applied to the normalised map.
    public var colormap: Colormap
    /// The blend weight rule.
    public var blend: OverlayBlend

    /// An overlay rule; the defaults are viridis at 50 % opacity.
    public init(colormap: Colormap = .default, blend: OverlayBlend = .constant()) {
        self.colormap = colormap
        self.blend = blend
    }

    /// Blends `map` (`[image.height, image.width]`, values in `[0, 1]`) onto `image`.
    /// - Throws: ``RenderError`` when the map is not rank 2 or its size differs from the image's,
    ///   or `alpha` is outside `[0, 1]`.
    public func apply(_ map: Tensor, on image: RGBImage) throws -> RGBImage {
        let (rows, columns) = try map.gridSize("map")
        guard rows == image.height, columns == image.width else {
            throw RenderError.sizeMismatch(what: "overlay map", expected: "\(image.height)x\(image.width) (the image)", found: "\(rows)x\(columns)")
        }
        let alpha = blend.alpha
        guard alpha >= 0, alpha <= 1 else {
            throw RenderError.invalidParameter(name: "overlay alpha", value: "\(alpha)", reason: "must be in [0, 1]")
        }
        let proportional: Bool
        if case .proportional = blend { proportional = true } else { proportional = false }
        let lut = colormap.table
        var pixels = image.pixels
        map.values.withUnsafeBufferPointer { m in
            lut.withUnsafeBufferPointer { lut in
                pixels.withUnsafeMutableBufferPointer { px in
                    for i in 0 ..< m.count {
                        let v = m[i]
                        guard let k = Colormap.index(v) else { continue }
                        let w = proportional ? alpha * Swift.min(Swift.max(v, 0), 1) : alpha
                        for c in 0 ..< 3 {
                            let mixed = (1 - w) * Float(px[3 * i + c]) + w * Float(lut[3 * k + c])
                            px[3 * i + c] = UInt8(Swift.min(Swift.max((mixed + 0.5).rounded(.down), 0), 255))
                        }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// The whole recipe from a patch-grid map: normalise, resize to the photo, blend.
    ///
    /// - Parameters:
    ///   - grid: the map on the patch grid, `[rows, columns]`, raw values.
    ///   - image: the photo (already at the model's input size, or any size: the map is resized to it).
    ///   - normalization: how raw values become `[0, 1]`; normalisation happens on the grid, before resizing.
    ///   - upsampling: how the grid becomes pixels.
    /// - Returns: the blended picture and the `(low, high)` range for a ``ColorBar``.
    /// - Throws: ``RenderError`` for bad shapes or parameters, or a NaN or infinity in `grid`
    ///   (unlike ``apply(_:on:)``, which leaves NaN pixels transparent as matplotlib does).
    public func render(
        _ grid: Tensor, on image: RGBImage, normalization: MapNormalization = .minMax, upsampling: Upsampling = .bilinear
    ) throws -> (image: RGBImage, low: Float, high: Float) {
        try RenderError.requireFinite(grid.values, what: "map \(grid.shape)")
        let normalized = try normalization.apply(grid)
        let resized = try upsampling.apply(normalized.values, height: image.height, width: image.width)
        return (try apply(resized, on: image), normalized.low, normalized.high)
    }
}
