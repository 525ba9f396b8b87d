import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Deletion and insertion curves against transformers (tools/make_faithfulness_fixtures.py: its own
/// numpy baselines and patch order, the Hugging Face model's class logit after every step).
@Suite struct FaithfulnessParityTests {
    /// The logits differ only by the forward's Float32 rounding (the vision parity tests hold them
    /// to about 1e-6) and the blurred inputs by one rounding of a Double mean, so 1e-4 absolute on
    /// logits of magnitude about 1 leaves two orders of margin (measured: printed below).
    @Test func curvesMatchTransformers() throws {
        let dir = "faithfulness/vit-p16-cls-hopper-32x48"
        let expected = try fixtureTensor("\(dir)/curves.npy")
        #expect(expected.shape == [2, 2, 4])
        let raw = try fixtureTensor("gradients/vit-p16-cls-hopper-32x48/pixel_values.npy")
        let pixels = raw.reshaped(Array(raw.shape.suffix(3)))
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/vit-p16-cls").path))
        let map = Tensor(shape: [2, 3], values: [0.3, 0.9, 0.1, 0.5, 0.9, -0.2])
        var worst = 0.0
        for (b, baseline) in [PerturbationBaseline.channelMean, .boxBlur(radius: 2)].enumerated() {
            let report = try model.faithfulness(pixels: pixels, target: .classLogit(4), methods: [("m", map)], steps: 3, baseline: baseline)
            let c = report.methods[0].curves
            for (k, curve) in [c.deletion, c.insertion].enumerated() {
                for s in 0 ..< 4 {
                    let diff = abs(curve.values[s] - Double(expected.values[(b * 2 + k) * 4 + s]))
                    worst = max(worst, diff)
                    #expect(diff < 1e-4, "baseline \(baseline.name) curve \(k) step \(s)")
                }
            }
        }
        print("faithfulness parity: max |Swift - transformers| = \(worst)")
    }
}
