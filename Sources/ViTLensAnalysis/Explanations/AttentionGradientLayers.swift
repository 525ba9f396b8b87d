import ViTLensCore

/// Attention x gradient per layer: the readout row of `Ā_l = mean_h(max(0, dA_l ⊙ A_l))` for
/// every kept layer, without propagation through the layers.
///
/// The map is `[layers, rows, columns]` (`[layers, tokens]` for text), layers in forward order,
/// prefix tokens excluded; the rows keep every token. Read out at SigLIP's probe (the CLS readout on a
/// layout without CLS, the range ending at the pooling head's layer), that layer gives the probe's row
/// (every row of it) and the encoder layers below, which have no CLS row, the mean of their patch rows.
public enum AttentionGradientLayers {
    /// One readout row per layer and the stacked patch maps.
    /// - Throws: ``AnalysisError`` when the readout names a token the layout lacks.
    public static func explain(_ fused: FusedAttentionGradients, readout: Readout = .cls) throws -> Explanation {
        let n = fused.tokens
        let probe = fused.readsProbe(readout)
        // Below the probe's layer there is no CLS row: those layers read the mean of the patch rows.
        let u = try (probe ? Readout.meanOfPatches : readout).weights(in: fused.layout)
        let rows = zip(fused.layers, fused.matrices).map { layer, m in
            if probe, layer == fused.layers.upperBound { return m[0 ..< n].map(Double.init) }
            return m.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(u, $0, n: n) }
        }
        return fused.explanation(.attentionGradient, readout: readout, rows: rows)
    }
}
