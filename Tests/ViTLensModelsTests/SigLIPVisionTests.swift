import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// SigLIP's vision tower against transformers 5.23 on the fixtures of tools/make_siglip_fixtures.py:
/// encoder attentions, `last_hidden_state`, the pooling head's output and its probe attention
/// (delivered as layer `L`), the SiglipImageProcessor's pixel values, and the loader's refusals.
@Suite struct SigLIPVisionTests {
    static let cases = ["siglip-vision-astronaut-native", "siglip-vision-rocket-40x64", "siglip-full-hopper-native"]

    static func model(_ caseName: String) throws -> (VisionTransformer, Tensor, String) {
        let dir = "cases/\(caseName)"
        let name = try #require(try fixtureMeta(dir).model)
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(name)").path))
        return (model, try fixtureTensor("\(dir)/pixel_values.npy"), name)
    }

    /// `[layers, heads, N, N]` -> the layers `range`.
    static func layers(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let block = t.shape[1] * t.shape[2] * t.shape[3]
        return Tensor(shape: [range.count] + Array(t.shape.dropFirst()),
                      values: Array(t.values[(range.lowerBound * block) ..< (range.upperBound * block)]))
    }

    @Test(arguments: cases)
    func parity(_ name: String) throws {
        let (model, pixels, _) = try Self.model(name)
        let dir = "cases/\(name)"
        let l = model.spec.layers
        #expect(model.observedLayers == l + 1)
        var recorder = AttentionRecorder()
        let out = try model.forward(pixels, observer: &recorder)
        #expect(recorder.attentions.shape[0] == l + 1)

        let attn = compare(Self.layers(recorder.attentions, 0 ..< l), try fixtureTensor("\(dir)/attentions.npy"))
        #expect(attn.within(.attention), "attentions: \(attn)")
        let hidden = compare(out.hiddenState, try fixtureTensor("\(dir)/hidden_state.npy"))
        #expect(hidden.within(.hidden), "hidden_state: \(hidden)")
        let pooled = compare(try #require(out.pooled), try fixtureTensor("\(dir)/pooled.npy"))
        #expect(pooled.within(.hidden), "pooled: \(pooled)")

        // Layer L: every query row of head h is the probe's attention of head h.
        let probe = try fixtureTensor("\(dir)/probe_attention.npy")
        let (h, n) = (probe.shape[0], probe.shape[1])
        let head = Self.layers(recorder.attentions, l ..< l + 1)
        let expected = Tensor(shape: [1, h, n, n], values: (0 ..< h).flatMap { hh in
            (0 ..< n).flatMap { _ in probe.values[(hh * n) ..< ((hh + 1) * n)] }
        })
        let c = compare(head, expected)
        #expect(c.within(.attention), "probe attention: \(c)")

        let meta = try fixtureMeta(dir)
        let grid = try #require(meta.layout?.grid)
        #expect(out.layout.prefix.isEmpty && meta.layout?.prefix == [])
        #expect(out.layout.grid?.rows == grid[0] && out.layout.grid?.columns == grid[1])
        #expect(out.layout.poolingHeadLayer == l)
        #expect(out.layout.tokenCount == n)
    }

    /// The Swift SiglipImageProcessor (bicubic resize to the exact size, no crop, 0.5/0.5) gives
    /// the fixture's pixel values bit for bit.
    @Test(arguments: cases)
    func pixelValues(_ name: String) throws {
        let (_, expected, model) = try Self.model(name)
        let processor = try ImageProcessor(contentsOf: Fixtures.url("models/\(model)/preprocessor_config.json"))
        #expect(processor.config.processorType == .siglip)
        let photo = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("cases/\(name)/meta.json"))) as? [String: Any])["photo"] as? String
        let image = try ImageIO.load(Fixtures.repositoryRoot.appendingPathComponent(try #require(photo)))
        let size = (height: expected.shape[1], width: expected.shape[2])
        let pixels = processor.pixelValues(image, size: size)
        #expect(pixels.shape == expected.shape)
        #expect(compare(pixels, expected).maxAbsDiff == 0, "\(compare(pixels, expected))")
    }

    /// `SiglipImageProcessor` defaults (transformers 5.23 `SiglipImageProcessorPil`): exact 224 x 224,
    /// bicubic, no crop, mean = std = 0.5, and an integer `size` is the shortest edge.
    @Test func processorDefaults() throws {
        let c = try ImageProcessorConfig(jsonData: Data(#"{"image_processor_type": "SiglipImageProcessor"}"#.utf8), file: "p.json")
        #expect(c.size == .exact(height: 224, width: 224) && c.resample == .bicubic && !c.doCenterCrop)
        #expect(c.imageMean == [0.5, 0.5, 0.5] && c.imageStd == [0.5, 0.5, 0.5] && c.doConvertRGB)
        let int = try ImageProcessorConfig(jsonData: Data(#"{"image_processor_type": "SiglipImageProcessorPil", "size": 96}"#.utf8), file: "p.json")
        #expect(int.size == .shortestEdge(96))
        #expect(throws: ImageError.self) {
            _ = try ImageProcessorConfig(jsonData: Data(#"{"image_processor_type": "SiglipImageProcessor", "do_center_crop": true}"#.utf8), file: "p.json")
        }
    }

    /// The pooling head's layer carries logits, queries and keys that agree with its
    /// probabilities: `softmax(q·k / sqrt(dh)) = p` in every row.
    @Test func poolingLayerCaptures() throws {
        let (model, pixels, _) = try Self.model("siglip-vision-rocket-40x64")
        var recorder = AttentionRecorder(options: [.logits, .queries, .keys])
        _ = try model.forward(pixels, observer: &recorder)
        let l = model.spec.layers, h = model.spec.heads, dh = model.spec.headDim
        let n = recorder.attentions.shape[2]
        var worst: Float = 0
        for head in 0 ..< h {
            for i in [0, n / 2, n - 1] {
                let q = ((l * h + head) * n + i) * dh
                var logits = (0 ..< n).map { j -> Float in
                    let k = ((l * h + head) * n + j) * dh
                    return (0 ..< dh).reduce(0) { $0 + recorder.queries.values[q + $1] * recorder.keys.values[k + $1] } / Float(dh).squareRoot()
                }
                let row = ((l * h + head) * n + i) * n
                for j in 0 ..< n { worst = max(worst, abs(logits[j] - recorder.logits.values[row + j])) }
                let m = logits.max() ?? 0
                logits = logits.map { expf($0 - m) }
                let s = logits.reduce(0, +)
                for j in 0 ..< n { worst = max(worst, abs(logits[j] / s - recorder.attentions.values[row + j])) }
            }
        }
        #expect(worst < 1e-5, "max deviation \(worst)")
    }

    /// A batch gives each image what its single pass gives, the pooling head's layer included.
    @Test func batchMatchesSingle() throws {
        let (model, pixels, _) = try Self.model("siglip-vision-astronaut-native")
        let other = Tensor(shape: pixels.shape, values: pixels.values.map { 0.5 * $0 - 0.1 })
        var observers = [AttentionRecorder(), AttentionRecorder()]
        let outs = try model.forward(batch: [pixels, other], observers: &observers)
        for (b, p) in [pixels, other].enumerated() {
            var single = AttentionRecorder()
            let out = try model.forward(p, observer: &single)
            #expect(compare(observers[b].attentions, single.attentions).maxAbsDiff <= 1e-6)
            #expect(compare(try #require(outs[b].pooled), try #require(out.pooled)).maxAbsDiff <= 1e-5)
        }
    }

    /// The memory estimate counts the pooling head's layer for observers that keep every layer.
    @Test func estimateCountsThePoolingLayer() throws {
        let (model, _, _) = try Self.model("siglip-vision-astronaut-native")
        let e = model.memoryEstimate(height: 48, width: 48, observer: AttentionRecorder())
        #expect(e.observers == (model.spec.layers + 1) * model.spec.heads * 36 * 36 * 4)
    }

    /// A "siglip2" config is refused naming the difference; a zero size is refused in one line.
    @Test(arguments: [("model_type", "\"siglip2_vision_model\"", "NaFlex"), ("hidden_size", "0", "hidden_size"),
                      ("num_attention_heads", "5", "not a multiple"), ("vision_use_head", "\"yes\"", "vision_use_head")])
    func hostileConfig(_ key: String, _ value: String, _ needle: String) throws {
        let copy = try FixtureModelCopy("siglip-vision")
        defer { copy.remove() }
        try copy.setJSON("config.json", key, value)
        #expect {
            _ = try ModelLoader.load(try ModelLocator.resolve(copy.url.path))
        } throws: { error in
            let text = "\(error)"
            return text.contains(needle) && text.contains("config.json") && !text.contains("\n")
        }
    }

    /// A full "siglip" config without `vision_config` names the field.
    @Test func fullWithoutVisionConfig() throws {
        let copy = try FixtureModelCopy("siglip-full")
        defer { copy.remove() }
        let config = copy.file("config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "\"vision_config\"", with: "\"vision_cfg\"").write(to: config, atomically: true, encoding: .utf8)
        #expect {
            _ = try ModelLoader.load(try ModelLocator.resolve(copy.url.path))
        } throws: { error in
            guard case ModelError.configMissingField(let file, "vision_config") = error else { return false }
            return file.hasSuffix("config.json")
        }
    }
}
