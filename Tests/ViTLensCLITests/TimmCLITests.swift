import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens heads` on the timm fixtures: a folder (or a bare `.pth` beside its timm `config.json`)
/// without `preprocessor_config.json` is analysed with timm's eval transform from `pretrained_cfg`.
@Suite("TimmCLI")
struct TimmCLITests {
    @Test(arguments: [("Tests/Fixtures/torch/timm-vit-cls", [2, 14, 14] as [Int]),
                      ("Tests/Fixtures/torch/timm-deit-distilled", [2, 4, 4]),
                      ("Tests/Fixtures/torch/timm-dino-p8/dino-p8.pth", [3, 8, 8])])
    func headsRunsOnTimmFixtures(_ model: String, _ shape: [Int]) throws {
        let out = CLI.temporaryDirectory("timm-heads")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["heads", "photos/grace_hopper.jpg", "--model", model, "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let cls = try NPY.read(out.appendingPathComponent("cls_attention.npy"))
        #expect(cls.shape == shape)
        // Each head's CLS row over the patches is a part of a softmax row: positive, sum below 1.
        let plane = shape[1] * shape[2]
        for h in 0 ..< shape[0] {
            let row = cls.floats[h * plane ..< (h + 1) * plane]
            #expect(row.allSatisfy { $0 > 0 })
            #expect(row.reduce(0, +) < 1.0001)
        }
    }
}
