/// Errors about a model's input (as opposed to its checkpoint).
public enum ModelInputError: Error, CustomStringConvertible, Equatable {
    /// The input is smaller than one patch.
    case tooSmall(height: Int, width: Int, patchSize: Int)
    /// The pixel tensor is not `[channels, H, W]` with the model's channel count.
    case badPixelShape(found: [Int], channels: Int)
    /// A text input is longer than the model's position table.
    case tooLong(tokens: Int, maximum: Int)
    /// A token id outside the vocabulary.
    case badTokenID(id: Int, vocabularySize: Int)
    /// A text input without tokens.
    case empty
    /// The token-type ids are not one per token.
    case typeIDCount(typeIDs: Int, tokens: Int)
    /// A layer's ``AttentionBias`` covers another number of tokens than the input has.
    case attentionBiasTokens(tokens: Int, biasTokens: Int)
    /// The images of one batch differ in shape (a batch needs one size).
    case batchShapesDiffer(first: [Int], image: Int, found: [Int])
    /// A batch whose row count overflows.
    case batchTooLarge(images: Int, tokens: Int)
    /// A batch was given to a pass that takes one input.
    case batchNotSupported(reason: String)

    /// One line describing the problem.
    public var description: String {
        switch self {
        case .tooSmall(let h, let w, let p): return "input \(h)x\(w) is smaller than one \(p)x\(p) patch"
        case .badPixelShape(let s, let c): return "pixel values have shape \(s), expected [\(c), H, W]"
        case .tooLong(let t, let m): return "\(t) tokens exceed the model's \(m) positions"
        case .badTokenID(let id, let v): return "token id \(id) is outside the vocabulary of \(v)"
        case .empty: return "the input has no tokens"
        case .typeIDCount(let types, let tokens): return "\(types) token type ids were given for \(tokens) tokens (one per token is needed)"
        case .attentionBiasTokens(let t, let b): return "the input has \(t) tokens but the model's attention bias covers \(b)"
        case .batchShapesDiffer(let f, let i, let s): return "batch image \(i) has pixel shape \(s), image 0 \(f); a batch needs one size"
        case .batchTooLarge(let b, let t): return "a batch of \(b) images of \(t) tokens is too large"
        case .batchNotSupported(let r): return "batches are not supported here: \(r)"
        }
    }
}
