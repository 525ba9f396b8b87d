import ViTLensCore

/// The explanation methods built on attention gradients and embedding gradients
/// (docs/ANALYSES.md, "Explanations with gradients"). Raw values are the CLI's `--method` names.
public enum ExplanationMethod: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// Chefer et al. ICCV 2021 relevance: `R = I; R += Ā_l · R` for every layer, first to last.
    case chefer
    /// Gradient-weighted rollout: `R = Â_last ⋯ Â_first`, `Â_l = rownorm(I + Ā_l)`.
    case gradientRollout = "grad-rollout"
    /// Attention x gradient per layer: the readout row of each `Ā_l`.
    case attentionGradient = "attn-grad"
    /// Input x gradient: `‖E_i ⊙ dE_i‖₂` per token.
    case inputGradient = "input-grad"
}

/// One explanation map: relevance over the tokens of one input, with its patch map.
///
/// ``rows`` holds one row over all `N` tokens (one per layer for
/// ``ExplanationMethod/attentionGradient``); ``map`` is their patch part, raw (not rescaled):
/// `[rows, columns]` for images and `[tokens]` for text, with a leading `layers` axis for the
/// per-layer method. Prefix tokens (CLS, registers, distillation) are excluded from the map but
/// kept in ``rows``.
public struct Explanation: Sendable, Equatable {
    /// The method that produced the map.
    public var method: ExplanationMethod
    /// Relevance over all tokens: one row, or one per layer (forward order) for the per-layer method.
    public var rows: [TokenDistribution]
    /// The layers that entered the map (resolved, inclusive); `nil` for input x gradient.
    public var layers: ClosedRange<Int>?
    /// The readout the rows were taken with; `nil` for input x gradient (a per-token quantity).
    public var readout: Readout?

    /// Wraps rows of one layout.
    public init(method: ExplanationMethod, rows: [TokenDistribution], layers: ClosedRange<Int>?, readout: Readout?) {
        self.method = method
        self.rows = rows
        self.layers = layers
        self.readout = readout
    }

    /// The token layout of the rows.
    public var layout: TokenLayout? { rows.first?.layout }

    /// The patch map: `[rows, columns]` (`[tokens]` for text) for a single row, and
    /// `[layers, rows, columns]` (`[layers, tokens]`) for the per-layer method; raw values.
    public var map: Tensor {
        if method != .attentionGradient, rows.count == 1, let only = rows.first { return only.map }
        let maps = rows.map(\.map)
        let inner = maps.first?.shape ?? [0]
        return Tensor(shape: [maps.count] + inner, values: maps.flatMap(\.values))
    }
}
