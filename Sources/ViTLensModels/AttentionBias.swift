import ViTLensCore

/// An additive per-head bias on one layer's attention scores, `P = softmax(QKᵀ/√d + B)`: given
/// whole (`[heads, N, N]`) or, as BEiT and Data2Vec-vision store it, as a relative-position table
/// `[entries, heads]` plus an index map `[N, N]` naming each query-key pair's table row.
///
/// A bias fixes the token count `N`; a forward pass with another count is refused.
public struct AttentionBias: Sendable {
    enum Storage: Sendable {
        case dense(Param)
        case relative(table: Param, index: [Int])
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

    /// Floats the bias keeps (for memory estimates).
    public var parameterCount: Int {
        switch storage {
        case .dense(let p): return p.count
        case .relative(let table, let index): return table.count + index.count
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
        }
    }
}
