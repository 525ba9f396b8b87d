import Foundation
import ViTLensCore

extension WordPieceTokenizer {
    /// Loads the tokenizer of a Hugging Face model folder.
    ///
    /// `tokenizer.json` is preferred: its normalizer, pre-tokenizer, WordPiece model, added tokens,
    /// post-processor and decoder are used as written (only `BertNormalizer`,
    /// `BertPreTokenizer`, `WordPiece`, `TemplateProcessing`/`BertProcessing` and the `WordPiece`
    /// decoder are supported). Without it, `vocab.txt` is read with `tokenizer_config.json`
    /// (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`, the special tokens, falling back
    /// to `special_tokens_map.json`), as transformers' `BertTokenizer` does. Either way
    /// ``modelMaxLength`` comes from `tokenizer_config.json`'s `model_max_length`.
    /// - Throws: ``TextError`` naming the file at fault.
    public init(directory: URL) throws(TextError) {
        let tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        let vocabularyFile = directory.appendingPathComponent("vocab.txt")
        let configFile = directory.appendingPathComponent("tokenizer_config.json")
        let specialTokensFile = directory.appendingPathComponent("special_tokens_map.json")
        let config = try Self.optionalJSONObject(configFile)
        let modelMaxLength = try Self.modelMaxLength(config, file: configFile.path)
        if Self.isFile(tokenizerFile) {
            let components = try Self.tokenizerJSONComponents(tokenizerFile, modelMaxLength: modelMaxLength)
            try self.init(components) { .badTokenizerJSON(file: tokenizerFile.path, reason: $0) }
        } else if Self.isFile(vocabularyFile) {
            let specialTokens = try Self.optionalJSONObject(specialTokensFile)
            let components = try Self.vocabularyComponents(vocabularyFile, config: config, configFile: configFile.path,
                                                           specialTokens: specialTokens,
                                                           specialTokensFile: specialTokensFile.path,
                                                           modelMaxLength: modelMaxLength)
            try self.init(components) { .badVocabulary(file: vocabularyFile.path, reason: $0) }
        } else {
            throw .missingTokenizerFiles(directory: directory.path)
        }
    }

    // MARK: - vocab.txt

    private static func vocabularyComponents(_ url: URL, config: JSONValue?, configFile: String, specialTokens: JSONValue?,
                                             specialTokensFile: String, modelMaxLength: Int) throws(TextError) -> Components {
        let file = url.path
        let bytes: [UInt8]
        bytes = try readFile(url)
        var entries: [(token: String, id: Int)] = []
        var lineStart = 0
        var lineNumber = 1
        for index in 0 ... bytes.count where index == bytes.count || bytes[index] == 0x0A {
            // As Python's readlines(): a final newline does not start another (empty) token.
            if index == bytes.count, lineStart == bytes.count { break }
            guard let token = String(validating: bytes[lineStart ..< index], as: UTF8.self) else {
                throw .badVocabulary(file: file, reason: "line \(lineNumber) is not valid UTF-8")
            }
            entries.append((token, entries.count))
            lineStart = index + 1
            lineNumber += 1
        }
        guard !entries.isEmpty else { throw .badVocabulary(file: file, reason: "the file is empty") }

        func bool(_ key: String, default value: Bool) throws(TextError) -> Bool {
            guard let field = config?[key], !field.isNull else { return value }
            guard case .bool(let flag) = field else {
                throw .badTokenizerJSON(file: configFile, reason: "\(key) is \(field.kind), expected a boolean")
            }
            return flag
        }
        func token(_ key: String, default value: String) throws(TextError) -> String {
            for (source, sourceFile) in [(config, configFile), (specialTokens, specialTokensFile)] {
                guard let field = source?[key], !field.isNull else { continue }
                if case .string(let text) = field { return text }
                if case .string(let text)? = field["content"] { return text }
                throw .badTokenizerJSON(file: sourceFile, reason: "\(key) is \(field.kind), expected a string or {\"content\": ...}")
            }
            return value
        }
        let lowercase = try bool("do_lower_case", default: true)
        let stripField = config?["strip_accents"]
        let stripAccents: Bool
        if let stripField, !stripField.isNull {
            guard case .bool(let flag) = stripField else {
                throw .badTokenizerJSON(file: configFile, reason: "strip_accents is \(stripField.kind), expected a boolean or null")
            }
            stripAccents = flag
        } else {
            stripAccents = lowercase
        }
        let normalizer = BertNormalizer(cleanText: true, handleChineseChars: try bool("tokenize_chinese_chars", default: true),
                                        stripAccents: stripAccents, lowercase: lowercase)
        let unknown = try token("unk_token", default: "[UNK]")
        let cls = try token("cls_token", default: "[CLS]")
        let sep = try token("sep_token", default: "[SEP]")
        let pad = try token("pad_token", default: "[PAD]")
        let mask = try token("mask_token", default: "[MASK]")
        return bertComponents(vocabulary: entries, normalizer: normalizer, unknownToken: unknown, continuingSubwordPrefix: "##",
                              maxInputCharsPerWord: 100, specialTokens: [pad, unknown, cls, sep, mask],
                              clsToken: cls, sepToken: sep, modelMaxLength: modelMaxLength, file: file)
    }

    // MARK: - tokenizer.json

    private static func tokenizerJSONComponents(_ url: URL, modelMaxLength: Int) throws(TextError) -> Components {
        let file = url.path
        let root = try parseJSONFile(url)
        func bad(_ reason: String) -> TextError { .badTokenizerJSON(file: file, reason: reason) }
        func unsupported(_ reason: String) -> TextError { .unsupportedTokenizer(file: file, reason: reason) }
        var fields = JSONFields(bad: bad)
        guard case .object = root else { throw bad("the top level is \(root.kind), expected an object") }

        // model
        guard let model = root["model"], case .object = model else { throw bad("no \"model\" object") }
        let modelType = try fields.string(model, "type", path: "model.type", default: nil)
        if let modelType, modelType != "WordPiece" {
            throw unsupported("model type \"\(modelType)\"; only WordPiece (BERT) tokenizers are supported")
        }
        if modelType == nil, model["merges"] != nil { throw unsupported("a BPE model (it has merges); only WordPiece is supported") }
        guard let vocabField = model["vocab"] else { throw bad("model.vocab is missing") }
        guard case .object(let members) = vocabField else {
            if modelType == nil, case .array = vocabField {
                throw unsupported("a Unigram model (its vocab is a list); only WordPiece is supported")
            }
            throw bad("model.vocab is \(vocabField.kind), expected an object of token ids")
        }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(members.count)
        for (token, value) in members {
            entries.append((token, try fields.tokenId(value, path: "model.vocab[\"\(token)\"]")))
        }
        let unknown = try fields.string(model, "unk_token", path: "model.unk_token", default: "[UNK]") ?? "[UNK]"
        let prefix = try fields.string(model, "continuing_subword_prefix", path: "model.continuing_subword_prefix", default: "##") ?? "##"
        let maxChars = try fields.int(model, "max_input_chars_per_word", path: "model.max_input_chars_per_word", default: 100)

        // normalizer
        var normalizer = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        if let field = root["normalizer"], !field.isNull {
            let type = try fields.string(field, "type", path: "normalizer.type", default: nil)
            guard type == "BertNormalizer" else {
                throw unsupported("normalizer \"\(type ?? field.kind)\"; only BertNormalizer is supported")
            }
            let lowercase = try fields.bool(field, "lowercase", path: "normalizer.lowercase", default: true)
            normalizer = BertNormalizer(
                cleanText: try fields.bool(field, "clean_text", path: "normalizer.clean_text", default: true),
                handleChineseChars: try fields.bool(field, "handle_chinese_chars", path: "normalizer.handle_chinese_chars", default: true),
                stripAccents: try fields.optionalBool(field, "strip_accents", path: "normalizer.strip_accents") ?? lowercase,
                lowercase: lowercase)
        }

        // pre-tokenizer
        let preTokenizer = root["pre_tokenizer"].flatMap { $0.isNull ? nil : $0 }
        let preTokenizerType = try preTokenizer.flatMap { value throws(TextError) in
            try fields.string(value, "type", path: "pre_tokenizer.type", default: nil)
        }
        guard preTokenizerType == "BertPreTokenizer" else {
            throw unsupported("pre_tokenizer \"\(preTokenizerType ?? "null")\"; only BertPreTokenizer is supported")
        }

        // added tokens
        var addedTokens: [AddedToken] = []
        if let field = root["added_tokens"], !field.isNull {
            guard case .array(let items) = field else { throw bad("added_tokens is \(field.kind), expected an array") }
            for (index, item) in items.enumerated() {
                let path = "added_tokens[\(index)]"
                guard case .object = item else { throw bad("\(path) is \(item.kind), expected an object") }
                guard let idField = item["id"] else { throw bad("\(path).id is missing") }
                guard let content = try fields.string(item, "content", path: "\(path).content", default: nil) else {
                    throw bad("\(path).content is missing")
                }
                let special = try fields.bool(item, "special", path: "\(path).special", default: false)
                addedTokens.append(AddedToken(
                    content: content, id: try fields.tokenId(idField, path: "\(path).id"), special: special,
                    singleWord: try fields.bool(item, "single_word", path: "\(path).single_word", default: false),
                    lstrip: try fields.bool(item, "lstrip", path: "\(path).lstrip", default: false),
                    rstrip: try fields.bool(item, "rstrip", path: "\(path).rstrip", default: false),
                    normalized: try fields.bool(item, "normalized", path: "\(path).normalized", default: !special)))
            }
        }

        // post-processor
        let template = try postProcessorTemplate(root["post_processor"], fields: &fields, unsupported: unsupported)

        // decoder
        var decoder: WordPieceDecoder?
        if let field = root["decoder"], !field.isNull {
            let type = try fields.string(field, "type", path: "decoder.type", default: nil)
            guard type == "WordPiece" else { throw unsupported("decoder \"\(type ?? field.kind)\"; only the WordPiece decoder is supported") }
            decoder = WordPieceDecoder(prefix: try fields.string(field, "prefix", path: "decoder.prefix", default: "##") ?? "##",
                                       cleanup: try fields.bool(field, "cleanup", path: "decoder.cleanup", default: true))
        }

        return Components(vocabulary: entries, normalizer: normalizer, unknownToken: unknown, continuingSubwordPrefix: prefix,
                          maxInputCharsPerWord: maxChars, addedTokens: addedTokens, template: { _ in template },
                          decoder: decoder, modelMaxLength: modelMaxLength)
    }

    /// Reads `post_processor`: `TemplateProcessing`, `BertProcessing` or none.
    private static func postProcessorTemplate(_ field: JSONValue?, fields: inout JSONFields,
                                              unsupported: (String) -> TextError) throws(TextError) -> PostProcessorTemplate {
        guard let field, !field.isNull else { return .none }
        let type = try fields.string(field, "type", path: "post_processor.type", default: nil)
        switch type {
        case "BertProcessing":
            func pair(_ key: String) throws(TextError) -> (token: String, id: Int) {
                guard case .array(let items)? = field[key], items.count == 2, case .string(let token) = items[0] else {
                    throw fields.bad("post_processor.\(key) is not a [token, id] pair")
                }
                return (token, try fields.tokenId(items[1], path: "post_processor.\(key)[1]"))
            }
            return .bert(cls: try pair("cls"), sep: try pair("sep"))
        case "TemplateProcessing":
            var specials: [String: (ids: [Int], tokens: [String])] = [:]
            if case .object(let members)? = field["special_tokens"] {
                for (name, value) in members {
                    let path = "post_processor.special_tokens[\"\(name)\"]"
                    guard case .array(let idValues)? = value["ids"], case .array(let tokenValues)? = value["tokens"],
                          idValues.count == tokenValues.count
                    else { throw fields.bad("\(path) needs ids and tokens of the same length") }
                    var ids: [Int] = []
                    var tokens: [String] = []
                    for (index, idValue) in idValues.enumerated() {
                        ids.append(try fields.tokenId(idValue, path: "\(path).ids[\(index)]"))
                        guard case .string(let token) = tokenValues[index] else { throw fields.bad("\(path).tokens[\(index)] is not a string") }
                        tokens.append(token)
                    }
                    specials[name] = (ids, tokens)
                }
            }
            func pieces(_ key: String) throws(TextError) -> [TemplatePiece] {
                guard case .array(let items)? = field[key] else {
                    throw fields.bad("post_processor.\(key) is not a list of template pieces")
                }
                var result: [TemplatePiece] = []
                for (index, item) in items.enumerated() {
                    let path = "post_processor.\(key)[\(index)]"
                    if let special = item["SpecialToken"] {
                        guard let name = try fields.string(special, "id", path: "\(path).SpecialToken.id", default: nil),
                              let tokens = specials[name]
                        else { throw fields.bad("\(path) names a special token missing from post_processor.special_tokens") }
                        result.append(.special(ids: tokens.ids, tokens: tokens.tokens,
                                               typeId: try fields.int(special, "type_id", path: "\(path).SpecialToken.type_id", default: 0)))
                    } else if let sequence = item["Sequence"] {
                        let id = try fields.string(sequence, "id", path: "\(path).Sequence.id", default: "A")
                        guard id == "A" || id == "B" else { throw fields.bad("\(path).Sequence.id must be \"A\" or \"B\"") }
                        result.append(.sequence(second: id == "B",
                                                typeId: try fields.int(sequence, "type_id", path: "\(path).Sequence.type_id", default: 0)))
                    } else {
                        throw fields.bad("\(path) is neither a SpecialToken nor a Sequence")
                    }
                }
                return result
            }
            return PostProcessorTemplate(single: try pieces("single"), pair: try pieces("pair"))
        default:
            throw unsupported("post_processor \"\(type ?? field.kind)\"; only TemplateProcessing and BertProcessing are supported")
        }
    }

    // MARK: - Shared helpers

    /// Whether something is at `url` (a FIFO, directory or link loop there is reported when it is read).
    private static func isFile(_ url: URL) -> Bool {
        UserFile.check(url.path) != .noSuchFile
    }

    /// The bytes of the regular file at `url`.
    private static func readFile(_ url: URL) throws(TextError) -> [UInt8] {
        do { return [UInt8](try UserFile.read(url.path)) } catch { throw .unreadableFile(file: url.path, problem: error) }
    }

    private static func parseJSONFile(_ url: URL) throws(TextError) -> JSONValue {
        let bytes: [UInt8]
        bytes = try readFile(url)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw .badTokenizerJSON(file: url.path, reason: "\(error.message) at byte \(error.offset)")
        }
    }

    /// The JSON object in `url`, or `nil` when there is no such file.
    private static func optionalJSONObject(_ url: URL) throws(TextError) -> JSONValue? {
        guard isFile(url) else { return nil }
        let value = try parseJSONFile(url)
        guard case .object = value else {
            throw .badTokenizerJSON(file: url.path, reason: "the top level is \(value.kind), expected an object")
        }
        return value
    }

    /// `model_max_length`: transformers' "no limit" sentinel (int(1e30)) and absence mean `Int.max`.
    private static func modelMaxLength(_ config: JSONValue?, file: String) throws(TextError) -> Int {
        guard let field = config?["model_max_length"], !field.isNull else { return Int.max }
        guard case .number(let value) = field, value >= 1, value.rounded() == value else {
            throw .badTokenizerJSON(file: file, reason: "model_max_length is \(field.kind), expected a positive integer")
        }
        return value >= 1e18 ? Int.max : Int(value)
    }
}

/// Typed access to JSON fields with one-line errors that give the field's path.
private struct JSONFields {
    let bad: (String) -> TextError

    func string(_ object: JSONValue, _ key: String, path: String, default value: String?) throws(TextError) -> String? {
        guard let field = object[key], !field.isNull else { return value }
        guard case .string(let text) = field else { throw bad("\(path) is \(field.kind), expected a string") }
        return text
    }

    func bool(_ object: JSONValue, _ key: String, path: String, default value: Bool) throws(TextError) -> Bool {
        try optionalBool(object, key, path: path) ?? value
    }

    func optionalBool(_ object: JSONValue, _ key: String, path: String) throws(TextError) -> Bool? {
        guard let field = object[key], !field.isNull else { return nil }
        guard case .bool(let flag) = field else { throw bad("\(path) is \(field.kind), expected a boolean") }
        return flag
    }

    func int(_ object: JSONValue, _ key: String, path: String, default value: Int) throws(TextError) -> Int {
        guard let field = object[key], !field.isNull else { return value }
        return try id(field, path: path)
    }

    /// A token id: below 2^24, so that a corrupt file cannot make us allocate a huge id table.
    func tokenId(_ value: JSONValue, path: String) throws(TextError) -> Int {
        let id = try self.id(value, path: path)
        guard id < 1 << 24 else { throw bad("\(path) is \(id), more than any real vocabulary has") }
        return id
    }

    /// A non-negative integer that fits an `Int32` (type ids, lengths).
    func id(_ value: JSONValue, path: String) throws(TextError) -> Int {
        guard case .number(let number) = value, number >= 0, number <= Double(Int32.max), number.rounded() == number else {
            throw bad("\(path) is \(value.kind == "a number" ? "not a non-negative integer" : value.kind), expected a non-negative integer")
        }
        return Int(number)
    }
}

extension JSONValue {
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
