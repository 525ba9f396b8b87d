import Foundation
import ViTLensCore

/// Hugging Face's slow (PIL backend) image processors, reproduced exactly: resize, center crop,
/// rescale, normalise.
///
/// Mirrors transformers 5.23 `PilBackend._preprocess` (`image_processing_backends.py`) with
/// `image_transforms.py`:
/// 1. Resize with Pillow (``PillowResize``) to the size from ``ImageProcessorConfig/size``:
///    - `exact(h, w)`: `(h, w)`.
///    - `shortestEdge(s)`: `short' = s`, `long' = Int(Double(s * long) / Double(short))` (truncation),
///      so 512 x 600 at 256 gives 256 x 300 (`get_resize_output_image_size`, `default_to_square=False`).
///    - `shortestEdgeCapped(s, l)`: `get_size_with_aspect_ratio`, Python's half-to-even `round` included.
/// 2. Center crop (`image_transforms.center_crop`): `top = (H - h) // 2`, `left = (W - w) // 2`
///    (floor: an odd surplus leaves the extra row at the bottom / column at the right). When the
///    image is smaller than the crop in a dimension, it is padded with zeros (black) to the crop
///    size, placed at offset `ceil((h - H) / 2)`: the extra padding row goes on **top** (left), the
///    opposite of torchvision's `center_crop`.
/// 3. Rescale (`image_transforms.rescale`): `Float(Double(u8) * rescale_factor)`: multiplied in
///    float64, then rounded to float32.
/// 4. Normalise (`image_transforms.normalize`): `(x - Float(mean[c])) / Float(std[c])` in float32.
///
/// Steps 1-2 work on uint8 and are exact; steps 3-4 are the same IEEE operations as NumPy's, so the
/// float32 output matches bit for bit. Inputs are already RGB, so `do_convert_rgb` has nothing to do
/// (transformers composites RGBA onto white there; decode with ``ImageIO``, which drops alpha like
/// Pillow's `convert("RGB")`, and pass the same RGB image to both sides).
public struct ImageProcessor: Sendable {
    /// The configuration in use.
    public var config: ImageProcessorConfig

    /// A processor with `config`.
    public init(config: ImageProcessorConfig) {
        self.config = config
    }

    /// Reads a `preprocessor_config.json`.
    /// - Throws: ``ImageError`` naming the file: `.fileNotFound`, `.corrupt` (invalid JSON, a field
    ///   of the wrong type) or `.unsupported` (unknown processor type, filter or size form).
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try UserFile.read(file) } catch { throw ImageError.file(file, error) }
        config = try ImageProcessorConfig(jsonData: data, file: file)
    }

    /// Resize (+ center crop) stage in uint8, exactly like the HF slow processor before rescale.
    ///
    /// `size` overrides: resize straight to `(height, width)` with the processor's resample filter
    /// and no crop (for models run at a resolution other than their processor's).
    /// - Parameters:
    ///   - image: The RGB input.
    ///   - size: An optional output size that replaces resize and crop.
    /// - Returns: The image that rescaling and normalisation start from.
    public func prepare(_ image: RGBImage, size: (height: Int, width: Int)? = nil) -> RGBImage {
        if let size {
            return PillowResize.resize(image, width: size.width, height: size.height, filter: config.resample)
        }
        var result = image
        if config.doResize {
            let (h, w) = Self.resizeTarget(height: image.height, width: image.width, size: config.size)
            result = PillowResize.resize(result, width: w, height: h, filter: config.resample)
        }
        if config.doCenterCrop {
            result = Self.centerCrop(result, height: config.cropHeight, width: config.cropWidth, placement: config.cropPlacement)
        }
        if let n = config.cropToMultipleOf, n > 0, result.height >= n, result.width >= n,
           result.height % n != 0 || result.width % n != 0 {
            result = Self.topLeftCrop(result, height: result.height - result.height % n, width: result.width - result.width % n)
        }
        return result
    }

    /// The top-left `height x width` pixels of `image` (at most its size).
    static func topLeftCrop(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
        let rows = min(height, image.height), columns = min(width, image.width)
        var out = [UInt8](repeating: 0, count: rows * columns * 3)
        for y in 0 ..< rows {
            let from = y * image.width * 3
            out.replaceSubrange(y * columns * 3 ..< (y + 1) * columns * 3, with: image.pixels[from ..< from + columns * 3])
        }
        return RGBImage(width: columns, height: rows, pixels: out)
    }

    /// The size ``prepare(_:size:)`` gives an image of `height x width`, computed without resizing
    /// (for checking it against ``Limits/maxInputSide`` before any allocation).
    public func outputSize(height: Int, width: Int, size: (height: Int, width: Int)? = nil) -> (height: Int, width: Int) {
        if let size { return size }
        var result = (height: height, width: width)
        if config.doResize { result = Self.resizeTarget(height: height, width: width, size: config.size) }
        if config.doCenterCrop { result = (config.cropHeight, config.cropWidth) }
        if let n = config.cropToMultipleOf, n > 0, result.height >= n, result.width >= n {
            result = (result.height - result.height % n, result.width - result.width % n)
        }
        return result
    }

    /// Full pipeline -> `pixel_values` float32 `[3, H, W]` (channels first), as HF's slow processor.
    /// - Parameters:
    ///   - image: The RGB input.
    ///   - size: An optional output size that replaces resize and crop (see ``prepare(_:size:)``).
    /// - Returns: `[3, H, W]`.
    public func pixelValues(_ image: RGBImage, size: (height: Int, width: Int)? = nil) -> Tensor {
        normalize(prepare(image, size: size))
    }

    /// Rescale + normalise an already prepared image -> `[3, H, W]`.
    ///
    /// `v = Float(Double(u8) * rescaleFactor)` (when `do_rescale`), then
    /// `(v - Float(mean[c])) / Float(std[c])` (when `do_normalize`).
    public func normalize(_ prepared: RGBImage) -> Tensor {
        let plane = prepared.width * prepared.height
        var values = [Float](repeating: 0, count: 3 * plane)
        // One table per channel: the output depends only on the byte value.
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0 ..< 3 {
            let mean = Float(config.imageMean[c]), std = Float(config.imageStd[c])
            for v in 0 ..< 256 {
                var x = config.doRescale ? Float(Double(v) * config.rescaleFactor) : Float(v)
                if config.doNormalize { x = (x - mean) / std }
                table[c * 256 + v] = x
            }
        }
        prepared.pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                table.withUnsafeBufferPointer { t in
                    for i in 0 ..< plane {
                        dst[i] = t[Int(src[3 * i])]
                        dst[plane + i] = t[256 + Int(src[3 * i + 1])]
                        dst[2 * plane + i] = t[512 + Int(src[3 * i + 2])]
                    }
                }
            }
        }
        return Tensor(shape: [3, prepared.height, prepared.width], values: values)
    }

    // MARK: - Geometry

    /// The `(height, width)` transformers resizes an `height x width` image to for `size`.
    public static func resizeTarget(height: Int, width: Int, size: ImageProcessorConfig.Size) -> (height: Int, width: Int) {
        switch size {
        case .exact(let h, let w):
            return (h, w)
        case .shortestEdge(let s):
            // get_resize_output_image_size(default_to_square=False): int(s * long / short).
            let (short, long) = width <= height ? (width, height) : (height, width)
            let newLong = Int(Double(s * long) / Double(short))
            return width <= height ? (newLong, s) : (s, newLong)
        case .shortestEdgeCapped(var s, let maxSize):
            // get_size_with_aspect_ratio(image_size, size, max_size).
            let minOriginal = Double(min(height, width)), maxOriginal = Double(max(height, width))
            var raw: Double?
            if maxOriginal / minOriginal * Double(s) > Double(maxSize) {
                let r = Double(maxSize) * minOriginal / maxOriginal
                raw = r
                s = Int(r.rounded(.toNearestOrEven))
            }
            if (height <= width && height == s) || (width <= height && width == s) {
                return (height, width)
            }
            if width < height {
                let oh = raw.map { Int($0 * Double(height) / Double(width)) } ?? Int(Double(s * height) / Double(width))
                return (oh, s)
            }
            let ow = raw.map { Int($0 * Double(width) / Double(height)) } ?? Int(Double(s * width) / Double(height))
            return (s, ow)
        }
    }

    /// transformers' NumPy `center_crop`: crop at `((H - h) // 2, (W - w) // 2)`, zero-padding first
    /// (image at offset `ceil((h - H) / 2)`) in a dimension where the image is smaller than the crop.
    /// `placement` `.torchvision` uses torchvision's offsets instead (see
    /// ``ImageProcessorConfig/CropPlacement``).
    public static func centerCrop(_ image: RGBImage, height: Int, width: Int,
                                  placement: ImageProcessorConfig.CropPlacement = .transformers) -> RGBImage {
        precondition(height > 0 && width > 0, "crop size \(height) x \(width) must be positive")
        // For each dimension: output offset where the image starts, and input offset read from.
        func place(_ original: Int, _ crop: Int) -> (out: Int, from: Int) {
            switch placement {
            case .transformers:
                if crop > original { return ((crop - original + 1) / 2, 0) }
                return (0, (original - crop) / 2)
            case .torchvision:
                if crop > original { return ((crop - original) / 2, 0) }
                // Python's round((H - h) / 2.0): half to even.
                let surplus = original - crop
                let half = surplus / 2
                return (0, surplus % 2 == 1 && half % 2 == 1 ? half + 1 : half)
            }
        }
        let (outTop, top) = place(image.height, height)
        let (outLeft, left) = place(image.width, width)
        let rows = min(height - outTop, image.height - top)
        let columns = min(width - outLeft, image.width - left)
        var out = [UInt8](repeating: 0, count: height * width * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress, columns > 0 else { return }
                for y in 0 ..< rows {
                    (d + ((outTop + y) * width + outLeft) * 3)
                        .update(from: s + ((top + y) * image.width + left) * 3, count: columns * 3)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
