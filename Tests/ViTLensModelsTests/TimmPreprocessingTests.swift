import Foundation
import Testing
import ViTLens
import ViTLensCore
import ViTLensTestSupport

/// A timm folder without `preprocessor_config.json` gets timm's eval transform from `pretrained_cfg`:
/// pixel values bit-identical to tools/make_timm_preprocess_fixtures.py (timm's transform written out
/// with Pillow and NumPy) on an 83 x 61 image whose crop surpluses are placed differently by
/// torchvision and transformers.
@Suite("TimmPreprocessing")
struct TimmPreprocessingTests {
    static let source = Fixtures.url("torch/timm-preprocess/source.png")

    @Test(arguments: [("torch/timm-deit-distilled", "timm-deit-distilled"), ("torch/timm-dino-p8/dino-p8.pth", "timm-dino-p8")])
    func pixelValuesEqualTimmEvalTransform(_ model: String, _ reference: String) throws {
        let pipeline = try VisionPipeline(model: Fixtures.url(model).path)
        #expect(pipeline.processor.config.cropPlacement == .torchvision)
        let prepared = try pipeline.prepare(Self.source)
        let expected = try NPY.read(Fixtures.url("torch/timm-preprocess/\(reference).npy"))
        #expect(prepared.pixels.shape == expected.shape)
        #expect(Array(prepared.pixels.values) == expected.floats, "bit-identical pixel values")
        // The fixture tells the placements apart: transformers' floor crop gives other values.
        var hf = pipeline.processor
        hf.config.cropPlacement = .transformers
        #expect(Array(hf.pixelValues(prepared.original).values) != expected.floats)
    }

    /// The pipeline runs a forward on the timm folder (the ViT fixture: 224, crop_pct 1.0, mean 0.5).
    @Test func timmFolderRunsAForward() throws {
        let pipeline = try VisionPipeline(model: Fixtures.url("torch/timm-vit-cls").path)
        let prepared = try pipeline.prepare(Self.source)
        #expect(prepared.pixels.shape == [3, 224, 224])
        var observer = NoObserver()
        let output = try pipeline.run(prepared, observer: &observer)
        #expect(output.logits?.count == 5)
    }

    /// Without `pretrained_cfg` the missing `preprocessor_config.json` is still named.
    @Test func withoutPretrainedCfgNamesTheMissingFile() throws {
        let folder = try temporaryFolder("timm-no-cfg")
        let original = Fixtures.url("torch/timm-vit-cls")
        try FileManager.default.copyItem(at: original.appendingPathComponent("model.safetensors"), to: folder.appendingPathComponent("model.safetensors"))
        let text = try String(contentsOf: original.appendingPathComponent("config.json"), encoding: .utf8)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        object["pretrained_cfg"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent("config.json"))
        #expect(throws: (any Error).self) { try VisionPipeline(model: folder.path) }
        do { _ = try VisionPipeline(model: folder.path) } catch {
            #expect("\(error)".contains("preprocessor_config.json"), "\(error)")
        }
    }
}
