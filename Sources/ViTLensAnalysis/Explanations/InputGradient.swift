import ViTLensCore

/// Input x gradient on the token embeddings: per token `i`, the Euclidean norm over the feature
/// dimension of the elementwise product of the embedding `E_i` (the encoder's input, position
/// embeddings included) and the target's gradient `dE_i`: `‖E_i ⊙ dE_i‖₂`. The signed
/// first-order Taylor term `Σ_d E_id · dE_id` is available as ``Reduction/signedSum``.
///
/// The map keeps the patch tokens (all tokens for text); prefix tokens stay in the row.
public enum InputGradient {
    /// How the `D` products of one token become one number.
    public enum Reduction: String, Sendable, Equatable, Hashable, CaseIterable {
        /// `sqrt(Σ_d (E_id · dE_id)²)`, non-negative. The default.
        case l2Norm = "l2"
        /// `Σ_d E_id · dE_id`, signed: the first-order change of the target when the token's
        /// embedding is scaled to zero.
        case signedSum = "sum"
    }

    /// Relevance per token from `E` and `dE`, both row-major `[tokens, width]`.
    /// - Throws: ``AnalysisError/geometryMismatch(analysis:expected:found:)`` when a buffer does
    ///   not hold `layout.tokenCount · width` values; ``AnalysisError/nonFinite(what:index:value:)``
    ///   for NaN or infinities.
    public static func explain(
        embeddings: UnsafeBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, width: Int,
        layout: TokenLayout, reduction: Reduction = .l2Norm
    ) throws -> Explanation {
        let n = layout.tokenCount
        let count = n * max(0, width)
        guard width > 0 else {
            throw AnalysisError.geometryMismatch(analysis: "input x gradient", expected: "an embedding width > 0", found: "\(width)")
        }
        for (what, buffer) in [("embeddings", embeddings), ("embedding gradient", gradient)] {
            guard buffer.count == count else {
                throw AnalysisError.geometryMismatch(
                    analysis: "input x gradient", expected: "\(what) of \(count) values ([\(n), \(width)], \(layout))", found: "\(buffer.count) values")
            }
            if let i = Finite.firstNonFinite(buffer) {
                throw AnalysisError.nonFinite(what: what, index: i, value: Finite.describe(buffer[i]))
            }
        }
        var row = [Float](repeating: 0, count: n)
        for t in 0 ..< n {
            var s = 0.0
            for d in t * width ..< (t + 1) * width {
                let p = Double(embeddings[d]) * Double(gradient[d])
                s += reduction == .l2Norm ? p * p : p
            }
            row[t] = Float(reduction == .l2Norm ? s.squareRoot() : s)
        }
        return Explanation(method: .inputGradient, rows: [TokenDistribution(row: row, layout: layout)], layers: nil, readout: nil)
    }

    /// ``explain(embeddings:gradient:width:layout:reduction:)`` on tensors of shape `[tokens, width]`.
    public static func explain(embeddings: Tensor, gradient: Tensor, layout: TokenLayout, reduction: Reduction = .l2Norm) throws -> Explanation {
        guard embeddings.shape.count == 2, embeddings.shape == gradient.shape else {
            throw AnalysisError.geometryMismatch(
                analysis: "input x gradient", expected: "embeddings and gradient of one shape [tokens, width]",
                found: "\(embeddings.shape) and \(gradient.shape)")
        }
        return try embeddings.values.withUnsafeBufferPointer { e in
            try gradient.values.withUnsafeBufferPointer { g in
                try explain(embeddings: e, gradient: g, width: embeddings.shape[1], layout: layout, reduction: reduction)
            }
        }
    }
}
