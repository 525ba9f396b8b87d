import ViTLensCore

/// Errors loading a tokenizer; each message is one line that names the file and the problem.
public enum TextError: Error, CustomStringConvertible, Equatable {
    /// The folder has neither `tokenizer.json` nor `vocab.txt`.
    case missingTokenizerFiles(directory: String)
    /// A tokenizer file exists but is no readable regular file (a FIFO, a device, a directory, a
    /// symbolic link loop, no permission).
    case unreadableFile(file: String, problem: FileProblem)
    /// `vocab.txt` (or an in-memory vocabulary) is unusable: unreadable, empty, not UTF-8, or
    /// lacking a token the tokenizer needs.
    case badVocabulary(file: String, reason: String)
    /// A JSON file (`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`) is
    /// malformed or has a field of the wrong kind.
    case badTokenizerJSON(file: String, reason: String)
    /// `tokenizer.json` describes something other than a BERT WordPiece tokenizer, e.g. BPE,
    /// Unigram or a normalizer sequence.
    case unsupportedTokenizer(file: String, reason: String)

    /// A one-line message: the file (or folder), then the problem.
    public var description: String {
        switch self {
        case .missingTokenizerFiles(let directory):
            return "\(directory): no tokenizer.json or vocab.txt in this folder"
        case .unreadableFile(let file, let problem):
            return "\(file): \(problem)"
        case .badVocabulary(let file, let reason):
            return "\(file): bad WordPiece vocabulary: \(Self.oneLine(reason))"
        case .badTokenizerJSON(let file, let reason):
            return "\(file): bad tokenizer JSON: \(Self.oneLine(reason))"
        case .unsupportedTokenizer(let file, let reason):
            return "\(file): unsupported tokenizer: \(Self.oneLine(reason))"
        }
    }

    /// Keeps messages on one line even when a reason quotes text with line breaks.
    private static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: return " "
            default: return Character(scalar)
            }
        })
    }
}
