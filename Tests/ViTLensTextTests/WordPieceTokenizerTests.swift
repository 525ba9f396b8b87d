import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensText

/// Every golden from Hugging Face `tokenizers`/transformers, through tokenizer.json.
@Suite struct GoldenTests {
    @Test(arguments: TextFixtures.goldens)
    func matchesHuggingFace(_ golden: GoldenCase) throws {
        let tokenizer = try TextFixtures.tokenizer(variant: golden.variant)
        expectMatches(golden.encode(with: tokenizer), golden)
        #expect(scalars(tokenizer.decode(golden.ids)) == scalars(golden.decoded), "decode: \(tokenizer.decode(golden.ids))")
        #expect(scalars(tokenizer.decode(golden.ids, skipSpecialTokens: false)) == scalars(golden.decodedWithSpecialTokens))
    }

    @Test func goldensCoverTheBrief() {
        let names = Set(TextFixtures.cases(variant: "minilm").map(\.name))
        #expect(names.count >= 40)
        for required in ["animal", "accents", "mixed_case", "punctuation_runs", "numbers", "url_email", "emoji", "cjk",
                         "arabic_devanagari", "control_and_whitespace", "long_word", "wordpieces", "unknown_chars", "empty",
                         "pair", "truncate_8", "long_paragraph_truncated"] {
            #expect(names.contains(required), "missing golden \(required)")
        }
    }

    @Test func theAnimalSentence() throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let encoding = tokenizer.encode("The animal didn't cross the street because it was too tired")
        #expect(encoding.tokens == ["[CLS]", "the", "animal", "didn", "'", "t", "cross", "the", "street", "because", "it",
                                    "was", "too", "tired", "[SEP]"])
        #expect(encoding.ids.first == 101 && encoding.ids.last == 102)
        let text = "The animal didn't cross the street because it was too tired"
        let range = try #require(encoding.range(ofToken: 1, in: text))
        #expect(text[range] == "The")
        #expect(encoding.range(ofToken: 0, in: text) == nil)
    }
}

/// tokenizer.json, vocab.txt-only and in-memory vocabularies must give the same results.
@Suite struct LoadingTests {
    @Test func allLoadersAgreeOnEveryGolden() throws {
        let fromJSON = try TextFixtures.tokenizer(variant: "minilm")
        let fromVocabularyFile = try WordPieceTokenizer(directory: TextFixtures.minilmVocabularyFolder)
        let fromArray = WordPieceTokenizer(vocabulary: TextFixtures.vocabularyLines)
        for tokenizer in [fromJSON, fromVocabularyFile, fromArray] {
            #expect(tokenizer.vocabularySize == 30522)
            #expect(tokenizer.modelMaxLength == 512)
            #expect(tokenizer.id(of: "[CLS]") == 101)
            #expect(tokenizer.id(of: "##ization") == 3989)
            #expect(tokenizer.token(of: 102) == "[SEP]")
            #expect(tokenizer.token(of: 30522) == nil)
            #expect(tokenizer.id(of: "not-a-token") == nil)
        }
        let cases = TextFixtures.cases(variant: "minilm")
        #expect(!cases.isEmpty)
        for golden in cases {
            let expected = golden.encode(with: fromJSON)
            #expect(golden.encode(with: fromVocabularyFile) == expected, "vocab.txt folder differs on \(golden.name)")
            #expect(golden.encode(with: fromArray) == expected, "init(vocabulary:) differs on \(golden.name)")
            #expect(fromVocabularyFile.decode(golden.ids) == fromJSON.decode(golden.ids))
        }
    }

    /// The normalizer options of `init(vocabulary:)` against the variant goldens.
    @Test(arguments: [
        ("cased", false, Bool?.none, true),
        ("lower_keep_accents", true, false, true),
        ("strip_no_lower", false, true, true),
        ("no_chinese", true, nil, false),
    ])
    func vocabularyInitOptions(variant: String, lowercase: Bool, stripAccents: Bool?, chinese: Bool) {
        let tokenizer = WordPieceTokenizer(vocabulary: TextFixtures.vocabularyLines, lowercase: lowercase,
                                           stripAccents: stripAccents, tokenizeChineseChars: chinese)
        let cases = TextFixtures.cases(variant: variant)
        #expect(cases.count >= 10)
        for golden in cases { expectMatches(golden.encode(with: tokenizer), golden) }
    }

    /// Runs only where the real model folder is available (VITLENS_MINILM_DIR), since its 466 KB
    /// tokenizer.json is not committed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VITLENS_MINILM_DIR"] != nil))
    func realMiniLMFolder() throws {
        let path = try #require(ProcessInfo.processInfo.environment["VITLENS_MINILM_DIR"])
        let tokenizer = try WordPieceTokenizer(directory: URL(fileURLWithPath: path))
        for golden in TextFixtures.cases(variant: "minilm") { expectMatches(golden.encode(with: tokenizer), golden) }
    }

    /// Canonically equivalent tokens ("é" and "e" + U+0301) are different tokens to Hugging Face.
    @Test func vocabularyComparesScalarsNotCharacters() throws {
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "\u{E9}", "e\u{301}", "x"]
        let inMemory = WordPieceTokenizer(vocabulary: vocabulary, lowercase: false, stripAccents: false)
        let folder = try TextFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = """
            {"normalizer": {"type": "BertNormalizer", "lowercase": false, "strip_accents": false},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "model": {"type": "WordPiece", "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "\u{E9}": 4, "e\\u0301": 5, "x": 6}}}
            """
        try Data(json.utf8).write(to: folder.appendingPathComponent("tokenizer.json"))
        let fromJSON = try WordPieceTokenizer(directory: folder)
        for tokenizer in [inMemory, fromJSON] {
            #expect(tokenizer.id(of: "\u{E9}") == 4)
            #expect(tokenizer.id(of: "e\u{301}") == 5)
            #expect(tokenizer.encode("\u{E9} e\u{301}", addSpecialTokens: false).ids == [4, 5])
        }
        // This tokenizer.json has no post-processor: no special tokens are added, and the
        // model maximum is unlimited without a tokenizer_config.json.
        #expect(fromJSON.encode("x").ids == [6])
        #expect(fromJSON.modelMaxLength == Int.max)
        #expect(fromJSON.decode([6, 6, 1]) == "x x [UNK]")
    }
}

@Suite struct BehaviourTests {
    @Test(arguments: [
        "the quick brown fox jumps over the lazy dog.",
        "hello, world! how are you?",
        "attention is all you need, tokenization splits words into pieces.",
        "i do not know. what? no! 42 of them, really.",
    ])
    func decodeRoundTrip(_ sentence: String) throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let encoding = tokenizer.encode(sentence)
        #expect(!encoding.ids.contains(100), "no [UNK] expected")
        #expect(tokenizer.decode(encoding.ids) == sentence)
    }

    @Test func roundTripIsLowercasedAndUnaccented() throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        #expect(tokenizer.decode(tokenizer.encode("The Café, in PARIS.").ids) == "the cafe, in paris.")
        // Punctuation other than . , ! ? keeps the spaces WordPiece put around it.
        #expect(tokenizer.decode(tokenizer.encode("it's here; (really)").ids) == "it ' s here ; ( really )")
    }

    @Test func truncationKeepsSpecialTokens() throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let text = String(repeating: "word ", count: 600)
        let full = tokenizer.encode(text, maxLength: Int.max)
        #expect(full.count == 602)
        let byDefault = tokenizer.encode(text)
        #expect(byDefault.count == 512)
        #expect(byDefault.tokens.first == "[CLS]" && byDefault.tokens.last == "[SEP]")
        #expect(Array(byDefault.ids[..<511]) == Array(full.ids[..<511]))
        for length in [0, 1, 2, 3, 7] {
            let short = tokenizer.encode(text, maxLength: length)
            #expect(short.count == max(length, 2))
            #expect(short.tokens.first == "[CLS]" && short.tokens.last == "[SEP]")
        }
        let pair = tokenizer.encode(text, pair: "short pair", maxLength: 20)
        #expect(pair.count == 20)
        // Budget 17: the pair keeps its 2 tokens, the text max(2, 17 - 2) = 15.
        #expect(pair.typeIds == Array(repeating: 0, count: 17) + Array(repeating: 1, count: 3))
        #expect(pair.tokens.suffix(3) == ["short", "pair", "[SEP]"])
    }
}

/// The encoding keeps the length before truncation and tells text tokens from template tokens, so
/// callers can refuse a cut or an empty text instead of running on `[CLS] [SEP]`.
@Suite struct TruncationReportTests {
    @Test func untruncatedCountSurvivesTheCut() throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let text = Array(repeating: "the cat sat", count: 10).joined(separator: " ")
        let full = tokenizer.encode(text, maxLength: Int.max)
        #expect(full.count == 32 && full.untruncatedCount == 32 && !full.isTruncated && full.textTokenCount == 30)
        let cut = tokenizer.encode(text, maxLength: 8)
        #expect(cut.count == 8 && cut.untruncatedCount == 32 && cut.isTruncated && cut.textTokenCount == 6)
        #expect(cut.tokens.last == "[SEP]")
        let pair = tokenizer.encode(text, pair: "a dog", maxLength: 10)
        #expect(pair.count == 10 && pair.untruncatedCount == 35 && pair.isTruncated)
    }

    @Test(arguments: ["", "   ", "\t\n\r", "\u{0}\u{1}\u{7F}", "\u{200B}\u{00AD}"])
    func textWithoutTokens(_ text: String) throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let encoding = tokenizer.encode(text)
        #expect(encoding.textTokenCount == 0)
        #expect(encoding.tokens == ["[CLS]", "[SEP]"])
    }
}
