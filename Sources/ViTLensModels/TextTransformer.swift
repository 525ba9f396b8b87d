import ViTLensCheckpoint
import ViTLensCore

/// The result of a text forward pass.
public struct TextOutput: Sendable {
    /// Final hidden states `[tokens, hidden]` (BERT's `last_hidden_state`).
    public var hiddenState: Tensor
    /// A text layout: every token is an ordinary position.
    public var layout: TokenLayout
}

/// A BERT-family text encoder that delivers every layer's token-to-token attention to an
/// ``AttentionObserver``.
public final class TextTransformer: @unchecked Sendable {
    /// The Hugging Face `model_type`.
    public let modelType: String
    /// The encoder's shape.
    public let spec: EncoderSpec
    let words: Param
    let positions: Param
    let tokenTypes: Param
    let embeddingNorm: LayerNorm
    let encoder: Encoder

    init(modelType: String, spec: EncoderSpec, words: Param, positions: Param, tokenTypes: Param,
         embeddingNorm: LayerNorm, encoder: Encoder) {
        self.modelType = modelType
        self.spec = spec
        self.words = words
        self.positions = positions
        self.tokenTypes = tokenTypes
        self.embeddingNorm = embeddingNorm
        self.encoder = encoder
    }

    /// Vocabulary size (rows of the word-embedding table).
    public var vocabularySize: Int { words.shape[0] }
    /// Longest input the position table allows.
    public var maxPositions: Int { positions.shape[0] }

    /// Runs the encoder on one unpadded sequence.
    ///
    /// `x = LN(word[ids] + position[0..<T] + tokenType[typeIds])`, then the post-norm blocks; no
    /// attention mask is needed because nothing is padded.
    /// - Parameters:
    ///   - ids: token ids, `[T]`.
    ///   - typeIds: token type ids (segment A = 0, B = 1); zeros when `nil`.
    /// - Throws: ``ModelInputError`` for an empty, too long or out-of-vocabulary input, or type ids
    ///   that are not one per token.
    public func forward<O: AttentionObserver>(ids: [Int], typeIds: [Int]? = nil, observer: inout O) throws -> TextOutput {
        let t = ids.count
        let layout = TokenLayout(textTokens: t)
        try checkInput(ids: ids, typeIds: typeIds)
        let geometry = AttentionGeometry(layers: spec.layers, heads: spec.heads, tokens: t, headDim: spec.headDim, layout: layout)
        var estimate = memoryEstimate(tokens: t, options: observer.captureOptions)
        estimate.observers = observer.estimatedBytes(for: geometry)
        try estimate.check()
        BuildNotice.warnIfUnoptimized()
        var hidden = embed(ids: ids, typeIds: typeIds)
        try hidden.withUnsafeMutableBufferPointer { hb in
            try encoder.forward(hb.baseAddress!, tokens: t, layout: layout, observer: &observer)
        }
        return TextOutput(hiddenState: Tensor(shape: [t, spec.hidden], values: hidden), layout: layout)
    }

    /// - Throws: ``ModelInputError`` for an empty, too long or out-of-vocabulary input, or type ids
    ///   that are not one per token.
    func checkInput(ids: [Int], typeIds: [Int]?) throws {
        let t = ids.count
        guard t > 0 else { throw ModelInputError.empty }
        guard t <= maxPositions else { throw ModelInputError.tooLong(tokens: t, maximum: maxPositions) }
        let types = typeIds ?? [Int](repeating: 0, count: t)
        guard types.count == t else { throw ModelInputError.typeIDCount(typeIDs: types.count, tokens: t) }
        for id in ids where id < 0 || id >= vocabularySize { throw ModelInputError.badTokenID(id: id, vocabularySize: vocabularySize) }
        for id in types where id < 0 || id >= tokenTypes.shape[0] { throw ModelInputError.badTokenID(id: id, vocabularySize: tokenTypes.shape[0]) }
    }

    /// The forward's memory at `tokens` tokens without observers: weights and working memory.
    func memoryEstimate(tokens t: Int, options: CaptureOptions) -> MemoryEstimate {
        let embeddingBytes = MemoryEstimate.floats(Limits.sum(vocabularySize, maxPositions, tokenTypes.shape[0]) ?? .max, spec.hidden)
        return MemoryEstimate(weights: Limits.sum(MemoryEstimate.floats(spec.blockParameterCount), embeddingBytes) ?? .max,
                              forward: spec.forwardBytes(tokens: t, options: options), observers: 0, tokens: t)
    }

    /// The encoder's input `LN(word[ids] + position + tokenType[typeIds])`, `[T, D]` (input checked).
    func embed(ids: [Int], typeIds: [Int]?) -> [Float] {
        let t = ids.count
        let d = spec.hidden
        let types = typeIds ?? [Int](repeating: 0, count: t)
        var hidden = [Float](repeating: 0, count: t * d)
        hidden.withUnsafeMutableBufferPointer { hb in
            let x = hb.baseAddress!
            for i in 0 ..< t {
                let row = x + i * d
                let w = words.ptr + ids[i] * d
                let p = positions.ptr + i * d
                let ty = tokenTypes.ptr + types[i] * d
                for j in 0 ..< d { row[j] = w[j] + ty[j] + p[j] }
            }
            embeddingNorm(x, rows: t, into: x)
        }
        return hidden
    }
}
