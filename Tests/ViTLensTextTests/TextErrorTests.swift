import Foundation
import Testing
@testable import ViTLensText

/// Each loading error, with its one-line message naming the file.
@Suite struct TextErrorTests {
    /// Writes `files` (name → contents) into a fresh folder and loads it.
    private func load(_ files: [String: [UInt8]]) throws -> (URL, Result<WordPieceTokenizer, TextError>) {
        let folder = try TextFixtures.temporaryFolder()
        for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        do {
            return (folder, .success(try WordPieceTokenizer(directory: folder)))
        } catch {
            return (folder, .failure(error))
        }
    }

    private func expectError(_ files: [String: [UInt8]], file: String, contains fragments: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> TextError? {
        let (folder, result) = try load(files)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard case .failure(let error) = result else {
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return nil
        }
        let message = error.description
        #expect(!message.contains("\n") && !message.contains("\r"), "not one line: \(message)", sourceLocation: sourceLocation)
        #expect(message.hasPrefix(folder.appendingPathComponent(file).path + ": "), "\(message)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(message.contains(fragment), "'\(fragment)' not in: \(message)", sourceLocation: sourceLocation)
        }
        return error
    }

    private static let bertVocabulary = Array("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".utf8)

    @Test func missingFiles() throws {
        let (folder, result) = try load(["config.json": Array("{}".utf8)])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(result.failure == .missingTokenizerFiles(directory: folder.path))
        #expect(result.failure?.description == "\(folder.path): no tokenizer.json or vocab.txt in this folder")
    }

    @Test func emptyVocabulary() throws {
        let error = try expectError(["vocab.txt": []], file: "vocab.txt", contains: ["bad WordPiece vocabulary", "empty"])
        if case .badVocabulary = error {} else { Issue.record("wrong case \(String(describing: error))") }
    }

    @Test func vocabularyWithoutUnknownToken() throws {
        let error = try expectError(["vocab.txt": Array("[CLS]\n[SEP]\nhello\n".utf8)], file: "vocab.txt",
                                    contains: ["\"[UNK]\" is not in the vocabulary"])
        if case .badVocabulary = error {} else { Issue.record("wrong case \(String(describing: error))") }
    }

    @Test func vocabularyWithoutSeparator() throws {
        _ = try expectError(["vocab.txt": Array("[UNK]\n[CLS]\nhello\n".utf8)], file: "vocab.txt",
                            contains: ["separator token \"[SEP]\""])
    }

    @Test func vocabularyNotUTF8() throws {
        _ = try expectError(["vocab.txt": Self.bertVocabulary + [0xFF, 0xFE, 0x0A]], file: "vocab.txt",
                            contains: ["line 6 is not valid UTF-8"])
    }

    @Test func vocabularyUsesConfiguredTokens() throws {
        let config = Array(#"{"unk_token": {"content": "<unk>"}, "cls_token": "<s>", "sep_token": "</s>", "do_lower_case": false}"#.utf8)
        let (folder, result) = try load(["vocab.txt": Array("<unk>\n<s>\n</s>\nHello\n".utf8), "tokenizer_config.json": config])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try result.get()
        #expect(tokenizer.encode("Hello hello").tokens == ["<s>", "Hello", "<unk>", "</s>"])
        #expect(tokenizer.modelMaxLength == Int.max)
    }

    @Test func malformedTokenizerJSON() throws {
        let error = try expectError(["tokenizer.json": Array(#"{"model": {"type": "WordPiece", "vocab": {"a": 0,"#.utf8)],
                                    file: "tokenizer.json", contains: ["bad tokenizer JSON", "unexpected end of data in an object at byte 49"])
        if case .badTokenizerJSON = error {} else { Issue.record("wrong case \(String(describing: error))") }
        _ = try expectError(["tokenizer.json": Array("[1, 2]".utf8)], file: "tokenizer.json", contains: ["top level is an array"])
        _ = try expectError(["tokenizer.json": Array(#"{"model": {"vocab": {"a": -1}}}"#.utf8)], file: "tokenizer.json",
                            contains: [#"model.vocab["a"] is not a non-negative integer"#])
        _ = try expectError(["tokenizer.json": Array(#"{"model": {"vocab": {"a": 0, "[UNK]": 1}}, "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}}"#.utf8)],
                            file: "tokenizer.json", contains: ["normalizer.lowercase is a string, expected a boolean"])
        _ = try expectError(["tokenizer.json": Array(#"{"model": {"vocab": {"a": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#.utf8)],
                            file: "tokenizer.json", contains: ["unknown token \"[UNK]\" is not in the vocabulary"])
    }

    /// A vocabulary token written twice is refused (Python's json would keep the last id); the two
    /// canonically equivalent spellings of "é" stay two tokens.
    @Test func repeatedVocabularyTokenIsRefused() throws {
        _ = try expectError(["tokenizer.json": Array(#"{"model": {"vocab": {"[UNK]": 0, "a": 1, "a": 2}}}"#.utf8)], file: "tokenizer.json",
                            contains: ["key 'a' appears twice in the object of 'vocab' at byte 41"])
    }

    @Test func malformedConfigNamesTheConfig() throws {
        _ = try expectError(["vocab.txt": Self.bertVocabulary, "tokenizer_config.json": Array(#"{"model_max_length": "long"}"#.utf8)],
                            file: "tokenizer_config.json", contains: ["model_max_length is a string"])
        _ = try expectError(["vocab.txt": Self.bertVocabulary, "tokenizer_config.json": Array(#"{"do_lower_case": 1}"#.utf8)],
                            file: "tokenizer_config.json", contains: ["do_lower_case is a number, expected a boolean"])
    }

    @Test func hugeModelMaxLengthMeansNoLimit() throws {
        let config = Array(#"{"model_max_length": 1000000000000000019884624838656}"#.utf8)
        let (folder, result) = try load(["vocab.txt": Self.bertVocabulary, "tokenizer_config.json": config])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try result.get().modelMaxLength == Int.max)
    }

    @Test(arguments: [
        (#"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#, "model type \"BPE\""),
        (#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#, "model type \"Unigram\""),
        (#"{"model": {"vocab": {"a": 0}, "merges": []}}"#, "a BPE model"),
        (#"{"model": {"vocab": [["a", 0.0]]}}"#, "a Unigram model"),
        (#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": {"type": "Sequence", "normalizers": []}}"#,
         "normalizer \"Sequence\""),
        (#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "normalizer": null, "pre_tokenizer": {"type": "ByteLevel"}}"#,
         "pre_tokenizer \"ByteLevel\""),
        (#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": {"type": "RobertaProcessing"}}"#,
         "post_processor \"RobertaProcessing\""),
    ])
    func unsupportedTokenizer(json: String, fragment: String) throws {
        let error = try expectError(["tokenizer.json": Array(json.utf8)], file: "tokenizer.json",
                                    contains: ["unsupported tokenizer", fragment])
        if case .unsupportedTokenizer = error {} else { Issue.record("wrong case \(String(describing: error))") }
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
