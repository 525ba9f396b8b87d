import Foundation
import Testing
import ViTLensCheckpoint
import ViTLensCore
import ViTLensTestSupport
@testable import ViTLensModels

/// The vit-p16-cls fixture saved by `torch.save` as `pytorch_model.bin` (tools/make_torch_fixtures.py)
/// loads through `ModelLoader` to the same model as its safetensors: attentions and logits identical.
@Suite("TorchModelLoad")
struct TorchModelLoadTests {
    struct Capture: AttentionObserver {
        var layers: [[Float]] = []
        mutating func observe(_ a: LayerAttention) throws { layers.append(Array(a.probabilities)) }
    }

    /// Loads `spec` (below `Tests/Fixtures`) and runs it on seeded pseudo-random pixels; shared
    /// with ``TimmModelLoadTests``.
    static func run(_ spec: String, height: Int = 64, width: Int = 48, seed: UInt64 = 7) throws
        -> (attentions: [[Float]], output: VisionOutput, model: VisionTransformer)
    {
        try run(files: ModelLocator.resolve(Fixtures.url(spec).path), height: height, width: width, seed: seed)
    }

    /// As ``run(_:height:width:seed:)`` for the model `files`.
    static func run(files: ModelFiles, height: Int = 64, width: Int = 48, seed: UInt64 = 7) throws
        -> (attentions: [[Float]], output: VisionOutput, model: VisionTransformer)
    {
        let model = try ModelLoader.loadVision(files)
        var state = seed
        let pixels = (0 ..< 3 * height * width).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2001 - 1000) / 500
        }
        var capture = Capture()
        let output = try model.forward(Tensor(shape: [3, height, width], values: pixels), observer: &capture)
        return (capture.layers, output, model)
    }

    @Test func pthLoadsLikeSafeTensors() throws {
        let torch = try Self.run("torch/vit-cls")
        let safe = try Self.run("models/vit-p16-cls")
        #expect(torch.attentions.count == safe.attentions.count && !safe.attentions.isEmpty)
        #expect(torch.attentions == safe.attentions)
        #expect(torch.output.logits?.values == safe.output.logits?.values)
        #expect(torch.output.logits?.count == 5)
    }
}
