import Foundation
import ViTLensCore

/// The `pretrained_cfg` of a timm Hub `config.json`, read as timm's eval transform
/// (`timm.data.transforms_imagenet_eval` with `resolve_data_config` defaults) and expressed as an
/// ``ImageProcessorConfig`` that reproduces it exactly.
///
/// timm's eval transform for `input_size [3, S, S]`, `crop_pct p`, `crop_mode "center"`:
/// 1. `Resize(floor(S / p), interpolation)`: the shorter side becomes `floor(S / p)`, the longer
///    `int(short' * long / short)`, with Pillow's filter (torchvision's PIL path): the same as
///    `size {"shortest_edge": floor(S / p)}` here.
/// 2. `CenterCrop(S)`: torchvision's placement (``ImageProcessorConfig/CropPlacement/torchvision``).
/// 3. `ToTensor()` (`u8 / 255` in float32, equal to `Float(Double(u8) / 255)` for all 256 bytes)
///    and `Normalize(mean, std)` (float32 subtract, divide): the processor's rescale and normalise.
///
/// `crop_mode "squash"` resizes to `floor(S / p)` on both sides before the crop (mapped too).
/// Refused with a one-line error naming the file: a non-square `input_size` in `center` mode
/// (timm's `ResizeKeepRatio`), `crop_mode "border"`, and `interpolation "random"`.
/// Defaults, as `resolve_data_config`: `input_size [3, 224, 224]`, `interpolation "bicubic"`,
/// `crop_pct 0.875`, `crop_mode "center"`, ImageNet mean and std.
public struct TimmDataConfig: Sendable, Equatable {
    /// `input_size` height and width.
    public var inputHeight: Int, inputWidth: Int
    /// `interpolation`, as a Pillow filter.
    public var interpolation: ResampleFilter
    /// `crop_pct`.
    public var cropPct: Double
    /// `crop_mode`: `center` or `squash`.
    public var cropMode: String
    /// `mean`, `std`.
    public var mean: [Double], std: [Double]

    /// Reads `pretrained_cfg` from a timm `config.json`'s bytes; `nil` when it has none or the file is
    /// a Hugging Face config (it has `model_type`).
    /// - Throws: ``ImageError/corrupt(file:reason:)`` or ``ImageError/unsupported(file:reason:)``
    ///   naming `file`.
    public static func read(configJSON data: Data, file: String) throws -> TimmDataConfig? {
        let root: JSONValue
        do { root = try JSONReader.parse([UInt8](data)) } catch {
            throw ImageError.corrupt(file: file, reason: "not valid JSON: \(error)")
        }
        guard root["model_type"] == nil, let raw = root["pretrained_cfg"], !raw.isNull else { return nil }
        guard raw.members != nil else { throw ImageError.corrupt(file: file, reason: "'pretrained_cfg' is not an object") }
        return try TimmDataConfig(raw, file: file)
    }

    private init(_ cfg: JSONValue, file: String) throws {
        func bad(_ reason: String) -> ImageError { .corrupt(file: file, reason: "pretrained_cfg: \(reason)") }
        func unsupported(_ reason: String) -> ImageError { .unsupported(file: file, reason: "pretrained_cfg: \(reason)") }
        func present(_ key: String) -> JSONValue? { cfg[key].flatMap { $0.isNull ? nil : $0 } }
        func string(_ key: String, _ fallback: String) throws -> String {
            guard let value = present(key) else { return fallback }
            guard let s = value.string else { throw bad("'\(key)' is not a string") }
            return s
        }
        func channels(_ key: String, _ fallback: [Double]) throws -> [Double] {
            guard let value = present(key) else { return fallback }
            if let v = value.number { return [v, v, v] }
            let values = value.array?.compactMap(\.number) ?? []
            guard values.count == 3, value.array?.count == 3 else { throw bad("'\(key)' needs 3 numbers") }
            return values
        }
        inputHeight = 224
        inputWidth = 224
        if let value = present("input_size") {
            guard let list = value.array, list.count == 3, let c = list[0].number, let h = list[1].number, let w = list[2].number,
                  c == 3, [h, w].allSatisfy({ $0 >= 1 && $0 <= Double(Limits.maxInputSide) && $0.rounded() == $0 }) else {
                throw bad("'input_size' must be [3, height, width] with sides 1 to \(Limits.maxInputSide)")
            }
            (inputHeight, inputWidth) = (Int(h), Int(w))
        }
        let interpolationName = try string("interpolation", "bicubic")
        let filters: [String: ResampleFilter] = [
            "nearest": .nearest, "bilinear": .bilinear, "bicubic": .bicubic, "lanczos": .lanczos, "box": .box, "hamming": .hamming,
        ]
        guard let filter = filters[interpolationName] else {
            throw unsupported("interpolation '\(interpolationName)' (supported: \(filters.keys.sorted().joined(separator: ", ")))")
        }
        interpolation = filter
        cropPct = 0.875
        if let value = present("crop_pct") {
            guard let p = value.number, p.isFinite, p >= 0.01, p <= 100 else { throw bad("'crop_pct' must be a number in 0.01...100") }
            cropPct = p
        }
        cropMode = try string("crop_mode", "center")
        guard ["center", "squash"].contains(cropMode) else { throw unsupported("crop_mode '\(cropMode)' (supported: center, squash)") }
        if cropMode == "center", inputHeight != inputWidth {
            throw unsupported("a non-square input_size \(inputHeight)x\(inputWidth) with crop_mode 'center' (timm's ResizeKeepRatio) is not mapped")
        }
        mean = try channels("mean", [0.485, 0.456, 0.406])
        std = try channels("std", [0.229, 0.224, 0.225])
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw bad("'mean' must be finite and 'std' finite and positive")
        }
        guard scaleSize.height >= 1, scaleSize.width >= 1, scaleSize.height <= Limits.maxInputSide, scaleSize.width <= Limits.maxInputSide else {
            throw bad("input_size / crop_pct gives \(scaleSize.height)x\(scaleSize.width); each side must be 1 to \(Limits.maxInputSide)")
        }
    }

    /// timm's `scale_size`: `floor(side / crop_pct)` per side.
    public var scaleSize: (height: Int, width: Int) {
        (Int((Double(inputHeight) / cropPct).rounded(.down)), Int((Double(inputWidth) / cropPct).rounded(.down)))
    }

    /// The processor that reproduces the eval transform.
    public var processorConfig: ImageProcessorConfig {
        var config = ImageProcessorConfig(processorType: .vit)
        let scale = scaleSize
        config.doResize = true
        config.size = cropMode == "squash" ? .exact(height: scale.height, width: scale.width) : .shortestEdge(scale.height)
        config.defaultToSquare = cropMode == "squash"
        config.resample = interpolation
        config.doCenterCrop = true
        (config.cropHeight, config.cropWidth) = (inputHeight, inputWidth)
        config.cropPlacement = .torchvision
        config.doRescale = true
        config.rescaleFactor = 1.0 / 255.0
        config.doNormalize = true
        config.imageMean = mean
        config.imageStd = std
        return config
    }
}
