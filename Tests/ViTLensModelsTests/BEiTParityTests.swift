import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// BEiT and Data2Vec-vision against transformers (fixtures of tools/make_beit_fixtures.py), beyond
/// what ``VisionParityTests`` checks for every family: the preprocessing from the photo, every
/// block's output, the attention logits (which include the relative position bias), and the pooled
/// vector of mean pooling.
@Suite struct BEiTParityTests {
    static let cases = [
        "beit-rel-hopper-native", "beit-rel-astronaut-48x80", "beit-shared-rocket-native", "beit-shared-hopper-64x40",
        "data2vec-vision-astronaut-native", "data2vec-vision-rocket-80x48",
    ]

    /// Every block's output, `[layers, tokens, hidden]`.
    struct HiddenStates: AttentionObserver {
        var states: [Float] = []
        var wantsHiddenStates: Bool { true }
        mutating func observe(_ attention: LayerAttention) throws {}
        mutating func observeHiddenState(layer: Int, tokens: Int, hidden: Int, states: UnsafeBufferPointer<Float>) throws {
            self.states += states
        }
    }

    func meta(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.url("cases/\(name)/meta.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(arguments: cases)
    func pixelsFromThePhoto(_ name: String) throws {
        let meta = try meta(name)
        let model = try #require(meta["model"] as? String)
        let photo = try #require(meta["photo"] as? String)
        let size = (meta["requested_size"] as? [Int]).map { (height: $0[0], width: $0[1]) }
        let session = try AnalysisSession(model: Fixtures.url("models/\(model)").path)
        let input = try session.image(at: Fixtures.repositoryRoot.appendingPathComponent(photo), size: size)
        guard case .image(let prepared) = input.source else { Issue.record("not an image input"); return }
        let expected = try fixtureTensor("cases/\(name)/pixel_values.npy")
        #expect(prepared.pixels.shape == expected.shape)
        // BeitImageProcessorPil resizes uint8 with Pillow, then rescales and normalises: bit-exact.
        #expect(prepared.pixels.values == expected.values, "pixel_values: \(compare(prepared.pixels, expected))")
    }

    @Test(arguments: cases)
    func blocksLogitsAndPooling(_ name: String) throws {
        let dir = "cases/\(name)"
        let modelName = try #require(meta(name)["model"] as? String)
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/\(modelName)").path))
        let pixels = try fixtureTensor("\(dir)/pixel_values.npy")

        var recorder = AttentionRecorder(options: .logits)
        var hidden = HiddenStates()
        var both = ObserverPair(recorder, hidden)
        let out = try model.forward(pixels, observer: &both)
        (recorder, hidden) = (both.first, both.second)

        // softmax(QKᵀ/√d + B): the logits carry the relative position bias, as HF's softmax input.
        let logits = compare(recorder.logits, try fixtureTensor("\(dir)/attention_logits.npy"))
        #expect(logits.within(.hidden), "attention logits: \(logits)")
        let attentions = compare(recorder.attentions, try fixtureTensor("\(dir)/attentions.npy"))
        #expect(attentions.within(.attention), "attentions: \(attentions)")
        let expectedStates = try fixtureTensor("\(dir)/hidden_states.npy")
        let states = compare(Tensor(shape: expectedStates.shape, values: hidden.states), expectedStates)
        #expect(hidden.states.count == expectedStates.values.count && states.within(.hidden), "hidden states: \(states)")

        if FileManager.default.fileExists(atPath: Fixtures.url("\(dir)/pooled.npy").path) {
            let pooled = try #require(out.pooled, "no pooled output")
            let c = compare(pooled, try fixtureTensor("\(dir)/pooled.npy"))
            #expect(c.within(.hidden), "pooled: \(c)")
        } else {
            // Without mean pooling HF's pooler_output is the CLS row of the final LayerNorm.
            #expect(out.pooled == nil)
            #expect(model.pooledEmbedding(out) == Array(out.hiddenState.values[0 ..< model.spec.hidden]))
        }
    }

    /// A `BeitForMaskedImageModeling` checkpoint: the backbone under `beit.`, the head's own
    /// `layernorm` and `lm_head` at the root. The backbone's final LayerNorm is `beit.layernorm`, not
    /// the head's; the head is ignored. Built from beit-shared (no mean pooling, so a final LayerNorm).
    @Test func maskedImageModelingCheckpointUsesTheBackboneNorm() throws {
        let copy = try FixtureModelCopy("beit-shared")
        defer { copy.remove() }
        try copy.setJSON("config.json", "architectures", "[\"BeitForMaskedImageModeling\"]")
        try copy.setJSON("config.json", "use_mask_token", "true")
        try copy.editWeights { t in
            var renamed: [String: Tensor] = [:]
            for (k, v) in t { renamed["beit." + k] = v }
            renamed["beit.embeddings.mask_token"] = Tensor(shape: [1, 1, 48], values: [Float](repeating: 0.3, count: 48))
            renamed["layernorm.weight"] = Tensor(shape: [48], values: [Float](repeating: 2, count: 48))
            renamed["layernorm.bias"] = Tensor(shape: [48], values: [Float](repeating: 1, count: 48))
            renamed["lm_head.weight"] = Tensor(shape: [8, 48], values: [Float](repeating: 0.1, count: 8 * 48))
            renamed["lm_head.bias"] = Tensor(zeros: [8])
            t = renamed
        }
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(copy.url.path))
        let out = try model.forward(try fixtureTensor("cases/beit-shared-rocket-native/pixel_values.npy"))
        let c = compare(out.hiddenState, try fixtureTensor("cases/beit-shared-rocket-native/hidden_state.npy"))
        #expect(c.within(.hidden), "hidden_state: \(c)")
        #expect(out.logits == nil)
    }
}
