import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensText

/// One golden case from `Tests/Fixtures/text/goldens.json` (made by tools/make_text_fixtures.py).
struct GoldenCase: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var variant: String
    var text: String
    var pair: String?
    var maxLength: Int?
    var truncate: Bool?
    var addSpecialTokens: Bool?
    var ids: [Int]
    var tokens: [String]
    var typeIds: [Int]
    var attentionMask: [Int]
    var specialTokensMask: [Int]
    var offsets: [[Int]]
    var decoded: String
    var decodedWithSpecialTokens: String

    enum CodingKeys: String, CodingKey {
        case name, variant, text, pair, truncate, ids, tokens, offsets, decoded
        case maxLength = "max_length", addSpecialTokens = "add_special_tokens", typeIds = "type_ids"
        case attentionMask = "attention_mask", specialTokensMask = "special_tokens_mask"
        case decodedWithSpecialTokens = "decoded_with_special_tokens"
    }

    var testDescription: String { "\(variant)/\(name)" }

    /// The `maxLength` argument equivalent to the Hugging Face call that made the golden.
    var maxLengthArgument: Int? {
        if let maxLength { return maxLength }
        return truncate == true ? nil : Int.max
    }

    /// Runs the case through `tokenizer`.
    func encode(with tokenizer: WordPieceTokenizer) -> TextEncoding {
        if let pair { return tokenizer.encode(text, pair: pair, maxLength: maxLengthArgument) }
        return tokenizer.encode(text, addSpecialTokens: addSpecialTokens ?? true, maxLength: maxLengthArgument)
    }

    /// Hugging Face offsets as ViTLens reports them: `nil` for template special tokens.
    var expectedOffsets: [Range<Int>?] {
        zip(offsets, specialTokensMask).map { offset, special in special == 1 ? nil : offset[0] ..< offset[1] }
    }
}

private struct GoldenFile: Decodable {
    var formatVersion: Int
    var modelMaxLength: Int
    var cases: [GoldenCase]
    enum CodingKeys: String, CodingKey {
        case cases
        case formatVersion = "format_version", modelMaxLength = "model_max_length"
    }
}

/// Exact comparison of strings by Unicode scalars (Swift's `==` treats canonically equivalent strings as equal).
func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

enum TextFixtures {
    static let directory = Fixtures.url("text")
    /// vocab.txt, tokenizer_config.json, special_tokens_map.json (and tokenizer_skeleton.json, which loaders ignore).
    static let minilmVocabularyFolder = directory.appendingPathComponent("minilm")

    static let goldens: [GoldenCase] = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("goldens.json"))
            let file = try JSONDecoder().decode(GoldenFile.self, from: data)
            guard file.formatVersion == 1 else {
                Issue.record("goldens.json has format \(file.formatVersion); re-run `python tools/make_text_fixtures.py`")
                return []
            }
            return file.cases
        } catch {
            Issue.record("cannot read goldens.json (re-run `python tools/make_text_fixtures.py`): \(error)")
            return []
        }
    }()

    static func cases(variant: String) -> [GoldenCase] { goldens.filter { $0.variant == variant } }

    static let vocabularyLines: [String] = {
        guard let data = try? Data(contentsOf: minilmVocabularyFolder.appendingPathComponent("vocab.txt")) else { return [] }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }()

    /// A fresh empty folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        try ViTLensTestSupport.temporaryFolder("text")
    }

    /// A folder with MiniLM's real `tokenizer.json` rebuilt from the skeleton and vocab.txt (the
    /// generator checks this rebuilds the original), optionally changed as golden variant `variant`.
    static func tokenizerJSONFolder(variant: String? = nil) throws -> URL {
        let folder = try temporaryFolder()
        let skeletonData = try Data(contentsOf: minilmVocabularyFolder.appendingPathComponent("tokenizer_skeleton.json"))
        var root = try #require(try JSONSerialization.jsonObject(with: skeletonData) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        model["vocab"] = Dictionary(vocabularyLines.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { _, last in last })
        root["model"] = model
        if let variant {
            let goldenData = try Data(contentsOf: directory.appendingPathComponent("goldens.json"))
            let golden = try #require(try JSONSerialization.jsonObject(with: goldenData) as? [String: Any])
            let variants = try #require(golden["variants"] as? [String: Any])
            let spec = try #require(variants[variant] as? [String: Any])
            if let overrides = spec["normalizer"] as? [String: Any] {
                var normalizer = try #require(root["normalizer"] as? [String: Any])
                normalizer.merge(overrides) { _, new in new }
                root["normalizer"] = normalizer
            }
            if let addedTokens = spec["added_tokens"] { root["added_tokens"] = addedTokens }
        }
        try JSONSerialization.data(withJSONObject: root).write(to: folder.appendingPathComponent("tokenizer.json"))
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: minilmVocabularyFolder.appendingPathComponent(name),
                                             to: folder.appendingPathComponent(name))
        }
        return folder
    }

    /// Tokenizers loaded once per variant ("minilm" is the unmodified tokenizer.json).
    static func tokenizer(variant: String) throws -> WordPieceTokenizer {
        try cache.tokenizer(variant: variant)
    }

    private static let cache = TokenizerCache()
}

/// Loads each variant's tokenizer once, however many tests run in parallel.
private final class TokenizerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var tokenizers: [String: WordPieceTokenizer] = [:]

    func tokenizer(variant: String) throws -> WordPieceTokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = tokenizers[variant] { return tokenizer }
        let folder = try TextFixtures.tokenizerJSONFolder(variant: variant == "minilm" ? nil : variant)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try WordPieceTokenizer(directory: folder)
        tokenizers[variant] = tokenizer
        return tokenizer
    }
}

/// Checks every field of `encoding` against `golden`, comparing strings scalar by scalar.
func expectMatches(_ encoding: TextEncoding, _ golden: GoldenCase, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(encoding.ids == golden.ids, "ids of \(golden.testDescription)", sourceLocation: sourceLocation)
    #expect(encoding.tokens.map(scalars) == golden.tokens.map(scalars), "tokens: \(encoding.tokens) vs \(golden.tokens)",
            sourceLocation: sourceLocation)
    #expect(encoding.typeIds == golden.typeIds, "type ids", sourceLocation: sourceLocation)
    #expect(encoding.attentionMask == golden.attentionMask, "attention mask", sourceLocation: sourceLocation)
    #expect(encoding.offsets == golden.expectedOffsets, "offsets", sourceLocation: sourceLocation)
}
