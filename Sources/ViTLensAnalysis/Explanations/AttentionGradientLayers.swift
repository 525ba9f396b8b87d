import ViTLensCore

/// Attention x gradient per layer: the readout row of `Ā_l = mean_h(max(0, dA_l ⊙ A_l))` for
/// every kept layer, without propagation through the layers.
///
/// The map is `[layers, rows, columns]` (`[layers, tokens]` for text), layers in forward order,
/// prefix tokens excluded; the rows keep every token. At SigLIP's pooling head layer the CLS readout
/// reads the probe's row (every row of that layer); the encoder layers below have no CLS row, so a
/// CLS readout over them is refused (query a token or the mean of patches).
public enum AttentionGradientLayers {
    /// One readout row per layer and the stacked patch maps.
    /// - Throws: ``AnalysisError`` when the readout names a token the layout lacks (CLS on a layout
    ///   without one, below a pooling head).
    public static func explain(_ fused: FusedAttentionGradients, readout: Readout = .cls) throws -> Explanation {
        let n = fused.tokens
        let probe = fused.readsProbe(readout)
        let rows = try zip(fused.layers, fused.matrices).map { layer, m in
            if probe, layer == fused.layers.upperBound { return m[0 ..< n].map(Double.init) }
            let u = try readout.weights(in: fused.layout)
            return m.withUnsafeBufferPointer { AnalysisKernels.rowTimesMatrix(u, $0, n: n) }
        }
        return fused.explanation(.attentionGradient, readout: readout, rows: rows)
    }
}
