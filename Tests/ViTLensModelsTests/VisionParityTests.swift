import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Parity with Hugging Face transformers on the committed fixture cases (tools/make_fixtures.py):
/// pixel values from the fixture go through the Swift model; attentions, hidden state and logits
/// must match the reference.
@Suite struct VisionParityTests {
    static let cases = [
        "vit-p16-hopper-native", "vit-p16-astronaut-160x256", "vit-p16-rocket-240x240", "vit-p16-bf16-hopper-96x128",
        "dino-p8-hopper-native", "dino-p8-astronaut-96x96", "dino-p8-rocket-64x120",
        "dinov2-astronaut-native", "dinov2-rocket-70x98", "dinov2-hopper-84x84",
        "dinov2-reg-astronaut-native", "dinov2-reg-rocket-70x98", "dinov2-swiglu-hopper-native",
        "deit-distilled-hopper-native", "clip-vision-astronaut-native", "clip-vision-rocket-64x96",
        "clip-full-astronaut-native",
    ] + BEiTParityTests.cases

    @Test(arguments: cases)
    func parity(_ name: String) throws {
        let dir = "cases/\(name)"
        let meta = try fixtureMeta(dir)
        let modelName = try #require(meta.model)
        let files = try ModelLocator.resolve(Fixtures.url("models/\(modelName)").path)
        let model = try ModelLoader.loadVision(files)
        let pixels = try fixtureTensor("\(dir)/pixel_values.npy")
        var recorder = AttentionRecorder()
        let out = try model.forward(pixels, observer: &recorder)

        let attn = compare(recorder.attentions, try fixtureTensor("\(dir)/attentions.npy"))
        #expect(attn.within(.attention), "attentions: \(attn)")
        let hidden = compare(out.hiddenState, try fixtureTensor("\(dir)/hidden_state.npy"))
        #expect(hidden.within(.hidden), "hidden_state: \(hidden)")
        if FileManager.default.fileExists(atPath: Fixtures.url("\(dir)/logits.npy").path) {
            let logits = try #require(out.logits, "model has no classifier but the fixture has logits")
            let c = compare(logits, try fixtureTensor("\(dir)/logits.npy"))
            #expect(c.within(.hidden), "logits: \(c)")
        }
        for extra in ["pooled", "cls_logits", "distillation_logits"]
        where FileManager.default.fileExists(atPath: Fixtures.url("\(dir)/\(extra).npy").path) {
            let mine = try #require(extra == "pooled" ? out.pooled : out.extraLogits[extra], "no \(extra) output")
            let c = compare(mine, try fixtureTensor("\(dir)/\(extra).npy"))
            #expect(c.within(.hidden), "\(extra): \(c)")
        }
        // Token layout agrees with the reference's.
        let layout = try #require(meta.layout)
        let grid = try #require(layout.grid)
        #expect(out.layout.grid?.rows == grid[0] && out.layout.grid?.columns == grid[1])
        #expect(out.layout.prefix.map(\.rawValue) == layout.prefix)
    }
}
