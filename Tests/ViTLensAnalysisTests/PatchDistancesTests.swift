import Foundation
import Testing
import ViTLensCore
@testable import ViTLensAnalysis
import ViTLensTestSupport

/// The mirrored distance table against the `G x G` matrix it replaces, and its weighted sums against
/// a double-precision reference, on square and non-square grids whose rows exercise every SIMD tail
/// (16-, 8-, 4-wide and scalar parts).
@Suite struct PatchDistancesTests {
    static let grids = [PatchGrid(rows: 1, columns: 1, patchSize: 16), PatchGrid(rows: 3, columns: 5, patchSize: 8),
                        PatchGrid(rows: 14, columns: 14, patchSize: 16), PatchGrid(rows: 7, columns: 31, patchSize: 14),
                        PatchGrid(rows: 60, columns: 60, patchSize: 8)]

    @Test(arguments: grids)
    func tableSegmentsAreTheMatrixRows(_ grid: PatchGrid) {
        let d = MeanAttentionDistance.distanceMatrix(grid).values
        let t = PatchDistances(grid)
        let g = grid.count, cols = grid.columns, width = 2 * cols - 1
        #expect(t.table.count == grid.rows * width)
        for i in stride(from: 0, to: g, by: max(1, g / 97)) {
            let (ri, ci) = (i / cols, i % cols)
            for j in 0 ..< g {
                let (rj, cj) = (j / cols, j % cols)
                #expect(t.table[abs(ri - rj) * width + cols - 1 - ci + cj] == d[i * g + j], "query \(i) key \(j)")
            }
        }
    }

    @Test(arguments: grids)
    func weightedSumsMatchReference(_ grid: PatchGrid) {
        let g = grid.count
        let d = MeanAttentionDistance.distanceMatrix(grid).values
        let t = PatchDistances(grid)
        let a = seededValues(g * g, seed: UInt64(g)).map { abs($0) }
        for i in stride(from: 0, to: g, by: max(1, g / 53)) {
            let (dot, sum) = a.withUnsafeBufferPointer { t.dotAndSum($0.baseAddress! + i * g, query: i) }
            var refDot = 0.0, refSum = 0.0
            for j in 0 ..< g {
                refDot += Double(a[i * g + j]) * Double(d[i * g + j])
                refSum += Double(a[i * g + j])
            }
            #expect(abs(Double(dot) - refDot) <= 1e-6 * max(1, refDot), "query \(i): \(dot) vs \(refDot)")
            #expect(abs(Double(sum) - refSum) <= 1e-6 * max(1, refSum), "query \(i): \(sum) vs \(refSum)")
        }
    }
}
