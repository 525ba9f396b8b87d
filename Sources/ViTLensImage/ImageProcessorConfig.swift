import Foundation
import ViTLensCore

/// A Hugging Face `preprocessor_config.json`, with the defaults of the slow (PIL) image processor it names.
///
/// Supported processor types (transformers 5.23 `*ImageProcessorPil` defaults):
///
/// | type | size | resample | center crop | mean / std |
/// |---|---|---|---|---|
/// | `ViTImageProcessor` (also when no type is given) | 224 x 224 | bilinear | no | 0.5 / 0.5 |
/// | `BitImageProcessor` (DINOv2) | shortest edge 224 | bicubic | 224 x 224 | CLIP |
/// | `CLIPImageProcessor` | shortest edge 224 | bicubic | 224 x 224 | CLIP |
/// | `DeiTImageProcessor` | 256 x 256 | bicubic | 224 x 224 | 0.5 / 0.5 |
/// | `SiglipImageProcessor` | 224 x 224 | bicubic | no | 0.5 / 0.5 |
/// | `BeitImageProcessor` (BEiT, Data2Vec-vision) | 224 x 224 | bicubic | no (224 x 224 when on) | 0.5 / 0.5 |
///
/// The type is read from `image_processor_type`, else from `feature_extractor_type`
/// (`ViTFeatureExtractor` means `ViTImageProcessor`); `Fast`/`Pil` suffixes are ignored. A JSON
/// `null` means "the default", as in transformers. `size` may be an int (a square when
/// `default_to_square`, the shortest edge otherwise; `default_to_square` is false for Bit, CLIP and
/// SigLIP), `{"height", "width"}`, `{"shortest_edge"}` or `{"shortest_edge", "longest_edge"}`;
/// `crop_size` an int or `{"height", "width"}`.
public struct ImageProcessorConfig: Decodable, Sendable, Equatable {
    /// The slow image processors whose behaviour is reproduced.
    public enum ProcessorType: String, Sendable, CaseIterable {
        case vit = "ViTImageProcessor"
        case bit = "BitImageProcessor"
        case clip = "CLIPImageProcessor"
        case deit = "DeiTImageProcessor"
        case siglip = "SiglipImageProcessor"
        case beit = "BeitImageProcessor"
    }

    /// A target size: transformers' `SizeDict` forms that these processors accept.
    public enum Size: Sendable, Equatable {
        /// Resize to exactly `height x width`.
        case exact(height: Int, width: Int)
        /// Scale so the shorter side is `shortestEdge`; the longer side is `Int(shortestEdge * long / short)`.
        case shortestEdge(Int)
        /// As `shortestEdge`, but the longer side may not exceed `longestEdge` (`get_size_with_aspect_ratio`).
        case shortestEdgeCapped(shortestEdge: Int, longestEdge: Int)
    }

    /// `image_processor_type`.
    public var processorType: ProcessorType
    /// `do_resize`.
    public var doResize: Bool
    /// `size`.
    public var size: Size
    /// `resample` (Pillow filter code).
    public var resample: ResampleFilter
    /// `do_center_crop`.
    public var doCenterCrop: Bool
    /// `crop_size` height; used only when ``doCenterCrop`` is set (224 when the type has a default).
    public var cropHeight: Int
    /// `crop_size` width.
    public var cropWidth: Int
    /// `do_rescale`.
    public var doRescale: Bool
    /// `rescale_factor` (`1/255` by default), applied in double precision.
    public var rescaleFactor: Double
    /// `do_normalize`.
    public var doNormalize: Bool
    /// `image_mean`, one value per channel (used as float32, as transformers does).
    public var imageMean: [Double]
    /// `image_std`, one value per channel (used as float32).
    public var imageStd: [Double]
    /// `do_convert_rgb`: recorded only; ``ImageProcessor`` always receives RGB already.
    public var doConvertRGB: Bool
    /// `default_to_square`: how an integer `size` is read.
    public var defaultToSquare: Bool
    /// Where the center crop is placed: transformers' floor rule, or torchvision's (timm's eval
    /// transform). Never read from `preprocessor_config.json`; set by ``TimmDataConfig``.
    public var cropPlacement: CropPlacement = .transformers
    /// After resize (and centre crop), keep the top-left `H - H % n` x `W - W % n` pixels (DINO's
    /// `visualize_attention.py` crop to a multiple of the patch size); `nil` for none. Never read
    /// from `preprocessor_config.json`; set by ``dinoVisualization(size:patchSize:)``.
    public var cropToMultipleOf: Int?

    /// How a center crop rounds an odd surplus (or deficit) of pixels.
    public enum CropPlacement: String, Sendable, Equatable {
        /// `image_transforms.center_crop`: read from `(H - h) // 2`; pad with `ceil((h - H) / 2)`
        /// rows before the image.
        case transformers
        /// torchvision's `center_crop`: read from `round((H - h) / 2)` (Python's half-to-even
        /// `round`, so a surplus of 3, 7, 11, ... starts one row lower than transformers'); pad
        /// with `(h - H) // 2` rows before the image.
        case torchvision
    }

    /// The transformers defaults for `type`.
    public init(processorType type: ProcessorType = .vit) {
        processorType = type
        doResize = true
        doRescale = true
        rescaleFactor = 1.0 / 255.0
        doNormalize = true
        switch type {
        case .vit:
            size = .exact(height: 224, width: 224)
            resample = .bilinear
            doCenterCrop = false
            (cropHeight, cropWidth) = (224, 224)
            imageMean = [0.5, 0.5, 0.5]
            imageStd = [0.5, 0.5, 0.5]
            doConvertRGB = false
            defaultToSquare = true
        case .bit, .clip:
            size = .shortestEdge(224)
            resample = .bicubic
            doCenterCrop = true
            (cropHeight, cropWidth) = (224, 224)
            imageMean = [0.48145466, 0.4578275, 0.40821073]
            imageStd = [0.26862954, 0.26130258, 0.27577711]
            doConvertRGB = true
            defaultToSquare = false
        case .siglip:
            size = .exact(height: 224, width: 224)
            resample = .bicubic
            doCenterCrop = false
            (cropHeight, cropWidth) = (224, 224)
            imageMean = [0.5, 0.5, 0.5]
            imageStd = [0.5, 0.5, 0.5]
            doConvertRGB = true
            defaultToSquare = false
        case .deit, .beit:
            size = type == .deit ? .exact(height: 256, width: 256) : .exact(height: 224, width: 224)
            resample = .bicubic
            doCenterCrop = type == .deit
            (cropHeight, cropWidth) = (224, 224)
            imageMean = [0.5, 0.5, 0.5]
            imageStd = [0.5, 0.5, 0.5]
            doConvertRGB = false
            defaultToSquare = true
        }
    }

    /// Reads a `preprocessor_config.json` from memory.
    /// - Throws: ``ImageError/corrupt(file:reason:)`` for invalid JSON or a field of the wrong type,
    ///   ``ImageError/unsupported(file:reason:)`` for an unknown processor type, filter or size form.
    public init(jsonData data: Data, file: String) throws {
        do {
            self = try JSONDecoder().decode(ImageProcessorConfig.self, from: data)
        } catch let error as ConfigFieldError {
            throw error.unsupported
                ? ImageError.unsupported(file: file, reason: error.description)
                : ImageError.corrupt(file: file, reason: error.description)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw ImageError.corrupt(file: file, reason: "not valid JSON: \(Self.underlying(context))")
        } catch let error as DecodingError {
            throw ImageError.corrupt(file: file, reason: Self.describe(error))
        }
    }

    private enum Key: String, CodingKey {
        case imageProcessorType = "image_processor_type"
        case featureExtractorType = "feature_extractor_type"
        case doResize = "do_resize"
        case size
        case resample
        case doCenterCrop = "do_center_crop"
        case cropSize = "crop_size"
        case doRescale = "do_rescale"
        case rescaleFactor = "rescale_factor"
        case doNormalize = "do_normalize"
        case imageMean = "image_mean"
        case imageStd = "image_std"
        case doConvertRGB = "do_convert_rgb"
        case defaultToSquare = "default_to_square"
        case doPad = "do_pad"
    }

    private struct SizeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let typeName = try c.decodeIfPresent(String.self, forKey: .imageProcessorType)
            ?? c.decodeIfPresent(String.self, forKey: .featureExtractorType)
                .map { $0.replacingOccurrences(of: "FeatureExtractor", with: "ImageProcessor") }
        var type = ProcessorType.vit
        if let name = typeName {
            var base = name
            for suffix in ["Fast", "Pil"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
            guard let known = ProcessorType(rawValue: base) else {
                throw ConfigFieldError(field: "image_processor_type", unsupported: true,
                                       reason: "'\(name)' (supported: \(ProcessorType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            type = known
        }
        self.init(processorType: type)
        doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        defaultToSquare = try c.decodeIfPresent(Bool.self, forKey: .defaultToSquare) ?? defaultToSquare
        if let s = try Self.decodeSize(c, .size, defaultToSquare: defaultToSquare, allowShortest: true) { size = s }
        if let code = try c.decodeIfPresent(Int.self, forKey: .resample) {
            guard let filter = ResampleFilter(rawValue: code) else {
                throw ConfigFieldError(field: "resample", unsupported: true, reason: "filter code \(code) (supported: 0 to 5)")
            }
            resample = filter
        }
        doCenterCrop = try c.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? doCenterCrop
        if let s = try Self.decodeSize(c, .cropSize, defaultToSquare: true, allowShortest: false) {
            if case .exact(let h, let w) = s { (cropHeight, cropWidth) = (h, w) }
        } else if doCenterCrop && (type == .vit || type == .siglip) {
            // ViTImageProcessor has no default crop size; transformers refuses to crop without one.
            throw ConfigFieldError(field: "crop_size", unsupported: false, reason: "required when do_center_crop is true")
        }
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        imageMean = try Self.decodeChannels(c, .imageMean) ?? imageMean
        imageStd = try Self.decodeChannels(c, .imageStd) ?? imageStd
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
        if try c.decodeIfPresent(Bool.self, forKey: .doPad) == true {
            throw ConfigFieldError(field: "do_pad", unsupported: true, reason: "padding is not supported by these processors")
        }
        if imageMean.count != 3 || imageStd.count != 3 {
            throw ConfigFieldError(field: imageMean.count != 3 ? "image_mean" : "image_std", unsupported: false,
                                   reason: "needs 1 or 3 values")
        }
        try checkNormalization()
    }

    /// The largest magnitude a normalised pixel may reach, `|v * rescale_factor - mean| / std`
    /// over `v` in 0...255. Beyond it the model sees values no real preprocessing produces, and
    /// float32 arithmetic on them overflows in the first layers; such a config is refused.
    public static let maximumNormalizedMagnitude: Double = 1e6

    /// Checks the values that rescaling and normalisation use (only those: a field switched off by
    /// `do_rescale`/`do_normalize` is ignored, as transformers ignores it): `rescale_factor` finite
    /// and positive; `image_mean` finite and `image_std` finite and positive as float32 (they are
    /// used as float32); and every normalised pixel below ``maximumNormalizedMagnitude``.
    private func checkNormalization() throws {
        if doRescale {
            guard rescaleFactor.isFinite, rescaleFactor > 0 else {
                throw ConfigFieldError(field: "rescale_factor", unsupported: false,
                                       reason: "\(rescaleFactor) must be a finite positive number")
            }
        }
        let scale = doRescale ? rescaleFactor : 1
        guard doNormalize else {
            guard 255 * scale < Self.maximumNormalizedMagnitude else {
                throw ConfigFieldError(field: "rescale_factor", unsupported: false,
                                       reason: "\(rescaleFactor) scales pixel 255 to \(255 * scale), beyond the limit \(Self.maximumNormalizedMagnitude)")
            }
            return
        }
        for c in 0 ..< 3 {
            let mean = Float(imageMean[c]), std = Float(imageStd[c])
            guard mean.isFinite else {
                throw ConfigFieldError(field: "image_mean", unsupported: false,
                                       reason: "entry \(c) is \(imageMean[c]), not a finite float32")
            }
            guard std.isFinite, std > 0 else {
                throw ConfigFieldError(field: "image_std", unsupported: false,
                                       reason: "entry \(c) is \(imageStd[c]); every std must be a finite positive float32")
            }
            let worst = max(abs(0 - Double(mean)), abs(255 * scale - Double(mean))) / Double(std)
            guard worst < Self.maximumNormalizedMagnitude else {
                // Blame the value that is out of its usual range (pixels 0...255 or 0...1, |mean| <= 255).
                let field = 255 * scale > 1e4 ? "rescale_factor" : abs(Double(mean)) > 1e4 ? "image_mean" : "image_std"
                throw ConfigFieldError(field: field, unsupported: false,
                                       reason: "channel \(c) normalises pixels to magnitude \(worst) (rescale_factor \(rescaleFactor), mean \(imageMean[c]), std \(imageStd[c])), beyond the limit \(Self.maximumNormalizedMagnitude)")
            }
        }
    }

    /// Reads an int, `[h, w]` list, or size dictionary, as transformers' `get_size_dict` does.
    private static func decodeSize(
        _ c: KeyedDecodingContainer<Key>, _ key: Key, defaultToSquare: Bool, allowShortest: Bool
    ) throws -> Size? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        let field = key.stringValue
        func positive(_ v: Int) throws -> Int {
            guard v > 0 else { throw ConfigFieldError(field: field, unsupported: false, reason: "size \(v) must be positive") }
            guard v <= Limits.maxInputSide else {
                throw ConfigFieldError(field: field, unsupported: false, reason: "size \(v) is above ViTLens's limit of \(Limits.maxInputSide) pixels")
            }
            return v
        }
        if let n = try? c.decode(Int.self, forKey: key) {
            let v = try positive(n)
            return defaultToSquare || !allowShortest ? .exact(height: v, width: v) : .shortestEdge(v)
        }
        if let list = try? c.decode([Int].self, forKey: key) {
            guard list.count == 2 else {
                throw ConfigFieldError(field: field, unsupported: false, reason: "a list needs 2 values (height, width)")
            }
            return .exact(height: try positive(list[0]), width: try positive(list[1]))
        }
        guard let dict = try? c.decode([String: Int].self, forKey: key) else {
            throw ConfigFieldError(field: field, unsupported: false,
                                   reason: "expected an int, [height, width] or a dictionary of ints")
        }
        switch Set(dict.keys) {
        case ["height", "width"]:
            return .exact(height: try positive(dict["height"] ?? 0), width: try positive(dict["width"] ?? 0))
        case ["shortest_edge"] where allowShortest:
            return .shortestEdge(try positive(dict["shortest_edge"] ?? 0))
        case ["shortest_edge", "longest_edge"] where allowShortest:
            return .shortestEdgeCapped(shortestEdge: try positive(dict["shortest_edge"] ?? 0),
                                       longestEdge: try positive(dict["longest_edge"] ?? 0))
        default:
            let supported = allowShortest
                ? "{height, width}, {shortest_edge} or {shortest_edge, longest_edge}" : "{height, width}"
            throw ConfigFieldError(field: field, unsupported: true,
                                   reason: "keys \(dict.keys.sorted()) (supported: \(supported))")
        }
    }

    /// Reads a per-channel value given as one number or a list.
    private static func decodeChannels(_ c: KeyedDecodingContainer<Key>, _ key: Key) throws -> [Double]? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        if let v = try? c.decode(Double.self, forKey: key) { return [v, v, v] }
        do { return try c.decode([Double].self, forKey: key) } catch {
            throw ConfigFieldError(field: key.stringValue, unsupported: false, reason: "expected a number or a list of numbers")
        }
    }

    private static func underlying(_ context: DecodingError.Context) -> String {
        if let e = context.underlyingError as NSError? {
            return e.userInfo[NSDebugDescriptionErrorKey] as? String ?? e.localizedDescription
        }
        return context.debugDescription
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "expected a JSON object at the top level"
        case .typeMismatch(let type, let context):
            return "field '\(path(context))': expected \(type)"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))': missing \(type)"
        case .keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        case .dataCorrupted(let context):
            return "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A field of `preprocessor_config.json` with a bad value; mapped to ``ImageError`` with the file name.
struct ConfigFieldError: Error, CustomStringConvertible {
    var field: String
    var unsupported: Bool
    var reason: String
    var description: String { "field '\(field)': \(reason)" }
}
