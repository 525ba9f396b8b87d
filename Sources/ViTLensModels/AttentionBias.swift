import ViTLensCore

/// An additive per-head bias on one layer's attention scores, `P = softmax(QKᵀ/√d + B)`: given
/// whole (`[heads, N, N]`), as a relative-position table `[entries, heads]` plus an index map
/// `[N, N]` naming each query-key pair's table row, or as BEiT and Data2Vec-vision lay it out for a
/// CLS token and a patch grid (``init(relativeTable:gridRows:gridColumns:file:)``, the index
/// computed on the fly instead of stored).
///
/// A bias fixes the token count `N`; a forward pass with another count is refused.
public struct AttentionBias: Sendable {
    enum Storage: Sendable {
        case dense(Param)
        case relative(table: Param, index: [Int])
        /// BEiT's layout: `table` stored head-major, `[heads, entries]`; CLS then a `rows x columns` grid.
        case grid(table: Param, rows: Int, columns: Int)
    }

    let storage: Storage
    /// Heads the bias covers.
    public let heads: Int
    /// Tokens `N` the bias covers (queries and keys).
    public let tokens: Int

    /// A bias given whole, `values` of shape `[heads, N, N]`.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming `file` for another shape.
    public init(dense values: Tensor, file: String) throws {
        let s = values.shape
        guard s.count == 3, s[0] > 0, s[1] > 0, s[1] == s[2] else {
            throw ModelError.configInvalid(file: file, reason: "attention bias has shape \(s), expected [heads, N, N]")
        }
        storage = .dense(Param(values.values, shape: s))
        heads = s[0]
        tokens = s[1]
    }

    /// A relative-position bias: `table` `[entries, heads]` and `index` `[N, N]` (row-major), each
    /// entry a row of `table`.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming `file` for a table that is not
    ///   two-dimensional, an index map that is not square, or an index outside the table.
    public init(table: Tensor, index: [Int], file: String) throws {
        let s = table.shape
        guard s.count == 2, s[0] > 0, s[1] > 0 else {
            throw ModelError.configInvalid(file: file, reason: "relative position table has shape \(s), expected [entries, heads]")
        }
        let n = Int(Double(index.count).squareRoot())
        guard n > 0, n * n == index.count else {
            throw ModelError.configInvalid(file: file, reason: "relative position index has \(index.count) entries, not N x N")
        }
        if let bad = index.first(where: { $0 < 0 || $0 >= s[0] }) {
            throw ModelError.configInvalid(file: file, reason: "relative position index \(bad) is outside the table of \(s[0]) entries")
        }
        storage = .relative(table: Param(table.values, shape: s), index: index)
        heads = s[1]
        tokens = n
    }

    /// BEiT's relative-position bias for one CLS token followed by a `gridRows x gridColumns` patch
    /// grid (row-major): `table` `[(2 rows - 1)(2 columns - 1) + 3, heads]`. Patch query `(qy, qx)`
    /// and key `(ky, kx)` use row `(qy - ky + rows - 1)(2 columns - 1) + (qx - kx + columns - 1)`;
    /// CLS to a patch the third-last row, a patch to CLS the second-last, CLS to CLS the last (as
    /// `BeitRelativePositionBias.generate_relative_position_index`). No `[N, N]` index is stored.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming `file` for an empty grid, a
    ///   table that is not two-dimensional or whose row count is not the grid's.
    public init(relativeTable table: Tensor, gridRows rows: Int, gridColumns columns: Int, file: String) throws {
        let s = table.shape
        guard rows > 0, columns > 0, let patches = Limits.product(rows, columns), let n = Limits.sum(patches, 1) else {
            throw ModelError.configInvalid(file: file, reason: "relative position bias for a \(rows) x \(columns) patch grid")
        }
        let entries = Limits.product(2 * rows - 1, 2 * columns - 1).flatMap { Limits.sum($0, 3) }
        guard s.count == 2, s[1] > 0, let entries, s[0] == entries else {
            throw ModelError.configInvalid(
                file: file, reason: "relative position table has shape \(s), expected [\(entries.map(String.init) ?? "?"), heads] for a \(rows) x \(columns) patch grid")
        }
        let heads = s[1]
        var byHead = [Float](repeating: 0, count: table.values.count)
        for e in 0 ..< entries { for h in 0 ..< heads { byHead[h * entries + e] = table.values[e * heads + h] } }
        storage = .grid(table: Param(byHead, shape: [heads, entries]), rows: rows, columns: columns)
        self.heads = heads
        tokens = n
    }

    /// Floats the bias keeps (for memory estimates).
    public var parameterCount: Int {
        switch storage {
        case .dense(let p): return p.count
        case .relative(let table, let index): return table.count + index.count
        case .grid(let table, _, _): return table.count
        }
    }

    /// Adds `B[head, r0 ..< r0 + rows, :]` to `scores` (`rows` rows of `tokens` floats).
    func add(to scores: UnsafeMutablePointer<Float>, head: Int, firstRow r0: Int, rows: Int) {
        let n = tokens
        switch storage {
        case .dense(let p):
            // A plain loop: this runs inside the attention's parallel blocks.
            let b = p.ptr + (head * n + r0) * n
            for i in 0 ..< rows * n { scores[i] += b[i] }
        case .relative(let table, let index):
            let t = table.ptr
            let h = heads
            index.withUnsafeBufferPointer { map in
                for r in 0 ..< rows {
                    let row = scores + r * n
                    let entries = map.baseAddress! + (r0 + r) * n
                    for c in 0 ..< n { row[c] += t[entries[c] * h + head] }
                }
            }
        case .grid(let table, let gridRows, let gridColumns):
            let entries = table.shape[1]
            let t = table.ptr + head * entries
            let span = 2 * gridColumns - 1
            for r in 0 ..< rows {
                let q = r0 + r
                let row = scores + r * n
                if q == 0 {
                    row[0] += t[entries - 1]
                    let toPatch = t[entries - 3]
                    for c in 1 ..< n { row[c] += toPatch }
                    continue
                }
                row[0] += t[entries - 2]
                let qy = (q - 1) / gridColumns, qx = (q - 1) % gridColumns
                var c = 1
                for ky in 0 ..< gridRows {
                    // Row of key (ky, kx): base - kx.
                    let base = (qy - ky + gridRows - 1) * span + qx + gridColumns - 1
                    for kx in 0 ..< gridColumns {
                        row[c] += t[base - kx]
                        c += 1
                    }
                }
            }
        }
    }
}
