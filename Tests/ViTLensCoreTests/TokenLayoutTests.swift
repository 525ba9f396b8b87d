import Testing
@testable import ViTLensCore

@Suite struct TokenLayoutTests {
    @Test func registersLayout() {
        let layout = TokenLayout(prefix: [.cls, .register, .register], grid: PatchGrid(rows: 2, columns: 3, patchSize: 14))
        #expect(layout.tokenCount == 9)
        #expect(layout.patchRange == 3 ..< 9)
        #expect(layout.clsIndex == 0)
        #expect(layout.registerIndices == [1, 2])
        #expect(layout.patchIndex(row: 1, column: 0) == 6)
    }

    @Test func textLayout() {
        let layout = TokenLayout(textTokens: 7)
        #expect(layout.tokenCount == 7)
        #expect(layout.patchRange == 0 ..< 7)
        #expect(layout.clsIndex == nil)
    }

    @Test func recorderStacksLayers() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 1, columns: 1, patchSize: 1))
        var rec = AttentionRecorder()
        try rec.begin(AttentionGeometry(layers: 2, heads: 1, tokens: 2, headDim: 1, layout: layout))
        for l in 0 ..< 2 {
            let probs: [Float] = [1, 0, Float(l), 1 - Float(l)]
            try probs.withUnsafeBufferPointer {
                try rec.observe(LayerAttention(layer: l, heads: 1, tokens: 2, headDim: 1, layout: layout, probabilities: $0))
            }
        }
        #expect(rec.attentions.shape == [2, 1, 2, 2])
        #expect(rec.attentions.values == [1, 0, 0, 1, 1, 0, 1, 0])
    }
}
