/// Targets computed from the final hidden states `h [tokens, hidden]` alone, with their gradient
/// `dTarget/dh` (shared by the vision and text models).
enum HiddenTarget {
    /// Row `t` of `h`.
    static func row(_ h: [Float], _ t: Int, width d: Int) -> [Float] { Array(h[(t * d) ..< ((t + 1) * d)]) }

    /// Adds `g` to row `t` of `dh`, scaled by `s`.
    static func add(_ g: [Float], scaled s: Float = 1, toRow t: Int, of dh: inout [Float], width d: Int) {
        for j in 0 ..< d { dh[t * d + j] += s * g[j] }
    }

    /// `cos(h[a], h[b])`; both rows receive gradient (zero when `a == b`).
    static func tokenCosine(_ h: [Float], _ a: Int, _ b: Int, width d: Int) throws -> (Float, [Float]) {
        var dh = [Float](repeating: 0, count: h.count)
        let (c, da) = try Cosine.value(row(h, a, width: d), row(h, b, width: d))
        let (_, db) = try Cosine.value(row(h, b, width: d), row(h, a, width: d))
        add(da, toRow: a, of: &dh, width: d)
        add(db, toRow: b, of: &dh, width: d)
        return (c, dh)
    }

    /// `cos(mean_t h[t], v)`: sentence-transformers' mean pooling over an unpadded sequence (every
    /// attention-mask entry 1).
    static func meanCosine(_ h: [Float], to v: [Float], width d: Int) throws -> (Float, [Float]) {
        let n = h.count / d
        var mean = [Float](repeating: 0, count: d)
        for t in 0 ..< n { for j in 0 ..< d { mean[j] += h[t * d + j] } }
        for j in 0 ..< d { mean[j] /= Float(n) }
        let (c, dm) = try Cosine.value(mean, v)
        var dh = [Float](repeating: 0, count: h.count)
        for t in 0 ..< n { add(dm, scaled: 1 / Float(n), toRow: t, of: &dh, width: d) }
        return (c, dh)
    }
}
