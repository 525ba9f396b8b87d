import Testing
import ViTLensAnalysis
import ViTLensCore

@Suite struct AttentionFlowTests {
    /// Against networkx's Edmonds-Karp on the same graph (Abnar's reference solver).
    @Test(arguments: AnalysisReference.modelNames)
    func matchesNetworkxReference(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        #expect(ref.flow.count == 2)
        for c in ref.flow {
            let r = try #require(try replayed(AttentionFlow(readout: Parse.readout(c.readout)), file).result)
            expectClose(r.distribution.row, c.row, "\(model) \(c.readout) row")
            expectClose(r.rawFlow.map { Float($0) }, c.raw, "\(model) \(c.readout) raw")
            #expect(abs(r.distribution.row.reduce(0, +) - 1) < 1e-5)
            #expect(r.layers == file.layers)
        }
    }

    /// One layer: the only paths from u to v are u -> v, so flow = Â[u, v].
    @Test func singleLayerFlowIsTheAttentionRow() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 4))
        let file = try randomAttention(layers: 1, heads: 2, layout: layout, seed: 21)
        let flow = try #require(try replayed(AttentionFlow(), file).result)
        let rollout = try #require(try replayed(Rollout(), file).result)
        expectClose(flow.distribution.row, rollout.row.map { Double($0) }, abs: 1e-6, "one layer")
    }

    @Test func refusesLargeInputs() throws {
        let vitB = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 14, columns: 14, patchSize: 16))
        let withRegister = TokenLayout(prefix: [.cls, .register], grid: PatchGrid(rows: 14, columns: 14, patchSize: 16))
        var observer = AttentionFlow()
        // 12 layers of 198 tokens exceed the budget: begin() refuses before any layer arrives.
        let geometry = AttentionGeometry(layers: 12, heads: 1, tokens: 198, headDim: 0, layout: withRegister)
        #expect(throws: AnalysisError.flowTooLarge(tokens: 198, layers: 12, readoutRows: 1, maxWork: AttentionFlow.maxWork)) {
            try observer.begin(geometry)
        }
        // A ViT-B/16 CLS row is exactly at the limit.
        try observer.begin(AttentionGeometry(layers: 12, heads: 1, tokens: 197, headDim: 0, layout: vitB))
        // The mean of patches multiplies the work by the patch count.
        let small = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 8, columns: 8, patchSize: 16))
        var mean = AttentionFlow(readout: .meanOfPatches)
        #expect(throws: AnalysisError.flowTooLarge(tokens: 65, layers: 12, readoutRows: 64, maxWork: AttentionFlow.maxWork)) {
            try mean.begin(AttentionGeometry(layers: 12, heads: 1, tokens: 65, headDim: 0, layout: small))
        }
        // A forward pass that delivers more layers than it announced is caught at the 13th layer.
        let uniform = [Float](repeating: 1 / 197, count: 197 * 197)
        var lying = AttentionFlow()
        try lying.begin(AttentionGeometry(layers: 12, heads: 1, tokens: 197, headDim: 0, layout: vitB))
        try uniform.withUnsafeBufferPointer { p in
            for l in 0 ..< 12 {
                try lying.observe(LayerAttention(layer: l, heads: 1, tokens: 197, headDim: 0, layout: vitB, probabilities: p))
            }
            #expect(throws: AnalysisError.flowTooLarge(tokens: 197, layers: 13, readoutRows: 1, maxWork: AttentionFlow.maxWork)) {
                try lying.observe(LayerAttention(layer: 12, heads: 1, tokens: 197, headDim: 0, layout: vitB, probabilities: p))
            }
        }
        #expect(AttentionFlow.maxWork == 197 * 12 * 197 * 197)
    }
}
