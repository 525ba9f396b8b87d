import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// BERT parity with Hugging Face on fixture token ids (the tokenizer has its own golden tests).
@Suite struct TextParityTests {
    func check(model files: ModelFiles, case dir: String, tolerance: Tolerance) throws {
        guard case .text(let model) = try ModelLoader.load(files) else {
            Issue.record("\(files.directory.path) did not load as a text model")
            return
        }
        let ids = try NPY.read(Fixtures.url("\(dir)/input_ids.npy")).integers.map(Int.init)
        let types = try NPY.read(Fixtures.url("\(dir)/token_type_ids.npy")).integers.map(Int.init)
        var recorder = AttentionRecorder()
        let out = try model.forward(ids: ids, typeIds: types, observer: &recorder)
        let attn = compare(recorder.attentions, try fixtureTensor("\(dir)/attentions.npy"))
        #expect(attn.within(tolerance), "attentions: \(attn)")
        let hidden = compare(out.hiddenState, try fixtureTensor("\(dir)/hidden_state.npy"))
        #expect(hidden.within(.hidden), "hidden_state: \(hidden)")
        #expect(out.layout == TokenLayout(textTokens: ids.count))
    }

    @Test(arguments: ["bert-tiny-animal", "bert-tiny-accents", "bert-tiny-wordpiece"])
    func tinyBERT(_ name: String) throws {
        let files = try ModelLocator.resolve(Fixtures.url("models/bert-tiny").path)
        try check(model: files, case: "cases/\(name)", tolerance: .attention)
    }

    @Test(.enabled(if: RealModels.available(RealModels.miniLM), "all-MiniLM-L6-v2 not cached: run scripts/fetch_models.sh"))
    func realMiniLM() throws {
        let files = try ModelLocator.resolve(RealModels.miniLM.path)
        try check(model: files, case: "cases/minilm-animal", tolerance: .realAttention)
    }
}
