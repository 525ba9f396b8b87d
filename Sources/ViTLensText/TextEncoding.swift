/// The result of tokenizing one text or one pair of texts: parallel arrays, one entry per token.
///
/// All arrays have the same length. Ids index the model's embedding table; `typeIds` are BERT's
/// segment ids (0 for the first text and its special tokens, 1 for the second text and its final
/// `[SEP]`); `attentionMask` is all ones (ViTLens never pads).
public struct TextEncoding: Sendable, Equatable {
    /// Token ids.
    public var ids: [Int]
    /// Token strings, e.g. `["[CLS]", "token", "##ization", "[SEP]"]`.
    public var tokens: [String]
    /// Segment (token type) ids.
    public var typeIds: [Int]
    /// 1 for every token (no padding is ever added).
    public var attentionMask: [Int]
    /// The span of the input each token covers, in Unicode scalars (code points, as Python's `str`
    /// counts them, so they equal Hugging Face's `offset_mapping`), or `nil` for the special tokens
    /// the template adds (`[CLS]`, `[SEP]`). Spans of tokens with type id 1 in a pair refer to the
    /// second text. A `[MASK]` typed in the text keeps its span.
    public var offsets: [Range<Int>?]
    /// How many tokens the input gives before truncation, special tokens included: equal to
    /// ``count`` unless `maxLength` cut tokens, so callers can refuse (or report) a cut.
    public var untruncatedCount: Int

    /// Creates an encoding from parallel arrays; `untruncatedCount` defaults to the array length.
    public init(ids: [Int], tokens: [String], typeIds: [Int], attentionMask: [Int], offsets: [Range<Int>?],
                untruncatedCount: Int? = nil) {
        self.ids = ids
        self.tokens = tokens
        self.typeIds = typeIds
        self.attentionMask = attentionMask
        self.offsets = offsets
        self.untruncatedCount = untruncatedCount ?? ids.count
    }

    /// The number of tokens.
    public var count: Int { ids.count }

    /// Whether `maxLength` cut tokens from the input.
    public var isTruncated: Bool { untruncatedCount > count }

    /// The tokens that come from the text itself, not from the template (`[CLS]`, `[SEP]`): 0 for
    /// a text that is empty after normalisation (only whitespace or control characters).
    public var textTokenCount: Int { offsets.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// The part of `text` that token `index` covers, as a range of string indices.
    ///
    /// `text` must be the string the token came from (the second text of a pair for tokens with
    /// type id 1). Offsets count Unicode scalars, so the range may start or end inside a
    /// `Character` (e.g. a base letter without its combining accent); slice
    /// `text.unicodeScalars` with it to get exactly the covered scalars.
    /// - Returns: `nil` for special tokens and for offsets outside `text`.
    public func range(ofToken index: Int, in text: String) -> Range<String.Index>? {
        guard offsets.indices.contains(index), let span = offsets[index] else { return nil }
        let scalars = text.unicodeScalars
        guard let start = scalars.index(scalars.startIndex, offsetBy: span.lowerBound, limitedBy: scalars.endIndex),
              let end = scalars.index(start, offsetBy: span.count, limitedBy: scalars.endIndex)
        else { return nil }
        return start ..< end
    }
}
