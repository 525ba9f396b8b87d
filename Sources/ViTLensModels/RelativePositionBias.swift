import ViTLensCore

/// BEiT's and Data2Vec-vision's relative position bias as a checkpoint stores it
/// (`relative_position_bias_table`, `[(2W - 1)^2 + 3, heads]` for the square `W x W` patch grid
/// of `image_size`), turned into an ``AttentionBias`` for each input's patch grid.
///
/// For an input of `rows x columns` patches, the table's first `(2W - 1)^2` rows, read as a
/// `(2W - 1) x (2W - 1)` grid, are resized to `(2 rows - 1) x (2 columns - 1)` with PyTorch's
/// bilinear `interpolate(align_corners=False, antialias=False)` and the last three rows (CLS to
/// patch, patch to CLS, CLS to CLS) kept, as `BeitRelativePositionBias.forward` does in
/// transformers 5.23 for every input size (native included, where the resize is the identity).
/// One instance may serve every layer (`use_shared_relative_position_bias`).
public final class RelativePositionBias: Sendable {
    /// Side of the square patch grid the table was trained for.
    public let window: Int
    /// Attention heads.
    public let heads: Int
    /// `[entries, heads]`, as stored.
    let table: Param
    /// The checkpoint the table came from (named in errors).
    let file: String

    /// Rows of the table for a `window x window` grid, `(2 window - 1)^2 + 3` (nil on overflow).
    public static func entries(window: Int) -> Int? {
        guard window > 0 else { return nil }
        return Limits.product(2 * window - 1, 2 * window - 1).flatMap { Limits.sum($0, 3) }
    }

    /// Wraps `table` `[entries(window), heads]`.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming `file` for another shape.
    public init(table: Tensor, window: Int, file: String) throws {
        let s = table.shape
        guard let entries = Self.entries(window: window), s.count == 2, s[0] == entries, s[1] > 0 else {
            throw ModelError.configInvalid(file: file, reason: "relative position table has shape \(s), expected [\(Self.entries(window: window).map(String.init) ?? "?"), heads] for a \(window) x \(window) patch grid")
        }
        self.window = window
        heads = s[1]
        self.table = Param(table.values, shape: s)
        self.file = file
    }

    /// Floats the table holds.
    public var parameterCount: Int { table.count }

    /// The bias for CLS followed by a `rows x columns` patch grid.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming the checkpoint for an empty grid.
    public func bias(rows: Int, columns: Int) throws -> AttentionBias {
        let values = resized(rows: rows, columns: columns)
        let count = values.count / heads
        return try AttentionBias(relativeTable: Tensor(shape: [count, heads], values: values), gridRows: rows, gridColumns: columns,
                                 file: file)
    }

    /// The table for a `rows x columns` grid, `[(2 rows - 1)(2 columns - 1) + 3, heads]`.
    func resized(rows: Int, columns: Int) -> [Float] {
        let h = heads
        let side = 2 * window - 1
        let outRows = max(1, 2 * rows - 1), outCols = max(1, 2 * columns - 1)
        var out = [Float](repeating: 0, count: (outRows * outCols + 3) * h)
        let t = table.ptr
        if outRows == side && outCols == side {
            for i in 0 ..< side * side * h { out[i] = t[i] }
        } else {
            let ys = Self.linearTaps(input: side, output: outRows)
            let xs = Self.linearTaps(input: side, output: outCols)
            for (y, ty) in ys.enumerated() {
                for (x, tx) in xs.enumerated() {
                    for k in 0 ..< h {
                        func at(_ r: Int, _ c: Int) -> Float { t[(r * side + c) * h + k] }
                        let top = at(ty.i0, tx.i0) * tx.w0 + at(ty.i0, tx.i1) * tx.w1
                        let bottom = at(ty.i1, tx.i0) * tx.w0 + at(ty.i1, tx.i1) * tx.w1
                        out[(y * outCols + x) * h + k] = top * ty.w0 + bottom * ty.w1
                    }
                }
            }
        }
        let tail = side * side * h
        for i in 0 ..< 3 * h { out[outRows * outCols * h + i] = t[tail + i] }
        return out
    }

    /// PyTorch's linear taps (`upsample_bilinear2d`, `align_corners=False`, no scale factor), in
    /// float32 as its CPU kernel computes them: source `s = max(0, (in / out)(i + 0.5) - 0.5)`,
    /// `i0 = min(floor(s), in - 1)`, `i1 = i0 + 1` inside the input, weights `1 - λ, λ` with
    /// `λ = clamp(s - i0, 0, 1)`.
    static func linearTaps(input: Int, output: Int) -> [(i0: Int, i1: Int, w0: Float, w1: Float)] {
        let scale = Float(input) / Float(output)
        return (0 ..< output).map { i in
            let src = max(0, scale * (Float(i) + 0.5) - 0.5)
            let i0 = min(Int(src.rounded(.down)), input - 1)
            let lambda = min(max(src - Float(i0), 0), 1)
            return (i0, i0 < input - 1 ? i0 + 1 : i0, 1 - lambda, lambda)
        }
    }
}
