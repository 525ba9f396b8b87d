import ViTLensCore

/// The patch-centre distances `D_ij = p · ‖g_i − g_j‖₂` of a grid, as a mirrored table of
/// `rows x (2 columns − 1)` floats instead of the `G x G` matrix: entry `(dr, columns − 1 + dc)` is
/// `p · sqrt(dr² + dc²)`, so for query patch `i = (ri, ci)` the distances to key row `rj` are the
/// `columns` contiguous entries of table row `|ri − rj|` starting at `columns − 1 − ci`.
///
/// At 60 x 60 patches (DINO ViT-S/8 at 480) the table is 28 KB, small enough for L1; the matrix
/// was 52 MB, and each query row's 14 KB of it was read again for every head and layer.
struct PatchDistances: Sendable {
    let rows: Int
    let columns: Int
    /// `[rows][2 columns − 1]`, see the type's discussion.
    let table: [Float]

    init(_ grid: PatchGrid) {
        rows = grid.rows
        columns = grid.columns
        let width = 2 * columns - 1
        let p = Float(grid.patchSize)
        var t = [Float](repeating: 0, count: rows * width)
        for dr in 0 ..< rows {
            for dc in -(columns - 1) ... (columns - 1) {
                t[dr * width + columns - 1 + dc] = p * Float(dr * dr + dc * dc).squareRoot()
            }
        }
        table = t
    }

    /// Bytes of the table for a grid (the observers' memory estimates).
    static func bytes(_ grid: PatchGrid?) -> Int {
        guard let grid else { return 0 }
        return MemoryEstimate.floats(grid.rows, 2 * grid.columns - 1)
    }

    /// `(Σ_j a_j D_ij, Σ_j a_j)` over the `rows · columns` patches for query patch `i`, `a` holding
    /// the query's attention to the patches in grid order. Each key row is summed in 16-, 8- and
    /// 4-wide partial sums and a scalar tail (a fixed order, the same for every caller).
    @inline(__always)
    func dotAndSum(_ a: UnsafePointer<Float>, query i: Int) -> (dot: Float, sum: Float) {
        let cols = columns, width = 2 * cols - 1
        let ri = i / cols, ci = i % cols
        var d16 = SIMD16<Float>.zero, s16 = SIMD16<Float>.zero
        var d8 = SIMD8<Float>.zero, s8 = SIMD8<Float>.zero
        var d4 = SIMD4<Float>.zero, s4 = SIMD4<Float>.zero
        var d1: Float = 0, s1: Float = 0
        return table.withUnsafeBufferPointer { tb -> (dot: Float, sum: Float) in
            guard let t = tb.baseAddress else { return (0, 0) }
            for rj in 0 ..< rows {
                let seg = UnsafeRawPointer(t + abs(ri - rj) * width + (cols - 1 - ci))
                let row = UnsafeRawPointer(a + rj * cols)
                var x = 0
                while x + 16 <= cols {
                    let v = row.loadUnaligned(fromByteOffset: x * 4, as: SIMD16<Float>.self)
                    d16 += v * seg.loadUnaligned(fromByteOffset: x * 4, as: SIMD16<Float>.self)
                    s16 += v
                    x += 16
                }
                if x + 8 <= cols {
                    let v = row.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self)
                    d8 += v * seg.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self)
                    s8 += v
                    x += 8
                }
                if x + 4 <= cols {
                    let v = row.loadUnaligned(fromByteOffset: x * 4, as: SIMD4<Float>.self)
                    d4 += v * seg.loadUnaligned(fromByteOffset: x * 4, as: SIMD4<Float>.self)
                    s4 += v
                    x += 4
                }
                while x < cols {
                    let v = row.load(fromByteOffset: x * 4, as: Float.self)
                    d1 += v * seg.load(fromByteOffset: x * 4, as: Float.self)
                    s1 += v
                    x += 1
                }
            }
            return (d16.sum() + d8.sum() + d4.sum() + d1, s16.sum() + s8.sum() + s4.sum() + s1)
        }
    }
}
