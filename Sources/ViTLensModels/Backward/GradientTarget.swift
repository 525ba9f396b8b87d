/// The scalar a backward pass differentiates.
public enum GradientTarget: Sendable, Equatable {
    /// One class logit, as the model's `logits` output (DeiT distilled: the mean of the CLS and
    /// distillation heads, as Hugging Face computes `logits`). Models with a classifier only.
    case classLogit(Int)
    /// The logit of the class the model predicts on this input (the largest logit, ties to the
    /// lower index), chosen inside the pass after the forward: one forward and one backward, as
    /// ``classLogit(_:)`` with that index. Models with a classifier only.
    case topClassLogit
    /// Cosine similarity of the pooled embedding to `vector`, pooled as the family pools it:
    /// CLIP `post_layernorm(hidden[0])`, ViT with a pooler `tanh(dense(hidden[0]))`, otherwise the
    /// final hidden state of the first token (DINOv2's `pooler_output`). Image models.
    case pooledCosine(to: [Float])
    /// Cosine similarity of the mean of the final hidden states over the (unpadded) tokens to
    /// `vector`: sentence-transformers' attention-mask mean pooling. Text models.
    case meanPooledCosine(to: [Float])
    /// Cosine similarity of token `token`'s final hidden state to token `to`'s (both depend on the input).
    case tokenCosine(token: Int, to: Int)
}

/// A target that does not fit the model or the input: one line each.
public enum GradientTargetError: Error, CustomStringConvertible, Equatable {
    /// A class index outside `0 ..< classes`.
    case classOutOfRange(index: Int, classes: Int)
    /// A class target on a model without a classifier.
    case noClassifier(modelType: String)
    /// A cosine reference vector of the wrong length.
    case vectorLength(found: Int, expected: Int)
    /// A cosine reference vector that is zero or holds NaN or infinity.
    case badVector
    /// A token index outside `0 ..< tokens`.
    case tokenOutOfRange(token: Int, tokens: Int)
    /// A target kind the model family does not have (`reason` says which).
    case unsupported(String)
    /// The target's cosine is undefined because the model's vector is zero.
    case zeroEmbedding

    /// One line describing the problem.
    public var description: String {
        switch self {
        case .classOutOfRange(let i, let c): return "class index \(i) is out of range: the model has \(c) classes (0...\(c - 1))"
        case .noClassifier(let m): return "the \(m) model has no classifier: use a similarity target instead of a class"
        case .vectorLength(let f, let e): return "the reference vector has \(f) values, the model's embedding \(e)"
        case .badVector: return "the reference vector is zero or holds NaN or infinity"
        case .tokenOutOfRange(let t, let n): return "token \(t) is out of range: the input has \(n) tokens (0...\(n - 1))"
        case .unsupported(let reason): return reason
        case .zeroEmbedding: return "the model's embedding is zero, so its cosine similarity is undefined"
        }
    }

    /// Checks a cosine reference vector: length `expected`, finite, not zero.
    static func check(vector: [Float], expected: Int) throws {
        guard vector.count == expected else { throw vectorLength(found: vector.count, expected: expected) }
        guard vector.allSatisfy(\.isFinite), vector.contains(where: { $0 != 0 }) else { throw badVector }
    }

    /// Checks a token pair against `tokens`.
    static func check(token: Int, other: Int, tokens: Int) throws {
        for t in [token, other] where t < 0 || t >= tokens { throw tokenOutOfRange(token: t, tokens: tokens) }
    }
}

/// The cosine similarity `c = a·b / (|a| |b|)` and its gradient with respect to `a`,
/// `b / (|a| |b|) - c a / |a|^2` (sums in Double).
enum Cosine {
    static func value(_ a: [Float], _ b: [Float]) throws -> (value: Float, gradient: [Float]) {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            aa += Double(a[i]) * Double(a[i])
            bb += Double(b[i]) * Double(b[i])
        }
        guard aa > 0, bb > 0 else { throw GradientTargetError.zeroEmbedding }
        let na = aa.squareRoot(), nb = bb.squareRoot()
        let c = dot / (na * nb)
        let grad = a.indices.map { Float(Double(b[$0]) / (na * nb) - c * Double(a[$0]) / aa) }
        return (Float(c), grad)
    }
}
