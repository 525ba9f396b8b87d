import Testing
import ViTLensAnalysis
import ViTLensCore

@Suite struct HeadMapsTests {
    @Test(arguments: AnalysisReference.modelNames)
    func matchesNumPyReference(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        let grid = try #require(file.layout.grid)
        for c in ref.headMaps {
            let result = try #require(try replayed(HeadMaps(layer: c.layer, query: Parse.query(c.query)), file).result)
            #expect(result.rows.shape == [file.heads, file.tokens])
            expectClose(result.rows.values, c.rows.flatMap { $0 }, abs: 0, "\(model) rows layer \(c.layer) \(c.query)")
            #expect(result.maps.shape == [file.heads, grid.rows, grid.columns])
            for (name, expected) in c.fused {
                let fused = try result.fused(Parse.fusion(name))
                #expect(fused.shape == [grid.rows, grid.columns])
                expectClose(fused.values, expected, abs: 0, "\(model) fused \(name)")
            }
        }
    }

    @Test(arguments: AnalysisReference.modelNames)
    func masksMatchNumPyExactly(model: String) throws {
        let ref = try AnalysisReference.model(model)
        let file = try ref.file()
        #expect(ref.masks.count == 2)
        for c in ref.masks {
            let maps = try #require(try replayed(HeadMaps(layer: c.layer), file).result)
            let masks = try maps.masks(threshold: c.threshold)
            #expect(masks.shape == maps.maps.shape)
            #expect(masks.values == c.values, "\(model) t = \(c.threshold)")
        }
    }

    /// Masks hold at least t of each head's patch mass and are minimal: removing the smallest kept
    /// patch leaves less than t.
    @Test(arguments: [0.3, 0.6, 0.9, 1.0])
    func masksAreMinimalAndHoldTheMass(threshold: Double) throws {
        let layout = TokenLayout(prefix: [.cls, .register], grid: PatchGrid(rows: 5, columns: 7, patchSize: 14))
        let file = try randomAttention(layers: 2, heads: 4, layout: layout, seed: 5, sharpness: 6)
        let maps = try #require(try replayed(HeadMaps(), file).result).maps
        let masks = try DINOMasks.masks(maps, threshold: threshold)
        let g = layout.grid!.count
        for h in 0 ..< 4 {
            let v = maps.values[(h * g) ..< ((h + 1) * g)].map { Double($0) }
            let total = v.reduce(0, +)
            let kept = (0 ..< g).filter { masks.values[h * g + $0] == 1 }
            let mass = kept.map { v[$0] }.reduce(0, +) / total
            #expect(mass >= threshold - 1e-12, "head \(h): kept \(mass)")
            #expect(abs(mass - masks.keptMass[h]) < 1e-12)
            let smallest = kept.map { v[$0] }.min() ?? 0
            #expect(mass - smallest / total < threshold, "head \(h) is not minimal")
            // Every dropped patch is no larger than every kept one.
            let dropped = (0 ..< g).filter { masks.values[h * g + $0] == 0 }.map { v[$0] }
            #expect((dropped.max() ?? 0) <= smallest)
        }
    }

    /// The cases spelled out in ALGORITHMS.md section 6.
    @Test func algorithmsFixtureCases() throws {
        #expect(try DINOMasks.keep([0.4, 0.3, 0.2, 0.1], threshold: 0.6) == [true, true, false, false])
        #expect(try DINOMasks.keep([0.05, 0.5, 0.05, 0.4], threshold: 0.6) == [false, true, false, true])
        // Uniform: three of four kept; the stable tie order drops the lowest index.
        #expect(try DINOMasks.keep([0.25, 0.25, 0.25, 0.25], threshold: 0.6) == [false, true, true, true])
        // t = 0.7: 1 - t and 0.1 + 0.2 are the same double, the strict test keeps {0.4, 0.3} (mass exactly 0.7).
        #expect(try DINOMasks.keep([0.4, 0.3, 0.2, 0.1], threshold: 0.7) == [true, true, false, false])
        // Unnormalised input: only proportions matter.
        #expect(try DINOMasks.keep([4, 3, 2, 1], threshold: 0.6) == [true, true, false, false])
        #expect(try DINOMasks.keep([0, 0, 0], threshold: 0.6) == [false, false, false])
        #expect(throws: AnalysisError.thresholdOutOfRange(0)) { try DINOMasks.keep([1], threshold: 0) }
        #expect(throws: AnalysisError.thresholdOutOfRange(1.5)) { try DINOMasks.keep([1], threshold: 1.5) }
    }

    @Test func queriesByPatchAndToken() throws {
        let layout = TokenLayout(prefix: [.cls, .distillation], grid: PatchGrid(rows: 2, columns: 3, patchSize: 16))
        let file = try randomAttention(layers: 3, heads: 2, layout: layout, seed: 9)
        let byPatch = try #require(try replayed(HeadMaps(layer: 1, query: .patch(row: 1, column: 2)), file).result)
        let byToken = try #require(try replayed(HeadMaps(layer: -2, query: .token(2 + 5)), file).result)
        #expect(byPatch.queryIndex == 7 && byPatch.layer == 1 && byToken.layer == 1)
        #expect(byPatch.rows == byToken.rows)
        // Row h of the result is A[1, h, 7, :].
        let n = layout.tokenCount
        let start = ((1 * 2 + 1) * n + 7) * n
        #expect(Array(byPatch.rows.values[n ..< 2 * n]) == Array(file.attentions.values[start ..< start + n]))
        // Non-square grid: maps are [heads, rows, columns], never transposed.
        #expect(byPatch.maps.shape == [2, 2, 3])
        #expect(byPatch.maps[1, 1, 0] == byPatch.rows[1, 2 + 3])
        #expect(throws: AnalysisError.layerOutOfRange(layer: 3, layers: 3)) { try replayed(HeadMaps(layer: 3), file) }
        #expect(throws: AnalysisError.patchOutsideGrid(row: 0, column: 3, grid: layout.grid!)) {
            try replayed(HeadMaps(query: .patch(row: 0, column: 3)), file)
        }
    }

    @Test func textLayoutRowsCoverAllTokens() throws {
        let layout = TokenLayout(textTokens: 5)
        let file = try randomAttention(layers: 2, heads: 3, layout: layout, seed: 4)
        let r = try #require(try replayed(HeadMaps(query: .token(0)), file).result)
        #expect(r.maps.shape == [3, 5])
        #expect(r.maps == r.rows)
        #expect(try r.fused(.max).shape == [5])
    }
}
