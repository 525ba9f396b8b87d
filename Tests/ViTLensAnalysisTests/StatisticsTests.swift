import Foundation
import Testing
import ViTLensAnalysis
import ViTLensCore

@Suite struct MeanAttentionDistanceTests {
    @Test(arguments: AnalysisReference.modelNames)
    func matchesNumPyReference(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        for (renormalize, key) in [(false, "reference"), (true, "renormalized")] {
            let r = try #require(try replayed(MeanAttentionDistance(renormalize: renormalize), file).result)
            #expect(r.mean.shape == [file.layers, file.heads] && r.images == 1)
            expectClose(r.mean.values, try #require(ref.mad[key]).flatMap { $0 }, abs: 0, rel: 1e-5, "\(model) \(key)")
        }
    }

    @Test func accumulatesOverImages() throws {
        let ref = try AnalysisReference.model("dinov2_registers")
        var mad = MeanAttentionDistance()
        try ref.file().replay(into: &mad)
        try ref.file(second: true).replay(into: &mad)
        let r = try #require(mad.result)
        let first = try #require(ref.mad["reference"]).flatMap { $0 }
        let second = try #require(ref.mad["second_image_reference"]).flatMap { $0 }
        #expect(r.images == 2 && r.perImage.shape == [2, 3, 2])
        expectClose(r.mean.values, zip(first, second).map { ($0 + $1) / 2 }, abs: 0, rel: 1e-5, "mean of two")
        expectClose(Array(r.perImage.values[6...]), second, abs: 0, rel: 1e-5, "second image")
        // A model with another geometry cannot join the accumulation.
        let deit = try AnalysisReference.model("deit_distilled").file()
        #expect(throws: AnalysisError.self) { try deit.replay(into: &mad) }
    }

    /// ALGORITHMS.md section 7's anchors: uniform attention over the patches of a grid.
    @Test(arguments: [(14, 14, 16, 116.49), (16, 16, 14, 116.57), (7, 7, 32, 115.50), (37, 37, 14, 269.99), (3, 5, 14, -1)])
    func uniformAttentionAnchors(rows: Int, columns: Int, patch: Int, expected: Double) throws {
        let grid = PatchGrid(rows: rows, columns: columns, patchSize: patch)
        let d = MeanAttentionDistance.distanceMatrix(grid)
        let g = grid.count
        // Uniform attention: MAD = mean of D, computed here in double from the closed form.
        var exact = 0.0
        var worst = 0.0
        for i in 0 ..< g {
            for j in 0 ..< g {
                let dr = Double(i / columns - j / columns), dc = Double(i % columns - j % columns)
                let dij = Double(patch) * (dr * dr + dc * dc).squareRoot()
                exact += dij
                worst = max(worst, abs(Double(d.values[i * g + j]) - dij))
            }
        }
        exact /= Double(g * g)
        #expect(d.shape == [g, g] && worst < 1e-4)
        if expected > 0 { #expect(abs(exact - expected) < 0.005, "closed form \(exact)") }
        if g <= 256 {
            let layout = TokenLayout(prefix: [.cls], grid: grid)
            let n = layout.tokenCount
            let file = try syntheticAttention(layers: 1, heads: 1, layout: layout) { _, _, i in
                // CLS gets nothing, so the reference (no renormalisation) sees a full uniform row.
                [0] + [Float](repeating: 1 / Float(n - 1), count: n - 1)
            }
            let mad = try #require(try replayed(MeanAttentionDistance(), file).result)
            #expect(abs(Double(mad.mean[0, 0]) - exact) < 1e-3)
        }
    }

    @Test func uniformOverAllTokensIncludingCLS() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 14, columns: 14, patchSize: 16))
        let file = try syntheticAttention(layers: 1, heads: 1, layout: layout) { _, _, _ in
            [Float](repeating: 1 / 197, count: 197)
        }
        let reference = try #require(try replayed(MeanAttentionDistance(), file).result)
        let renormalized = try #require(try replayed(MeanAttentionDistance(renormalize: true), file).result)
        #expect(abs(reference.mean[0, 0] - 115.90) < 0.005)
        #expect(abs(renormalized.mean[0, 0] - 116.49) < 0.005)
    }

    @Test func identityAndNearestNeighbours() throws {
        let grid = PatchGrid(rows: 4, columns: 6, patchSize: 16)
        let layout = TokenLayout(prefix: [.cls, .register], grid: grid)
        let n = layout.tokenCount
        let identity = try syntheticAttention(layers: 2, heads: 2, layout: layout) { _, _, i in
            var row = [Float](repeating: 0, count: n)
            row[i] = 1
            return row
        }
        let zero = try #require(try replayed(MeanAttentionDistance(), identity).result)
        #expect(zero.mean.values == [0, 0, 0, 0])
        // Every patch attends uniformly to its 4-neighbours (fewer at the border): distance p exactly.
        let neighbours = try syntheticAttention(layers: 1, heads: 1, layout: layout) { _, _, i in
            var row = [Float](repeating: 0, count: n)
            guard i >= 2 else {
                row[i] = 1
                return row
            }
            let r = (i - 2) / 6, c = (i - 2) % 6
            let nb = [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)].filter { $0.0 >= 0 && $0.0 < 4 && $0.1 >= 0 && $0.1 < 6 }
            for (rr, cc) in nb { row[2 + rr * 6 + cc] = 1 / Float(nb.count) }
            return row
        }
        let p = try #require(try replayed(MeanAttentionDistance(), neighbours).result)
        #expect(abs(p.mean[0, 0] - 16) < 1e-4)
    }

    @Test func needsAGrid() throws {
        let file = try randomAttention(layers: 1, heads: 1, layout: TokenLayout(textTokens: 4))
        #expect(throws: AnalysisError.needsPatchGrid(analysis: "mean attention distance")) {
            try replayed(MeanAttentionDistance(), file)
        }
    }
}

@Suite struct AttentionEntropyTests {
    @Test(arguments: AnalysisReference.modelNames)
    func matchesNumPyReference(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        for (queries, key) in [(AttentionEntropy.Queries.all, "all"), (.patches, "patches")] {
            let r = try #require(try replayed(AttentionEntropy(queries: queries), file).result)
            expectClose(r.mean.values, try #require(ref.entropy[key]).flatMap { $0 }, abs: 1e-5, "\(model) \(key)")
        }
    }

    @Test func uniformAndOneHot() throws {
        let layout = TokenLayout(textTokens: 8)
        let file = try syntheticAttention(layers: 1, heads: 2, layout: layout) { _, h, i in
            if h == 0 { return [Float](repeating: 1 / 8, count: 8) }
            var row = [Float](repeating: 0, count: 8)
            row[i] = 1
            return row
        }
        let r = try #require(try replayed(AttentionEntropy(), file).result)
        #expect(abs(Double(r.mean[0, 0]) - log(8)) < 1e-6)
        #expect(r.mean[0, 1] == 0)
    }
}

@Suite struct AccumulationGuardTests {
    /// A layer index or head count beyond what `begin` announced is an error, not a crash.
    @Test func layersBeyondTheAnnouncedGeometryAreRejected() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 8))
        let file = try randomAttention(layers: 2, heads: 2, layout: layout)
        var mad = MeanAttentionDistance()
        var entropy = AttentionEntropy()
        let announced = AttentionGeometry(layers: 1, heads: 2, tokens: 5, headDim: 0, layout: layout)
        try mad.begin(announced)
        try entropy.begin(announced)
        file.attentions.values.withUnsafeBufferPointer { v in
            let second = LayerAttention(layer: 1, heads: 2, tokens: 5, headDim: 0, layout: layout,
                                        probabilities: UnsafeBufferPointer(rebasing: v[50 ..< 100]))
            #expect(throws: AnalysisError.geometryMismatch(analysis: "mean attention distance", expected: "1 layers x 2 heads", found: "layer 1 with 2 heads")) {
                try mad.observe(second)
            }
            #expect(throws: AnalysisError.self) { try entropy.observe(second) }
        }
    }
}
