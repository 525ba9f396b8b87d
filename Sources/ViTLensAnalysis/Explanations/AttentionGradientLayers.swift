import ViTLensCore

/// Attention x gradient per layer: the readout row of `Ā_l = mean_h(max(0, dA_l ⊙ A_l))` for
/// every kept layer, without propagation through the layers.
///
/// The map is `[layers, rows, columns]` (`[layers, tokens]` for text), layers in forward order,
/// prefix tokens excluded; the rows keep every token.
public enum AttentionGradientLayers {
    /// One readout row per layer and the stacked patch maps.
    /// - Throws: ``AnalysisError`` when the readout names a token the layout lacks.
    public static func explain(_ fused: FusedAttentionGradients, readout: Readout = .cls) throws -> Explanation {
        let n = fused.tokens
        let u = try readout.weights(in: fused.layout)
        let rows = fused.matrices.map { m in m.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(u, $0, n: n) } }
        return fused.explanation(.attentionGradient, readout: readout, rows: rows)
    }
}
