import Foundation
import Testing
import ViTLensCore
@testable import ViTLensImage

/// `TimmDataConfig`: timm's `pretrained_cfg` read as its eval transform.
@Suite struct TimmDataConfigTests {
    static func read(_ pretrained: String, extra: String = "") throws -> TimmDataConfig? {
        let json = "{\"architecture\": \"vit_small_patch16_224\"\(extra), \"pretrained_cfg\": \(pretrained)}"
        return try TimmDataConfig.read(configJSON: Data(json.utf8), file: "config.json")
    }

    static func error(_ pretrained: String) -> String {
        do { _ = try read(pretrained); return "no error" } catch { return "\(error)" }
    }

    @Test func mapsTheEvalTransform() throws {
        let t = try #require(try Self.read("""
            {"input_size": [3, 64, 64], "interpolation": "bilinear", "crop_pct": 0.8889, "mean": [0.1, 0.2, 0.3], "std": 0.5}
            """))
        #expect(t.scaleSize == (71, 71))
        let c = t.processorConfig
        #expect(c.size == .shortestEdge(71))
        #expect(c.resample == .bilinear)
        #expect(c.doCenterCrop && c.cropHeight == 64 && c.cropWidth == 64)
        #expect(c.cropPlacement == .torchvision)
        #expect(c.imageMean == [0.1, 0.2, 0.3] && c.imageStd == [0.5, 0.5, 0.5])
        #expect(c.rescaleFactor == 1.0 / 255.0 && c.doRescale && c.doNormalize)
    }

    /// `resolve_data_config`'s defaults: 224, bicubic, crop_pct 0.875 (scale 256), ImageNet mean/std.
    @Test func defaults() throws {
        let c = try #require(try Self.read("{}")).processorConfig
        #expect(c.size == .shortestEdge(256))
        #expect(c.resample == .bicubic)
        #expect(c.cropHeight == 224 && c.cropWidth == 224)
        #expect(c.imageMean == [0.485, 0.456, 0.406] && c.imageStd == [0.229, 0.224, 0.225])
    }

    @Test func squashResizesBothSides() throws {
        let c = try #require(try Self.read("{\"input_size\": [3, 32, 48], \"crop_pct\": 1.0, \"crop_mode\": \"squash\"}")).processorConfig
        #expect(c.size == .exact(height: 32, width: 48))
        #expect(c.cropHeight == 32 && c.cropWidth == 48)
    }

    @Test func noPretrainedCfgOrHuggingFaceConfigIsNil() throws {
        #expect(try TimmDataConfig.read(configJSON: Data("{\"architecture\": \"vit_small_patch16_224\"}".utf8), file: "c") == nil)
        #expect(try Self.read("{}", extra: ", \"model_type\": \"vit\"") == nil)
        #expect(try Self.read("null") == nil)
    }

    @Test func refusesWithOneLineNamingTheFile() {
        let cases: [(String, String)] = [
            ("{\"input_size\": [3, 32, 48]}", "non-square input_size 32x48"),
            ("{\"crop_mode\": \"border\"}", "crop_mode 'border'"),
            ("{\"interpolation\": \"random\"}", "interpolation 'random'"),
            ("{\"crop_pct\": 0}", "'crop_pct'"),
            ("{\"crop_pct\": \"x\"}", "'crop_pct'"),
            ("{\"std\": [1, 0, 1]}", "'std'"),
            ("{\"mean\": [1, 2]}", "'mean' needs 3 numbers"),
            ("{\"input_size\": [1, 64, 64]}", "'input_size'"),
            ("{\"input_size\": [3, 64, 99999999]}", "'input_size'"),
            ("[1]", "'pretrained_cfg' is not an object"),
            ("{\"input_size\": [3, 8, 8], \"crop_pct\": 50}", "each side must be"),
        ]
        for (cfg, problem) in cases {
            let message = Self.error(cfg)
            #expect(message.hasPrefix("config.json: "), "\(cfg): \(message)")
            #expect(message.contains(problem), "\(cfg): \(message)")
            #expect(!message.contains("\n"))
        }
    }

    /// torchvision's `round((H - h) / 2)` (half to even) against transformers' floor: surpluses of
    /// 1, 3, 5, 7 start at 0, 2, 2, 4 (transformers: 0, 1, 2, 3); a deficit of 1 pads after the image.
    @Test func torchvisionCropPlacement() {
        func rows(_ height: Int, crop: Int, _ placement: ImageProcessorConfig.CropPlacement) -> [UInt8] {
            let image = RGBImage(width: 1, height: height, pixels: (0 ..< height).flatMap { [UInt8($0 + 1), 0, 0] })
            let out = ImageProcessor.centerCrop(image, height: crop, width: 1, placement: placement)
            return stride(from: 0, to: out.pixels.count, by: 3).map { out.pixels[$0] }
        }
        #expect(rows(3, crop: 2, .torchvision) == [1, 2])
        #expect(rows(5, crop: 2, .torchvision) == [3, 4])
        #expect(rows(5, crop: 2, .transformers) == [2, 3])
        #expect(rows(7, crop: 2, .torchvision) == [3, 4])
        #expect(rows(9, crop: 2, .torchvision) == [5, 6])
        #expect(rows(9, crop: 2, .transformers) == [4, 5])
        #expect(rows(2, crop: 3, .torchvision) == [1, 2, 0])
        #expect(rows(2, crop: 3, .transformers) == [0, 1, 2])
    }
}
