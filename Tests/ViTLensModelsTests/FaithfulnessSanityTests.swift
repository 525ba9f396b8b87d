import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The sanity check end to end on a fixture model: input x gradient on the model and on weight-
/// shuffled copies, compared by Spearman, and its deletion/insertion curves against random orders.
@Suite struct FaithfulnessSanityTests {
    func inputGradientMap(_ model: VisionTransformer, _ x: Tensor, _ target: GradientTarget) throws -> Tensor {
        var none = NoGradientObserver()
        let g = try model.gradients(x, target: target, observer: &none)
        return try InputGradient.explain(embeddings: g.embeddings, gradient: g.embeddingGradient, layout: g.output.layout).map
    }

    /// A timm-named `torch.save` file (DINO's release format) is shuffled too: read without executing
    /// code, written back as safetensors under the same names; `top-1` leaves the patch embedding and
    /// the first block alone and changes the last block.
    @Test func aTorchCheckpointIsShuffledLayerByLayer() throws {
        let files = try ModelLocator.resolve(Fixtures.url("torch/timm-dino-p8/dino-p8.pth").path)
        let folder = try temporaryFolder("faith-sanity-pth")
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = try ModelRandomization.shuffledCopy(of: files, randomization: .topLayers(1), seed: 2, into: folder)
        _ = try ModelLoader.loadVision(copy)
        let original = try TensorSources.open(files.weights, stateDictKey: files.stateDictKey)
        let shuffled = try TensorSources.open(copy.weights)
        #expect(shuffled.names == original.names)
        let last = try #require(original.names.compactMap { WeightRandomization.layerIndex($0) }.max())
        #expect(last >= 1)
        for name in original.names {
            let same = try original.floats(name) == shuffled.floats(name)
            if let i = WeightRandomization.layerIndex(name), i == last, original.shape(of: name)?.reduce(1, *) ?? 0 > 4 {
                #expect(!same, "\(name) should be shuffled")
            } else if WeightRandomization.layerIndex(name) != nil || name.hasPrefix("patch_embed") || name == "cls_token" || name == "pos_embed" {
                #expect(same, "\(name) should be kept")
            }
        }
    }

    @Test func shuffledModelChangesTheMap() throws {
        let files = try ModelLocator.resolve(Fixtures.url("models/dino-p8").path)
        let model = try ModelLoader.loadVision(files)
        let x = Tensor(shape: [3, 64, 64], values: (0 ..< 3 * 64 * 64).map { (i: Int) -> Float in
            let column = Float(i % 64), line = Float(i / 64)
            return sinf(column * 0.19 + line * 0.07)
        })
        let target = GradientTarget.pooledCosine(to: (0 ..< model.spec.hidden).map { cosf(Float($0)) })
        let map = try inputGradientMap(model, x, target)
        #expect(map.shape == [8, 8])
        #expect(abs(try SpearmanCorrelation.value(map.values, map.values) - 1) < 1e-12)
        let folder = try temporaryFolder("faith-sanity")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rhos: [String: Double] = [:]
        for r in [WeightRandomization.topLayers(1), .all] {
            let copy = try ModelRandomization.shuffledCopy(of: files, randomization: r, seed: 1, into: folder.appendingPathComponent(r.name))
            let shuffled = try inputGradientMap(ModelLoader.loadVision(copy), x, target)
            let rho = try SpearmanCorrelation.value(map.values, shuffled.values)
            #expect(rho < 0.95 && rho > -1, "\(r.name)")
            rhos[r.name] = rho
        }
        let report = try model.faithfulness(pixels: x, target: target, methods: [("input-x-gradient", map)], steps: 16,
                                            randomOrders: 4, seed: 3)
        let m = report.methods[0].curves, random = try #require(report.random).curves
        print("faithfulness dino-p8: spearman \(rhos); deletion AUC \(m.deletionAUC) vs random \(random.deletionAUC); insertion AUC \(m.insertionAUC) vs random \(random.insertionAUC); forwards \(report.forwards)")
        #expect(report.forwards == 2 * 5 * 17)
    }
}
