import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensModels

/// BEiT's relative position bias: the index layout against a literal transcription of
/// `generate_relative_position_index`, the table resize, and malformed tables.
@Suite struct RelativePositionBiasTests {
    /// `relative_position_index` for CLS + a `rows x cols` grid, written as transformers does
    /// (coordinate differences, shifted, the row coordinate times `2 cols - 1`, then the CLS rows).
    static func huggingFaceIndex(rows: Int, cols: Int) -> [[Int]] {
        let area = rows * cols
        let distances = (2 * rows - 1) * (2 * cols - 1) + 3
        let coords = (0 ..< area).map { (y: $0 / cols, x: $0 % cols) }
        var index = [[Int]](repeating: [Int](repeating: 0, count: area + 1), count: area + 1)
        for i in 0 ..< area {
            for j in 0 ..< area {
                let dy = coords[i].y - coords[j].y + rows - 1
                let dx = coords[i].x - coords[j].x + cols - 1
                index[i + 1][j + 1] = dy * (2 * cols - 1) + dx
            }
        }
        for j in 0 ... area { index[0][j] = distances - 3 }
        for i in 0 ... area { index[i][0] = distances - 2 }
        index[0][0] = distances - 1
        return index
    }

    /// The bias added to zero scores, `[heads][N][N]`, in blocks of rows as the attention adds it.
    static func added(_ bias: AttentionBias) -> [[[Float]]] {
        let n = bias.tokens
        return (0 ..< bias.heads).map { head in
            var scores = [Float](repeating: 0, count: n * n)
            scores.withUnsafeMutableBufferPointer { s in
                var r0 = 0
                while r0 < n {
                    let rows = min(3, n - r0)
                    bias.add(to: s.baseAddress! + r0 * n, head: head, firstRow: r0, rows: rows)
                    r0 += rows
                }
            }
            return (0 ..< n).map { Array(scores[$0 * n ..< ($0 + 1) * n]) }
        }
    }

    @Test(arguments: [(1, 1), (2, 3), (4, 4), (5, 2)])
    func indexLayoutMatchesTransformers(_ rows: Int, _ cols: Int) throws {
        let heads = 2
        let entries = (2 * rows - 1) * (2 * cols - 1) + 3
        // Entry e of head h holds e + 1000 h: the added value names the row used.
        let table = (0 ..< entries).flatMap { e in (0 ..< heads).map { Float(e + 1000 * $0) } }
        let bias = try AttentionBias(relativeTable: Tensor(shape: [entries, heads], values: table), gridRows: rows, gridColumns: cols, file: "t")
        #expect(bias.tokens == rows * cols + 1 && bias.heads == heads)
        let got = Self.added(bias)
        let want = Self.huggingFaceIndex(rows: rows, cols: cols)
        for h in 0 ..< heads {
            #expect(got[h] == want.map { $0.map { Float($0 + 1000 * h) } })
        }
    }

    @Test func nativeGridKeepsTheTableAndOtherGridsResizeIt() throws {
        let window = 3, heads = 2
        let entries = try #require(RelativePositionBias.entries(window: window))
        #expect(entries == 28)
        let values = (0 ..< entries * heads).map { Float($0 % 7) * 0.25 - Float($0) * 0.01 }
        let r = try RelativePositionBias(table: Tensor(shape: [entries, heads], values: values), window: window, file: "t")
        #expect(r.resized(rows: 3, columns: 3) == values)

        // 3 x 3 grid table (5 x 5) to a 2 x 4 grid (3 x 7): per axis scale 5/3 and 5/7, half-pixel
        // centres; the 3 CLS rows unchanged. Reference in Double.
        let out = r.resized(rows: 2, columns: 4)
        #expect(out.count == (3 * 7 + 3) * heads)
        func source(_ i: Int, _ scale: Double, _ size: Int) -> (Int, Int, Double) {
            let s = max(0, scale * (Double(i) + 0.5) - 0.5)
            let i0 = min(Int(s), size - 1)
            return (i0, min(i0 + 1, size - 1), s - Double(i0))
        }
        for y in 0 ..< 3 {
            for x in 0 ..< 7 {
                let (y0, y1, ly) = source(y, 5.0 / 3.0, 5), (x0, x1, lx) = source(x, 5.0 / 7.0, 5)
                for h in 0 ..< heads {
                    func v(_ r: Int, _ c: Int) -> Double { Double(values[(r * 5 + c) * heads + h]) }
                    let want = (v(y0, x0) * (1 - lx) + v(y0, x1) * lx) * (1 - ly) + (v(y1, x0) * (1 - lx) + v(y1, x1) * lx) * ly
                    #expect(abs(Double(out[(y * 7 + x) * heads + h]) - want) <= 1e-6)
                }
            }
        }
        #expect(Array(out[(21 * heads)...]) == Array(values[(25 * heads)...]))
        let bias = try r.bias(rows: 2, columns: 4)
        #expect(bias.tokens == 9 && bias.heads == heads)
    }

    @Test func malformedTablesAreOneLineErrors() throws {
        #expect(throws: ModelError.configInvalid(file: "m", reason: "relative position table has shape [27, 2], expected [28, heads] for a 3 x 3 patch grid")) {
            try RelativePositionBias(table: Tensor(zeros: [27, 2]), window: 3, file: "m")
        }
        #expect(throws: ModelError.configInvalid(file: "m", reason: "relative position table has shape [56], expected [28, heads] for a 3 x 3 patch grid")) {
            try RelativePositionBias(table: Tensor(zeros: [56]), window: 3, file: "m")
        }
        #expect(throws: ModelError.configInvalid(file: "m", reason: "relative position table has shape [10, 2], expected [18, heads] for a 2 x 3 patch grid")) {
            try AttentionBias(relativeTable: Tensor(zeros: [10, 2]), gridRows: 2, gridColumns: 3, file: "m")
        }
        #expect(throws: ModelError.self) { try AttentionBias(relativeTable: Tensor(zeros: [3, 2]), gridRows: 0, gridColumns: 3, file: "m") }
    }

    /// A relative table needs one CLS token before a grid: a text layout is refused, not misread.
    @Test func aLayoutWithoutAGridIsRefused() throws {
        let r = try RelativePositionBias(table: Tensor(zeros: [12, 2]), window: 2, file: "m")
        #expect(throws: ModelInputError.self) {
            _ = try ResolvedAttentionBiases([.relativePosition(r)], layout: TokenLayout(textTokens: 5), tokens: 5)
        }
        // Layers sharing one table share the resolved bias; each is checked against the token count.
        let grid = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 2, columns: 2, patchSize: 16))
        let resolved = try ResolvedAttentionBiases([.relativePosition(r), nil, .relativePosition(r)], layout: grid, tokens: 5)
        #expect(resolved.biases.map { $0?.tokens } == [5, nil, 5])
        #expect(throws: ModelInputError.attentionBiasTokens(tokens: 6, biasTokens: 5)) {
            _ = try ResolvedAttentionBiases([.relativePosition(r)], layout: grid, tokens: 6)
        }
    }
}
