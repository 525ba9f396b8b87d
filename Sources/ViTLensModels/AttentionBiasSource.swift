import ViTLensCore

/// Where one layer's additive attention bias comes from: a bias fixed for one token count, or
/// BEiT's relative position table, resolved for each input's patch grid when the forward pass
/// starts (layers that share one ``RelativePositionBias`` share the resolved bias).
public enum AttentionBiasSource: Sendable {
    /// The same bias for every input (which must have its token count).
    case fixed(AttentionBias)
    /// A relative position table, resized to the input's patch grid (one CLS token before it).
    case relativePosition(RelativePositionBias)

    /// Heads the bias covers.
    public var heads: Int {
        switch self {
        case .fixed(let b): return b.heads
        case .relativePosition(let r): return r.heads
        }
    }

    /// Floats the model keeps for it (for memory estimates).
    public var parameterCount: Int {
        switch self {
        case .fixed(let b): return b.parameterCount
        case .relativePosition(let r): return r.parameterCount
        }
    }

    /// The bias for an input laid out as `layout`.
    /// - Throws: ``ModelInputError/attentionBiasTokens(tokens:biasTokens:)`` when a relative
    ///   position table meets a layout that is not one CLS token and a patch grid.
    func resolve(for layout: TokenLayout) throws -> AttentionBias {
        switch self {
        case .fixed(let b):
            return b
        case .relativePosition(let r):
            guard let grid = layout.grid, layout.prefix == [.cls] else {
                throw ModelInputError.attentionBiasTokens(tokens: layout.tokenCount, biasTokens: 1 + (layout.grid?.count ?? 0))
            }
            return try r.bias(rows: grid.rows, columns: grid.columns)
        }
    }
}

/// Resolves every layer's ``AttentionBiasSource`` for one input layout, once per shared table.
struct ResolvedAttentionBiases {
    /// `biases[layer]`, nil for a layer without one.
    let biases: [AttentionBias?]

    /// - Throws: what ``AttentionBiasSource/resolve(for:)`` throws, and
    ///   ``ModelInputError/attentionBiasTokens(tokens:biasTokens:)`` for a bias of another token count.
    init(_ sources: [AttentionBiasSource?], layout: TokenLayout, tokens n: Int, only: Range<Int>? = nil) throws {
        var shared: [ObjectIdentifier: AttentionBias] = [:]
        biases = try sources.indices.map { index in
            guard only?.contains(index) ?? true, let source = sources[index] else { return nil }
            let bias: AttentionBias
            if case .relativePosition(let r) = source, let known = shared[ObjectIdentifier(r)] {
                bias = known
            } else {
                bias = try source.resolve(for: layout)
                if case .relativePosition(let r) = source { shared[ObjectIdentifier(r)] = bias }
            }
            guard bias.tokens == n else { throw ModelInputError.attentionBiasTokens(tokens: n, biasTokens: bias.tokens) }
            return bias
        }
    }
}
