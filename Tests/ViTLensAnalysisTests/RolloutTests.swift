import Testing
import ViTLensAnalysis
import ViTLensCore

@Suite struct RolloutTests {
    static let strategies: [Rollout.Strategy] = [.fullProduct, .storedLayers]

    /// The options of one reference case.
    static func options(_ c: AnalysisReference.RolloutCase, _ strategy: Rollout.Strategy, _ precision: Rollout.StoredPrecision) -> Rollout.Options {
        Rollout.Options(
            fusion: Parse.fusion(c.fusion), discardRatio: c.discardRatio,
            discardMode: c.discardMode == "global" ? .global : .perRow, residual: Parse.residual(c.residual),
            firstLayer: c.firstLayer, lastLayer: c.lastLayer, readout: Parse.readout(c.readout), strategy: strategy,
            storedPrecision: precision)
    }

    /// Every reference case (fusions, residual modes, discard variants, layer ranges, readouts) on
    /// both tiny HF models, with both strategies (stored layers in float32), against the NumPy
    /// reference at 1e-5.
    @Test(arguments: AnalysisReference.modelNames, strategies)
    func matchesNumPyReference(model: String, strategy: Rollout.Strategy) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        #expect(ref.rollout.count == 18)
        for c in ref.rollout {
            let options = Self.options(c, strategy, .float32)
            let result = try #require(try replayed(Rollout(options), file).result)
            expectClose(result.row, c.row, "\(model) \(c.name)")
            if strategy == .fullProduct {
                let m = try #require(result.matrix)
                let n = file.tokens
                let sums = (0 ..< n).map { i in m.values[(i * n) ..< ((i + 1) * n)].reduce(0, +) }
                expectClose(sums, c.matrixRowSums, abs: 2e-5, "\(model) \(c.name) row sums")
            } else {
                #expect(result.matrix == nil)
            }
        }
    }

    /// Stored layers at half precision on every reference case: within the relative part of
    /// ``Rollout/StoredPrecision``'s bound, `((1 + 2⁻¹¹)^L − 1) · |row|`, of the NumPy row (plus the
    /// float32 parity tolerance 1e-5 and 1e-9 for the absolute part, below 1e-12 at these sizes).
    @Test(arguments: AnalysisReference.modelNames)
    func halfPrecisionStoredLayersStayWithinTheBound(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        for c in ref.rollout {
            var rollout = try replayed(Rollout(Self.options(c, .storedLayers, .float16)), file)
            let result = try #require(rollout.result)
            let layers = result.layers.count
            let relative = HalfPrecisionBound.relative(layers: layers)
            expectClose(result.row, c.row, abs: 1e-5 + relative * 1e-5 + 1e-9, rel: relative, "\(model) \(c.name) float16")
            #expect(rollout.layersStoredAtHalfPrecision == layers)
            rollout = try replayed(Rollout(Self.options(c, .storedLayers, .float32)), file)
            #expect(rollout.layersStoredAtHalfPrecision == 0)
        }
    }

    @Test(arguments: AnalysisReference.modelNames)
    func resultSplitsTheRowByTokenRole(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        let result = try #require(try replayed(Rollout(), file).result)
        let layout = file.layout
        let grid = try #require(layout.grid)
        #expect(result.map.shape == [grid.rows, grid.columns])
        #expect(Array(result.map.values) == Array(result.row[layout.patchRange]))
        #expect(result.clsMass == result.row[0])
        let nonCLS = result.row[1 ..< layout.prefixCount].reduce(0, +)
        #expect(abs(result.prefixMass - nonCLS) < 1e-7 && result.prefixMass > 0)
        let total = result.map.values.reduce(0, +) + (result.clsMass ?? 0) + result.prefixMass
        #expect(abs(total - 1) < 1e-5)
        #expect(result.layers == 0 ... file.layers - 1)
    }

    /// Without discard, mean fusion and a residual, R is row-stochastic (every row sums to 1).
    @Test(arguments: [Rollout.Residual.identityRenormalized, .halfIdentity, .none])
    func fullProductRowsSumToOne(residual: Rollout.Residual) throws {
        let layout = TokenLayout(prefix: [.cls, .register], grid: PatchGrid(rows: 4, columns: 3, patchSize: 16))
        let file = try randomAttention(layers: 4, heads: 3, layout: layout, seed: 7)
        let r = try #require(try replayed(Rollout(.init(residual: residual, strategy: .fullProduct)), file).result)
        let m = try #require(r.matrix)
        let n = layout.tokenCount
        for i in 0 ..< n {
            let s = m.values[(i * n) ..< ((i + 1) * n)].reduce(0, +)
            #expect(abs(s - 1) < 1e-5, "row \(i) sums to \(s)")
        }
        #expect(m.values.allSatisfy { $0 >= 0 })
    }

    /// With identical heads, max/min/head fusion return that head exactly and mean within rounding
    /// (exactly for a power-of-two head count), std is ~0, so the rollouts agree.
    @Test func identicalHeadsFuseToTheHead() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 3, columns: 3, patchSize: 8))
        let one = try randomAttention(layers: 2, heads: 1, layout: layout, seed: 3)
        let n = layout.tokenCount
        func stacked(_ heads: Int) throws -> AttentionArrayFile {
            var values: [Float] = []
            for l in 0 ..< 2 {
                let block = Array(one.attentions.values[(l * n * n) ..< ((l + 1) * n * n)])
                for _ in 0 ..< heads { values += block }
            }
            return try AttentionArrayFile(attentions: Tensor(shape: [2, heads, n, n], values: values), layout: layout, name: "stacked")
        }
        let reference = try #require(try replayed(Rollout(), one).result)
        let three = try stacked(3), four = try stacked(4)
        for fusion in [HeadFusion.max, .min, .head(2)] {
            #expect(try #require(try replayed(Rollout(.init(fusion: fusion)), three).result).row == reference.row, "\(fusion)")
        }
        #expect(try #require(try replayed(Rollout(.init(fusion: .mean)), four).result).row == reference.row)
        let mean3 = try #require(try replayed(Rollout(.init(fusion: .mean)), three).result)
        expectClose(mean3.row, reference.row.map { Double($0) }, abs: 1e-6, "mean of 3 identical heads")
        let head = one.attentions.slice(0).slice(0)
        #expect(try HeadFusion.mean.fuse(four.attentions.slice(0)) == head)
        #expect(try HeadFusion.std.fuse(four.attentions.slice(0)).values.allSatisfy { $0 == 0 })
        #expect(try HeadFusion.std.fuse(three.attentions.slice(0)).values.allSatisfy { $0 < 1e-7 })
    }

    @Test func fusionFormulas() throws {
        // Two heads, two positions: [1, 4] and [3, 0].
        let stack = Tensor(shape: [2, 2], values: [1, 4, 3, 0])
        #expect(try HeadFusion.mean.fuse(stack).values == [2, 2])
        #expect(try HeadFusion.max.fuse(stack).values == [3, 4])
        #expect(try HeadFusion.min.fuse(stack).values == [1, 0])
        #expect(try HeadFusion.std.fuse(stack).values == [1, 2])  // population std (ddof = 0)
        #expect(try HeadFusion.head(1).fuse(stack).values == [3, 0])
        #expect(throws: AnalysisError.headOutOfRange(head: 2, heads: 2)) { try HeadFusion.head(2).fuse(stack) }
    }

    /// A discard test with hand-computed expectations: two heads fuse to a known matrix.
    @Test func perRowDiscardDropsTheSmallestOffDiagonalEntries() throws {
        let layout = TokenLayout(textTokens: 3)
        // One layer, one head; rows [0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25, 0.25, 0.5].
        let a: [Float] = [0.5, 0.3, 0.2, 0.1, 0.1, 0.8, 0.25, 0.25, 0.5]
        let file = try AttentionArrayFile(attentions: Tensor(shape: [1, 1, 3, 3], values: a), layout: layout, name: "t")
        // r = 0.5: floor(0.5 * 2) = 1 off-diagonal entry per row; ties drop the lower column.
        let options = Rollout.Options(discardRatio: 0.5, readout: .query(.token(0)), strategy: .fullProduct)
        let m = try #require(try replayed(Rollout(options), file).result?.matrix)
        // Row 0: drop 0.2 -> [1.5, 0.3, 0] / 1.8. Row 1: drop 0.1 (col 0) -> [0, 1.1, 0.8] / 1.9.
        // Row 2: tie 0.25/0.25 -> drop col 0 -> [0, 0.25, 1.5] / 1.75.
        let expected: [Double] = [1.5 / 1.8, 0.3 / 1.8, 0, 0, 1.1 / 1.9, 0.8 / 1.9, 0, 0.25 / 1.75, 1.5 / 1.75]
        expectClose(m.values, expected, abs: 1e-6, "per-row discard")
    }

    @Test func globalDiscardNeverDropsCLSToCLS() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 1, columns: 2, patchSize: 4))
        // CLS->CLS is the smallest entry of all; it must survive a 0.9 global discard.
        let a: [Float] = [0.01, 0.49, 0.5, 0.3, 0.3, 0.4, 0.2, 0.3, 0.5]
        let file = try AttentionArrayFile(attentions: Tensor(shape: [1, 1, 3, 3], values: a), layout: layout, name: "t")
        let options = Rollout.Options(discardRatio: 0.9, discardMode: .global, residual: .none, strategy: .fullProduct)
        let m = try #require(try replayed(Rollout(options), file).result?.matrix)
        // floor(0.9 * 8) = 7 of the 8 eligible entries go. Ties fall in row-major order, so of the two
        // 0.5s the one at (0, 2) goes first and only (2, 2) stays.
        #expect(m.values == [0.01, 0, 0, 0, 0, 0, 0, 0, 0.5])
    }

    @Test func rejectsBadOptions() throws {
        #expect(throws: AnalysisError.discardRatioOutOfRange(1)) { try Rollout(.init(discardRatio: 1)) }
        #expect(throws: AnalysisError.discardRatioOutOfRange(-0.1)) { try Rollout(.init(discardRatio: -0.1)) }
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 4))
        let file = try randomAttention(layers: 3, heads: 2, layout: layout)
        #expect(throws: AnalysisError.layerOutOfRange(layer: 3, layers: 3)) { try replayed(Rollout(.init(lastLayer: 3)), file) }
        #expect(throws: AnalysisError.layerOutOfRange(layer: -4, layers: 3)) { try replayed(Rollout(.init(firstLayer: -4)), file) }
        #expect(throws: AnalysisError.emptyLayerRange(first: 2, last: 1)) { try replayed(Rollout(.init(firstLayer: 2, lastLayer: 1)), file) }
        #expect(throws: AnalysisError.headOutOfRange(head: 2, heads: 2)) { try replayed(Rollout(.init(fusion: .head(2))), file) }
        #expect(throws: AnalysisError.patchOutsideGrid(row: 2, column: 0, grid: layout.grid!)) {
            try replayed(Rollout(.init(readout: .query(.patch(row: 2, column: 0)))), file)
        }
        #expect(throws: AnalysisError.tokenOutOfRange(token: 5, tokens: 5)) { try replayed(Rollout(.init(readout: .query(.token(5)))), file) }
        let noCLS = try randomAttention(layers: 1, heads: 1, layout: TokenLayout(prefix: [], grid: PatchGrid(rows: 2, columns: 2, patchSize: 4)))
        #expect(throws: AnalysisError.noCLSToken(layout: noCLS.layout.description)) { try replayed(Rollout(), noCLS) }
        // Without CLS the mean of patch rows is the readout (GAP models).
        let gap = try #require(try replayed(Rollout(.init(readout: .meanOfPatches)), noCLS).result)
        #expect(gap.clsMass == nil && abs(gap.row.reduce(0, +) - 1) < 1e-5)
    }

    @Test func textLayoutMapCoversAllTokens() throws {
        let layout = TokenLayout(textTokens: 6)
        let file = try randomAttention(layers: 2, heads: 2, layout: layout, seed: 11)
        let r = try #require(try replayed(Rollout(.init(readout: .query(.token(0)))), file).result)
        #expect(r.map.shape == [6])
        #expect(r.map.values == r.row)
        #expect(throws: AnalysisError.patchQueryWithoutGrid(row: 0, column: 0)) {
            try replayed(Rollout(.init(readout: .query(.patch(row: 0, column: 0)))), file)
        }
    }

    /// Automatic picks the full product on small inputs, so the matrix is there.
    @Test func automaticStrategyKeepsTheProductForSmallInputs() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 4))
        let file = try randomAttention(layers: 2, heads: 2, layout: layout)
        let auto = try #require(try replayed(Rollout(), file).result)
        let stored = try #require(try replayed(Rollout(.init(strategy: .storedLayers, storedPrecision: .float32)), file).result)
        let half = try #require(try replayed(Rollout(.init(strategy: .storedLayers)), file).result)
        #expect(auto.matrix != nil && stored.matrix == nil)
        expectClose(auto.row, stored.row.map { Double($0) }, abs: 1e-6, "automatic vs stored")
        let relative = HalfPrecisionBound.relative(layers: 2)
        expectClose(half.row, stored.row.map { Double($0) }, abs: 1e-9, rel: relative, "float16 vs float32 stored layers")
        #expect(half.row != stored.row)
    }
}
