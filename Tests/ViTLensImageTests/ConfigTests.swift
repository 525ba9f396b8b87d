import Foundation
import Testing
@testable import ViTLensImage
import ViTLensTestSupport

/// `preprocessor_config.json` parsing: HF defaults per processor type, size forms, errors naming the file.
@Suite struct ConfigTests {
    static func parse(_ json: String, file: String = "cfg.json") throws -> ImageProcessorConfig {
        try ImageProcessorConfig(jsonData: Data(json.utf8), file: file)
    }

    @Test func defaultsPerType() throws {
        let vit = try Self.parse("{}")
        #expect(vit.processorType == .vit && vit.size == .exact(height: 224, width: 224) && vit.resample == .bilinear)
        #expect(!vit.doCenterCrop && vit.imageMean == [0.5, 0.5, 0.5] && vit.rescaleFactor == 1.0 / 255.0)
        let bit = try Self.parse(#"{"image_processor_type": "BitImageProcessor"}"#)
        #expect(bit.size == .shortestEdge(224) && bit.resample == .bicubic && bit.doCenterCrop)
        #expect(bit.cropHeight == 224 && bit.cropWidth == 224 && bit.imageMean == [0.48145466, 0.4578275, 0.40821073])
        let clip = try Self.parse(#"{"image_processor_type": "CLIPImageProcessorFast"}"#)
        #expect(clip.processorType == .clip && clip.size == .shortestEdge(224) && clip.doConvertRGB)
        let deit = try Self.parse(#"{"image_processor_type": "DeiTImageProcessorPil"}"#)
        #expect(deit.size == .exact(height: 256, width: 256) && deit.resample == .bicubic && deit.doCenterCrop)
    }

    @Test func sizeForms() throws {
        // An int is a square for ViT/DeiT (default_to_square) and the shortest edge for Bit/CLIP.
        #expect(try Self.parse(#"{"size": 96}"#).size == .exact(height: 96, width: 96))
        #expect(try Self.parse(#"{"feature_extractor_type": "CLIPFeatureExtractor", "size": 96}"#).size == .shortestEdge(96))
        #expect(try Self.parse(#"{"image_processor_type": "DeiTImageProcessor", "size": 96}"#).size == .exact(height: 96, width: 96))
        #expect(try Self.parse(#"{"size": 96, "default_to_square": false}"#).size == .shortestEdge(96))
        #expect(try Self.parse(#"{"size": {"height": 30, "width": 40}}"#).size == .exact(height: 30, width: 40))
        #expect(try Self.parse(#"{"size": [30, 40]}"#).size == .exact(height: 30, width: 40))
        #expect(try Self.parse(#"{"size": {"shortest_edge": 256}}"#).size == .shortestEdge(256))
        #expect(try Self.parse(#"{"size": {"shortest_edge": 256, "longest_edge": 300}}"#).size
            == .shortestEdgeCapped(shortestEdge: 256, longestEdge: 300))
        let crop = try Self.parse(#"{"image_processor_type": "BitImageProcessor", "crop_size": 100}"#)
        #expect(crop.cropHeight == 100 && crop.cropWidth == 100)
    }

    @Test func nullMeansDefaultAndScalarsWiden() throws {
        let c = try Self.parse(#"{"image_processor_type": "BitImageProcessor", "do_center_crop": null, "size": null, "image_mean": 0.25, "rescale_factor": 0.5}"#)
        #expect(c.doCenterCrop && c.size == .shortestEdge(224))
        #expect(c.imageMean == [0.25, 0.25, 0.25] && c.rescaleFactor == 0.5)
    }

    @Test func processorFromFileMatchesHubLayout() throws {
        let dinov2 = try ImageProcessor(contentsOf: ImageTestSupport.fixture("processors/configs/dinov2.json")).config
        #expect(dinov2.processorType == .bit && dinov2.size == .shortestEdge(256) && dinov2.imageStd == [0.229, 0.224, 0.225])
        let vit = try ImageProcessor(contentsOf: ImageTestSupport.fixture("processors/configs/vit-base.json")).config
        #expect(vit.processorType == .vit && vit.size == .exact(height: 224, width: 224) && vit.resample == .bilinear)
    }

    @Test func missingFile() {
        let url = ImageTestSupport.fixture("processors/configs/missing.json")
        #expect(throws: ImageError.fileNotFound(file: url.path)) { try ImageProcessor(contentsOf: url) }
    }

    @Test func badJSONNamesTheFile() throws {
        let folder = try temporaryFolder("bad-config")
        let url = folder.appendingPathComponent("preprocessor_config.json")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: Never.self) { try Data("{\"size\": 224,".utf8).write(to: url) }
        do {
            _ = try ImageProcessor(contentsOf: url)
            Issue.record("bad JSON accepted")
        } catch let error as ImageError {
            guard case .corrupt(let file, let reason) = error else {
                Issue.record("expected corrupt, got \(error)")
                return
            }
            #expect(file == url.path)
            #expect(reason.hasPrefix("not valid JSON"))
            #expect(error.description.hasPrefix(url.path + ": corrupt: not valid JSON"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        (#"{"size": "big"}"#, "cfg.json: corrupt: field 'size': expected an int, [height, width] or a dictionary of ints"),
        (#"{"size": {"width": 3}}"#, "cfg.json: unsupported: field 'size': keys [\"width\"] (supported: {height, width}, {shortest_edge} or {shortest_edge, longest_edge})"),
        (#"{"size": {"height": 0, "width": 3}}"#, "cfg.json: corrupt: field 'size': size 0 must be positive"),
        (#"{"resample": 7}"#, "cfg.json: unsupported: field 'resample': filter code 7 (supported: 0 to 5)"),
        (#"{"do_resize": "yes"}"#, "cfg.json: corrupt: field 'do_resize': expected Bool"),
        (#"{"image_mean": [0.5, 0.5]}"#, "cfg.json: corrupt: field 'image_mean': needs 1 or 3 values"),
        (#"{"image_processor_type": "ConvNextImageProcessor"}"#, "cfg.json: unsupported: field 'image_processor_type': 'ConvNextImageProcessor' (supported: ViTImageProcessor, BitImageProcessor, CLIPImageProcessor, DeiTImageProcessor, SiglipImageProcessor)"),
        (#"{"crop_size": {"shortest_edge": 3}}"#, "cfg.json: unsupported: field 'crop_size': keys [\"shortest_edge\"] (supported: {height, width})"),
        (#"[1, 2]"#, "cfg.json: corrupt: expected a JSON object at the top level"),
        (#"{"do_center_crop": true}"#, "cfg.json: corrupt: field 'crop_size': required when do_center_crop is true"),
        // Values that would make normalised pixels non-finite or meaningless.
        (#"{"image_std": [0.5, 0, 0.5]}"#, "cfg.json: corrupt: field 'image_std': entry 1 is 0.0; every std must be a finite positive float32"),
        (#"{"image_std": -0.5}"#, "cfg.json: corrupt: field 'image_std': entry 0 is -0.5; every std must be a finite positive float32"),
        (#"{"image_std": [0.5, 0.5, 1e-50]}"#, "cfg.json: corrupt: field 'image_std': entry 2 is 1e-50; every std must be a finite positive float32"),
        (#"{"image_std": [0.5, 0.5, 1e39]}"#, "cfg.json: corrupt: field 'image_std': entry 2 is 1e+39; every std must be a finite positive float32"),
        (#"{"image_mean": [0.5, 1e39, 0.5]}"#, "cfg.json: corrupt: field 'image_mean': entry 1 is 1e+39, not a finite float32"),
        (#"{"rescale_factor": 0.0}"#, "cfg.json: corrupt: field 'rescale_factor': 0.0 must be a finite positive number"),
        (#"{"rescale_factor": -0.00392156862745098}"#, "cfg.json: corrupt: field 'rescale_factor': -0.00392156862745098 must be a finite positive number"),
        (#"{"rescale_factor": 1e30}"#, "cfg.json: corrupt: field 'rescale_factor': channel 0 normalises pixels to magnitude 5.1e+32 (rescale_factor 1e+30, mean 0.5, std 0.5), beyond the limit 1000000.0"),
        (#"{"image_std": 1e-7}"#, "cfg.json: corrupt: field 'image_std': channel 0 normalises pixels to magnitude 4999999.941569514 (rescale_factor 0.00392156862745098, mean 0.5, std 1e-07), beyond the limit 1000000.0"),
        (#"{"do_normalize": false, "rescale_factor": 1e30}"#, "cfg.json: corrupt: field 'rescale_factor': 1e+30 scales pixel 255 to 2.55e+32, beyond the limit 1000000.0"),
    ])
    func badFieldsNameFileAndField(_ json: String, _ message: String) {
        do {
            let config = try Self.parse(json)
            Issue.record("accepted: \(config)")
        } catch let error as ImageError {
            #expect(error.description == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// Fields switched off are not checked (transformers ignores them); plausible extremes pass.
    @Test func normalizationRuleAcceptsWhatIsUsedSensibly() throws {
        _ = try Self.parse(#"{"do_normalize": false, "image_std": 0}"#)
        _ = try Self.parse(#"{"do_rescale": false, "rescale_factor": -1}"#)
        _ = try Self.parse(#"{"do_rescale": false}"#)  // pixels 0...255 normalised by 0.5: |v| <= 509
        _ = try Self.parse(#"{"image_std": 1e-4}"#)  // |v| <= 5000
        #expect(ImageProcessorConfig.maximumNormalizedMagnitude == 1e6)
    }
}
