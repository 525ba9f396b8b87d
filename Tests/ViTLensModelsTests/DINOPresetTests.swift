import Foundation
import Testing
import ViTLens
import ViTLensCore
import ViTLensTestSupport

/// DINO release files without `config.json`: the `timm-dino-p8` fixture's `.pth` copied alone and
/// read with `--arch custom --heads 3` runs exactly like the file with its timm config; the named
/// presets refuse it naming the tensor; the training checkpoint's `teacher` and `student` load.
@Suite("DINOPreset")
struct DINOPresetTests {
    static var custom: DINOPreset { get throws { try DINOPreset(architecture: .custom, patchSize: nil, heads: 3) } }

    /// `file` (below Tests/Fixtures) copied alone into a fresh folder.
    static func alone(_ file: String) throws -> URL {
        let dir = try temporaryFolder("dino-preset")
        let url = dir.appendingPathComponent(Fixtures.url(file).lastPathComponent)
        try FileManager.default.copyItem(at: Fixtures.url(file), to: url)
        return url
    }

    @Test func customPresetLoadsTheFixtureLikeItsTimmConfig() throws {
        let pth = try Self.alone("torch/timm-dino-p8/dino-p8.pth")
        defer { try? FileManager.default.removeItem(at: pth.deletingLastPathComponent()) }
        let preset = try TorchModelLoadTests.run(files: Self.custom.files(weights: pth), height: 64, width: 64, seed: 11)
        let timm = try TorchModelLoadTests.run("torch/timm-dino-p8/dino-p8.pth", height: 64, width: 64, seed: 11)
        #expect(preset.attentions == timm.attentions && preset.attentions.count == 2)
        #expect(preset.model.patchSize == 8 && preset.model.modelType == "vit")
        // The processor: DINO's eval transform at the checkpoint's size (crop_pct 0.875 of 64).
        let pipeline = try VisionPipeline(files: Self.custom.files(weights: pth))
        #expect(pipeline.processor.config.size == .shortestEdge(73))
        #expect(pipeline.processor.config.cropHeight == 64 && pipeline.processor.config.imageMean == [0.485, 0.456, 0.406])
        // --patch is checked against the weights.
        let wrongPatch = try DINOPreset(architecture: .custom, patchSize: 16, heads: 3)
        #expect(throws: ModelError.presetMismatch(file: pth.path, reason: "--arch custom --patch 16: 'patch_embed.proj.weight' has 8-pixel patches, not 16")) {
            _ = try wrongPatch.files(weights: pth)
        }
    }

    @Test func namedPresetsRefuseOtherShapesNamingTheTensor() throws {
        let pth = try Self.alone("torch/timm-dino-p8/dino-p8.pth")
        defer { try? FileManager.default.removeItem(at: pth.deletingLastPathComponent()) }
        for (arch, width) in [(DINOPreset.Architecture.vitSmall, 384), (.vitBase, 768)] {
            let preset = try DINOPreset(architecture: arch, patchSize: 8, heads: nil)
            #expect(throws: ModelError.presetMismatch(file: pth.path, reason: "--arch \(arch.rawValue) --patch 8: 'cls_token' has shape [1, 1, 48], expected [1, 1, \(width)]")) {
                _ = try preset.files(weights: pth)
            }
        }
        #expect(throws: ModelError.presetInvalid(reason: "--arch vit_small needs --patch 8 or --patch 16")) {
            _ = try DINOPreset(architecture: .vitSmall, patchSize: 14, heads: nil)
        }
        #expect(throws: ModelError.presetInvalid(reason: "--arch custom needs --heads N (the weights do not record it)")) {
            _ = try DINOPreset(architecture: .custom, patchSize: 8, heads: nil)
        }
        // Not a ViT state dict at all.
        #expect(throws: ModelError.self) { _ = try Self.custom.files(weights: Fixtures.url("torch/tensors/f32.zip.pth")) }
    }

    @Test func trainingCheckpointTeacherAndStudentLoad() throws {
        let full = Fixtures.url("torch/dino-full/dino-p8_full_checkpoint.pth")
        let timm = try TorchModelLoadTests.run("torch/timm-dino-p8/dino-p8.pth", height: 64, width: 64, seed: 11)
        // The teacher (also the default key) under `backbone.`, beside the DINO head: the same model.
        for key in ["teacher", nil] as [String?] {
            let teacher = try TorchModelLoadTests.run(files: Self.custom.files(weights: full, stateDictKey: key), height: 64, width: 64, seed: 11)
            #expect(teacher.attentions == timm.attentions)
        }
        // The student under `module.backbone.`, other weights.
        let student = try TorchModelLoadTests.run(files: Self.custom.files(weights: full, stateDictKey: "student"), height: 64, width: 64, seed: 11)
        #expect(student.attentions.count == 2 && student.attentions != timm.attentions)
        // `args` is an argparse.Namespace: read as an empty object, not a state dict.
        #expect(throws: (any Error).self) { _ = try TorchCheckpoint(url: full, key: "args") }
        let raw = try TorchCheckpoint(url: full, key: "teacher")
        #expect(raw.names.contains("backbone.cls_token") && raw.names.contains("head.last_layer.weight_v"))
    }

    /// DINO's visualize_attention.py preprocessing, bit-identical to the PIL + NumPy reference
    /// (tools/make_torch_fixtures.py, `dino-vis/`).
    @Test(arguments: [("short60-p8", ImageProcessorConfig.Size.shortestEdge(60), [3, 56, 80]),
                      ("45x70-p8", .exact(height: 45, width: 70), [3, 40, 64])])
    func dinoVisualizationPreprocessingMatchesReference(_ name: String, _ size: ImageProcessorConfig.Size, _ shape: [Int]) throws {
        let image = try ImageIO.load(Fixtures.url("torch/timm-preprocess/source.png"))
        let processor = ImageProcessor(config: .dinoVisualization(size: size, patchSize: 8))
        let pixels = processor.pixelValues(image)
        let expected = try NPY.read(Fixtures.url("torch/dino-vis/\(name).npy"))
        #expect(pixels.shape == shape && expected.shape == shape)
        #expect(Array(pixels.values) == expected.floats, "bit-identical pixel values")
        let size = processor.outputSize(height: image.height, width: image.width)
        #expect(size.height == shape[1] && size.width == shape[2])
    }
}
