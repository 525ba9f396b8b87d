import ViTLensCore

/// One used layer's matrix `Â` as the stored-layers strategy keeps it until ``Rollout/finish()``.
enum RolloutStoredLayer: @unchecked Sendable {
    /// Every entry as float32 (``Rollout/StoredPrecision/float32``, or a layer out of float16's range).
    case single(FloatStorage)
    /// Off-diagonal entries at half precision (``RolloutHalfLayer``).
    case half(RolloutHalfLayer)

    /// `xᵀ · Â` in double (``AnalysisKernels/rowTimesMatrix(_:_:n:)`` or its half-precision sibling).
    func leftMultiply(_ x: [Double], n: Int) -> [Double] {
        switch self {
        case .single(let m):
            return AnalysisKernels.rowTimesMatrix(x, UnsafeBufferPointer(m.buffer), n: n)
        case .half(let m):
            return AnalysisKernels.rowTimesHalfMatrix(x, m.values.pointer, diagonal: m.diagonal.pointer, unscale: 1 / RolloutHalfLayer.scale, n: n)
        }
    }
}

/// An `n x n` layer `Â` at half precision: each off-diagonal entry `a` as `Float16(2¹⁵ · a)` (round
/// to nearest), the diagonal as float32 (`2·N² + 4·N` bytes).
///
/// The scale is a power of two, so scaling is exact both ways, and it moves the entries of `Â`
/// (all in `[0, 1]`, see ``Rollout/StoredPrecision``) up so that values down to `2⁻²⁹ ≈ 1.9e-9`
/// are normal float16 numbers (relative error at most `2⁻¹¹`) instead of subnormals (below
/// `2⁻¹⁴`). The diagonal, which the identity residual makes the largest entry of each row (≥ ½),
/// stays exact: it is about `½ + F_ii/2`, which float16 (spacing `2⁻¹¹` there) rounds down to ½
/// in every row alike. Rounded too, the CLS row of DINO ViT-S/8 at 480 px summed to 0.9983 after 12
/// layers and its largest error was 1.3e-6, against 3.9e-9 with the diagonal exact (NumPy replay of
/// the fused layers).
final class RolloutHalfLayer: @unchecked Sendable {
    /// `2¹⁵`: entries are stored as `Float16(scale · a)`.
    static let scale: Float = 32_768
    /// The off-diagonal entries, scaled (the diagonal slots hold the scaled diagonal, unused).
    let values: HalfStorage
    /// The diagonal, exact.
    let diagonal: FloatStorage
    let n: Int

    init(tokens n: Int) {
        self.n = n
        values = HalfStorage(count: n * n)
        diagonal = FloatStorage(count: n)
    }

    /// Stores rows `rows` of the float32 layer `m` (row-major `n x n`). Returns `false` when an entry
    /// times `2¹⁵` is beyond float16's finite range (the layer must then stay float32).
    func store(rows: Range<Int>, of m: UnsafePointer<Float>) -> Bool {
        var inRange = true
        for r in rows where !store(row: r, from: m + r * n) { inRange = false }
        return inRange
    }

    /// Stores `row` (`n` floats) as row `r`; `false` as for ``store(rows:of:)``.
    func store(row r: Int, from row: UnsafePointer<Float>) -> Bool {
        diagonal.pointer[r] = row[r]
        return AnalysisKernels.narrow(row, values.pointer + r * n, count: n, scale: Self.scale)
    }

    /// Multiplies `row` (`n` floats) by `factor` in place and stores it as row `r`, in one pass (the
    /// same values as the multiplication followed by ``store(row:from:)``).
    func store(row r: Int, from row: UnsafeMutablePointer<Float>, scaledBy factor: Float) -> Bool {
        let inRange = AnalysisKernels.scaleThenNarrow(row, by: factor, values.pointer + r * n, count: n, scale: Self.scale)
        diagonal.pointer[r] = row[r]
        return inRange
    }

    /// Stores the whole float32 layer `m`, rows split across cores; `false` as for ``store(rows:of:)``.
    func storeAll(of m: UnsafePointer<Float>) -> Bool {
        let flags = UnsafeMutablePointer<Bool>.allocate(capacity: n)
        flags.initialize(repeating: true, count: n)
        defer { flags.deallocate() }
        nonisolated(unsafe) let m = m, f = flags
        Compute.forEachChunk(n, costPerItem: n) { rows in
            for r in rows { f[r] = self.store(rows: r ..< r + 1, of: m) }
        }
        return (0 ..< n).allSatisfy { flags[$0] }
    }
}
