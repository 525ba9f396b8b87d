import Foundation

/// A BERT WordPiece tokenizer that gives the same ids, tokens, segment ids and offsets as
/// Hugging Face's `BertTokenizerFast` (the `tokenizers` pipeline `BertNormalizer` →
/// `BertPreTokenizer` → `WordPiece` → `TemplateProcessing`).
///
/// The pipeline, for each text:
/// 1. Added tokens (`[CLS]`, `[SEP]`, `[MASK]`, ... from `added_tokens`) are cut out of the raw
///    text first, so a `[MASK]` typed in the text becomes the `[MASK]` id.
/// 2. The rest is normalized (``BertNormalizer``: clean control characters and whitespace, space
///    out CJK ideographs, strip accents, lowercase), keeping each scalar's input position.
/// 3. It is split on whitespace, and every punctuation scalar becomes a word of its own.
/// 4. Each word becomes the longest vocabulary entry at its start, then the longest
///    `##`-prefixed entry at each next position; a word longer than `maxInputCharsPerWord`
///    scalars, or with any position no entry matches, becomes one `[UNK]`.
/// 5. Truncation (longest first) to the maximum length, then `[CLS] a [SEP]` or
///    `[CLS] a [SEP] b [SEP]` with segment ids 0 / 1.
///
/// Everything is done on Unicode scalars, like the Rust original, never on Swift `Character`s:
/// grapheme clusters (an emoji with a skin tone, a letter with a combining accent) are not units
/// to BERT. Character classes come from tables probed from `tokenizers` itself
/// (``BertUnicodeTables``), not from Swift's Unicode version.
///
/// Differences from Hugging Face, all deliberate: `encode` truncates to ``modelMaxLength`` by
/// default (transformers only does so with `truncation=True`); nothing is ever padded, and the
/// `truncation`/`padding` sections of `tokenizer.json` are ignored; a `maxLength` smaller than
/// the number of special tokens keeps only the special tokens (Hugging Face raises an error);
/// `encode(_:pair:)` with an empty pair still uses the pair template, as `tokenizers` does
/// (transformers drops an empty `text_pair`).
public struct WordPieceTokenizer: Sendable {
    let vocabulary: WordPieceVocabulary
    let normalizer: BertNormalizer
    let unknownToken: String
    let unknownId: Int
    /// The trie node after the continuing-subword prefix, or `nil` when no token has the prefix.
    let continuationNode: Int32?
    let maxInputCharsPerWord: Int
    let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let template: PostProcessorTemplate
    /// `nil`: tokens are joined with spaces (a `tokenizer.json` without a decoder).
    let decoder: WordPieceDecoder?
    let specialIds: Set<Int>
    /// Decoding strings of normalized added tokens whose normalized form differs from their content.
    let normalizedAddedForms: [Int: String]

    /// The default maximum length, special tokens included, from `tokenizer_config.json`'s
    /// `model_max_length`; `Int.max` (no truncation) when the folder gives none or gives
    /// transformers' "no limit" sentinel (about 1e30).
    public let modelMaxLength: Int

    /// The parts of a tokenizer, as read from files or arguments.
    struct Components {
        var vocabulary: [(token: String, id: Int)]
        var normalizer: BertNormalizer
        var unknownToken: String
        var continuingSubwordPrefix: String
        var maxInputCharsPerWord: Int
        var addedTokens: [AddedToken]
        /// More special tokens, added (as raw-text, special added tokens) when in the vocabulary.
        var specialTokens: [String] = []
        /// Builds the template from the vocabulary once it is known.
        var template: (WordPieceVocabulary) throws(TextError) -> PostProcessorTemplate
        var decoder: WordPieceDecoder?
        var modelMaxLength: Int
    }

    init(_ components: Components, error: (String) -> TextError) throws(TextError) {
        let vocabulary = WordPieceVocabulary(entries: components.vocabulary)
        guard vocabulary.count > 0 else { throw error("no tokens") }
        guard let unknownId = vocabulary.id(of: components.unknownToken) else {
            throw error("the unknown token \"\(components.unknownToken)\" is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        normalizer = components.normalizer
        unknownToken = components.unknownToken
        self.unknownId = unknownId
        continuationNode = vocabulary.walk(from: 0, components.continuingSubwordPrefix.unicodeScalars.lazy.map(\.value))
        maxInputCharsPerWord = components.maxInputCharsPerWord
        var addedTokens = components.addedTokens
        for token in components.specialTokens
        where !addedTokens.contains(where: { $0.content.unicodeScalars.elementsEqual(token.unicodeScalars) }) {
            if let id = vocabulary.id(of: token) { addedTokens.append(AddedToken(content: token, id: id, special: true)) }
        }
        addedTokens.sort { $0.id < $1.id }
        self.addedTokens = addedTokens
        let normalizer = components.normalizer
        rawMatcher = AddedTokenMatcher(tokens: addedTokens.filter { !$0.normalized }) { token in
            token.content.unicodeScalars.map(\.value)
        }
        normalizedMatcher = AddedTokenMatcher(tokens: addedTokens.filter(\.normalized)) { token in
            let scalars = token.content.unicodeScalars.map(\.value)
            var normalized = NormalizedText()
            scalars.withUnsafeBufferPointer {
                normalizer.normalize($0, 0 ..< scalars.count, into: &normalized, classes: .shared)
            }
            return normalized.scalars
        }
        var forms: [Int: String] = [:]
        for token in addedTokens where token.normalized {
            let scalars = token.content.unicodeScalars.map(\.value)
            var normalized = NormalizedText()
            scalars.withUnsafeBufferPointer {
                normalizer.normalize($0, 0 ..< scalars.count, into: &normalized, classes: .shared)
            }
            if normalized.scalars != scalars {
                forms[token.id] = normalized.scalars.withUnsafeBufferPointer { Self.string($0, 0 ..< $0.count) }
            }
        }
        normalizedAddedForms = forms
        template = try components.template(vocabulary)
        decoder = components.decoder
        var specialIds = Set<Int>()
        for token in addedTokens where token.special {
            specialIds.insert(token.id)
            if let id = vocabulary.id(of: token.content) { specialIds.insert(id) }
        }
        self.specialIds = specialIds
        modelMaxLength = components.modelMaxLength
    }

    /// Creates a tokenizer from a vocabulary in id order (the lines of `vocab.txt`), configured
    /// like transformers' `BertTokenizer`.
    ///
    /// The unknown, `[CLS]`, `[SEP]`, `[PAD]` and `[MASK]` tokens become special added tokens
    /// (`[PAD]` and `[MASK]` only when present).
    /// - Parameters:
    ///   - vocabulary: token strings; a token's id is its index. Must contain `unknownToken`,
    ///     `clsToken` and `sepToken` (a precondition: check with ``init(directory:)`` for files).
    ///   - lowercase: `do_lower_case`.
    ///   - stripAccents: `strip_accents`; `nil` follows `lowercase`.
    ///   - tokenizeChineseChars: put spaces around CJK ideographs.
    ///   - unknownToken: the token for words that cannot be spelled from the vocabulary.
    ///   - continuingSubwordPrefix: the prefix of word-internal pieces.
    ///   - maxInputCharsPerWord: longer words (in Unicode scalars) become the unknown token.
    ///   - clsToken: the token put first.
    ///   - sepToken: the token put after each text.
    ///   - padToken: a special token if present (never used for padding here).
    ///   - maskToken: a special token if present.
    ///   - modelMaxLength: the default maximum length for ``encode(_:addSpecialTokens:maxLength:)``.
    public init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true,
                unknownToken: String = "[UNK]", continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100,
                clsToken: String = "[CLS]", sepToken: String = "[SEP]", padToken: String = "[PAD]",
                maskToken: String = "[MASK]", modelMaxLength: Int = 512) {
        let components = Self.bertComponents(
            vocabulary: vocabulary.enumerated().map { ($0.element, $0.offset) },
            normalizer: BertNormalizer(cleanText: true, handleChineseChars: tokenizeChineseChars,
                                       stripAccents: stripAccents ?? lowercase, lowercase: lowercase),
            unknownToken: unknownToken, continuingSubwordPrefix: continuingSubwordPrefix,
            maxInputCharsPerWord: maxInputCharsPerWord,
            specialTokens: [padToken, unknownToken, clsToken, sepToken, maskToken],
            clsToken: clsToken, sepToken: sepToken, modelMaxLength: modelMaxLength, file: "vocabulary")
        do {
            try self.init(components) { .badVocabulary(file: "vocabulary", reason: $0) }
        } catch {
            preconditionFailure("WordPieceTokenizer(vocabulary:): \(error)")
        }
    }

    /// Components of a `BertTokenizer` built from a plain vocabulary.
    static func bertComponents(vocabulary: [(token: String, id: Int)], normalizer: BertNormalizer, unknownToken: String,
                               continuingSubwordPrefix: String, maxInputCharsPerWord: Int, specialTokens: [String],
                               clsToken: String, sepToken: String, modelMaxLength: Int, file: String) -> Components {
        Components(
            vocabulary: vocabulary, normalizer: normalizer, unknownToken: unknownToken,
            continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharsPerWord: maxInputCharsPerWord,
            addedTokens: [], specialTokens: specialTokens,
            template: { (vocabulary: WordPieceVocabulary) throws(TextError) -> PostProcessorTemplate in
                guard let cls = vocabulary.id(of: clsToken) else {
                    throw .badVocabulary(file: file, reason: "the classifier token \"\(clsToken)\" is not in the vocabulary")
                }
                guard let sep = vocabulary.id(of: sepToken) else {
                    throw .badVocabulary(file: file, reason: "the separator token \"\(sepToken)\" is not in the vocabulary")
                }
                return .bert(cls: (clsToken, cls), sep: (sepToken, sep))
            },
            decoder: WordPieceDecoder(prefix: continuingSubwordPrefix, cleanup: true),
            modelMaxLength: modelMaxLength)
    }

    /// The number of token ids (the embedding table's rows): the largest id plus one.
    public var vocabularySize: Int {
        max(vocabulary.count, (addedTokens.map(\.id).max() ?? -1) + 1)
    }

    /// The id of `token` (exact scalar comparison), or `nil`.
    public func id(of token: String) -> Int? {
        let scalars = Array(token.unicodeScalars)
        if let added = addedTokens.first(where: { Array($0.content.unicodeScalars) == scalars }) { return added.id }
        return vocabulary.id(of: token)
    }

    /// The token string of `id`, or `nil` for an unknown id.
    public func token(of id: Int) -> String? {
        if let added = addedTokens.first(where: { $0.id == id }) { return added.content }
        guard id >= 0, id < vocabulary.count else { return nil }
        return vocabulary.tokens[id]
    }

    // MARK: - Encoding

    /// Tokenizes one text.
    /// - Parameters:
    ///   - text: any string; an empty one gives `[CLS] [SEP]`.
    ///   - addSpecialTokens: add `[CLS]` and `[SEP]` (segment id 0 for all tokens either way).
    ///   - maxLength: the most tokens to return, special tokens included; the text's tokens are
    ///     cut at the end. `nil` means ``modelMaxLength``; pass `Int.max` for no limit.
    ///     ``TextEncoding/untruncatedCount`` keeps the length before the cut.
    public func encode(_ text: String, addSpecialTokens: Bool = true, maxLength: Int? = nil) -> TextEncoding {
        template.apply(encodeSequence(text), nil, addSpecialTokens: addSpecialTokens, maxLength: maxLength ?? modelMaxLength)
    }

    /// Tokenizes a pair of texts as `[CLS] text [SEP] pair [SEP]`, segment ids 0 then 1.
    ///
    /// When too long, tokens are cut from the ends of the texts by `tokenizers`' `longest_first`
    /// rule: with a budget b = maxLength − 3 and lengths n1 ≤ n2, the shorter text keeps n1 and
    /// the longer `max(n1, b − n1)` tokens; if that is still over b, the shorter keeps `b / 2`
    /// and the longer `b / 2 + b % 2`.
    /// - Parameter maxLength: the most tokens, special tokens included; `nil` means ``modelMaxLength``.
    public func encode(_ text: String, pair: String, maxLength: Int? = nil) -> TextEncoding {
        template.apply(encodeSequence(text), encodeSequence(pair), addSpecialTokens: true, maxLength: maxLength ?? modelMaxLength)
    }

    /// Normalizes, splits and WordPiece-tokenizes one text (no special tokens, no truncation).
    func encodeSequence(_ text: String) -> SequenceEncoding {
        var result = SequenceEncoding()
        var input: [UInt32] = []
        input.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { input.append(scalar.value) }
        let classes = BertCharacterClasses.shared
        vocabulary.withTrie { trie in
            classes.withBasicPlane { plane in
                input.withUnsafeBufferPointer { input in
                    encode(input, classes: classes, plane: plane, trie: trie, into: &result)
                }
            }
        }
        return result
    }

    /// Steps 1 to 4 of the pipeline on the scalars of one text.
    private func encode(_ input: UnsafeBufferPointer<UInt32>, classes: BertCharacterClasses,
                        plane: UnsafeBufferPointer<BertCharacterClasses.Flags>, trie: WordPieceVocabulary.Trie,
                        into result: inout SequenceEncoding) {
        let pieces = rawMatcher.isEmpty
            ? [(range: 0 ..< input.count, token: AddedToken?.none)]
            : rawMatcher.split(input, 0 ..< input.count, classes: classes)
        var normalized = NormalizedText()
        for piece in pieces {
            if let token = piece.token {
                // As in `tokenizers`, the token string is the matched text (with any stripped spaces).
                result.append(id: token.id, token: Self.string(input, piece.range), span: piece.range)
                continue
            }
            normalized.scalars.removeAll(keepingCapacity: true)
            normalized.sources.removeAll(keepingCapacity: true)
            normalizer.normalize(input, piece.range, into: &normalized, classes: classes)
            normalized.scalars.withUnsafeBufferPointer { scalars in
                let parts = normalizedMatcher.isEmpty
                    ? [(range: 0 ..< scalars.count, token: AddedToken?.none)]
                    : normalizedMatcher.split(scalars, 0 ..< scalars.count, classes: classes)
                for part in parts {
                    if let token = part.token {
                        result.append(id: token.id, token: Self.string(scalars, part.range), span: normalized.inputSpan(part.range))
                    } else {
                        splitWords(scalars, part.range, normalized, classes: classes, plane: plane, trie: trie, into: &result)
                    }
                }
            }
        }
    }

    /// The scalars `buffer[range]` as a string.
    private static func string(_ buffer: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        for value in buffer[range] {
            if let scalar = Unicode.Scalar(value) { view.append(scalar) }
        }
        return String(view)
    }

    /// BertPreTokenizer: words are runs between whitespace; each punctuation scalar is a word.
    private func splitWords(_ scalars: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, _ normalized: NormalizedText,
                            classes: BertCharacterClasses, plane: UnsafeBufferPointer<BertCharacterClasses.Flags>,
                            trie: WordPieceVocabulary.Trie, into result: inout SequenceEncoding) {
        var wordStart = -1
        for index in range {
            let scalar = scalars[index]
            let flags = scalar < 0x10000 ? plane[Int(scalar)] : classes.flags(scalar)
            if flags.contains(.whitespace) || flags.contains(.punctuation) {
                if wordStart >= 0 {
                    wordPiece(scalars, wordStart ..< index, normalized, trie: trie, into: &result)
                    wordStart = -1
                }
                if flags.contains(.punctuation) {
                    wordPiece(scalars, index ..< index + 1, normalized, trie: trie, into: &result)
                }
            } else if wordStart < 0 {
                wordStart = index
            }
        }
        if wordStart >= 0 { wordPiece(scalars, wordStart ..< range.upperBound, normalized, trie: trie, into: &result) }
    }

    /// WordPiece for one word: greedy longest match first, all-or-nothing `[UNK]`.
    @inline(__always)
    private func wordPiece(_ scalars: UnsafeBufferPointer<UInt32>, _ word: Range<Int>, _ normalized: NormalizedText,
                           trie: WordPieceVocabulary.Trie, into result: inout SequenceEncoding) {
        if word.count > maxInputCharsPerWord {
            result.append(id: unknownId, token: unknownToken, span: normalized.inputSpan(word))
            return
        }
        let mark = result.count
        var start = word.lowerBound
        while start < word.upperBound {
            let node: Int32? = start == word.lowerBound ? 0 : continuationNode
            guard let node, let match = trie.longestMatch(from: node, scalars, start, word.upperBound) else {
                result.truncate(to: mark)
                result.append(id: unknownId, token: unknownToken, span: normalized.inputSpan(word))
                return
            }
            result.append(id: match.id, token: vocabulary.tokens[match.id] ?? unknownToken,
                          span: normalized.inputSpan(start ..< match.end))
            start = match.end
        }
    }

    // MARK: - Decoding

    /// Turns ids back into text, as Hugging Face's `decode` does.
    ///
    /// Unknown ids are skipped; with `skipSpecialTokens`, so are the special tokens (`[CLS]`,
    /// `[SEP]`, `[PAD]`, `[MASK]` and also `[UNK]`). `##` pieces are glued to the previous token,
    /// other tokens are separated by spaces, and " ." " ," " !" " ?" " 's" ... lose their space.
    /// Because of lowercasing, accent stripping and `[UNK]`, this is the original text only for
    /// plain lowercase ASCII.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            // As `tokenizers`' `simple_id_to_token`: normalized added tokens decode in normalized form.
            guard let token = normalizedAddedForms[id] ?? token(of: id) else { continue }
            if skipSpecialTokens, specialIds.contains(id) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }
}
