import Foundation

/// A text model with its WordPiece tokenizer: load once, then encode and run sentences.
///
/// The counterpart of ``VisionPipeline`` for BERT-family encoders.
public final class TextPipeline: @unchecked Sendable {
    /// Where the model came from.
    public let files: ModelFiles
    /// The model.
    public let model: TextTransformer
    /// The tokenizer from the model folder (`tokenizer.json` or `vocab.txt` + configs).
    public let tokenizer: WordPieceTokenizer

    /// Loads the model and its tokenizer from resolved model files.
    /// - Throws: `CheckpointError`/`TextError` naming the file at fault; a text model is required.
    public init(files: ModelFiles) throws {
        self.files = files
        guard case .text(let model) = try ModelLoader.load(files) else {
            throw InputError(file: files.config.path, problem: "a text model (BERT family) is needed; this is an image model")
        }
        self.model = model
        tokenizer = try WordPieceTokenizer(directory: files.directory)
    }

    /// Resolves `spec` (folder, file or Hub id) and loads it.
    public convenience init(model spec: String) throws {
        try self.init(files: try ModelLocator.resolve(spec))
    }

    /// The longest input in tokens (`[CLS]` and `[SEP]` included): the smaller of the model's
    /// `max_position_embeddings` and the tokenizer's `model_max_length`, with the name of the one that binds.
    public var maximumTokens: (tokens: Int, source: String) {
        tokenizer.modelMaxLength < model.maxPositions
            ? (tokenizer.modelMaxLength, "the tokenizer's model_max_length")
            : (model.maxPositions, "the model's max_position_embeddings")
    }

    /// Tokenizes `text` for the model.
    ///
    /// - Parameters:
    ///   - text: the sentence.
    ///   - truncate: cut a text longer than ``maximumTokens`` to its first tokens instead of refusing it
    ///     (the encoding's `isTruncated` and `untruncatedCount` tell).
    /// - Throws: ``TextInputError`` for a text with no tokens after normalisation or one that is too long.
    public func encode(_ text: String, truncate: Bool = false) throws -> TextEncoding {
        let maximum = maximumTokens
        let encoding = tokenizer.encode(text, maxLength: truncate ? maximum.tokens : Int.max)
        guard encoding.textTokenCount > 0 else { throw TextInputError.noTokens }
        if !encoding.isTruncated, encoding.count > maximum.tokens {
            throw TextInputError.tooLong(tokens: encoding.count, maximum: maximum.tokens, limit: maximum.source)
        }
        return encoding
    }

    /// Runs the model on an encoding, feeding `observer`.
    /// - Throws: ``InputError`` (named `text`) for a bad input or one that does not fit in memory.
    public func run<O: AttentionObserver>(_ encoding: TextEncoding, observer: inout O) throws -> TextOutput {
        do { return try model.forward(ids: encoding.ids, typeIds: encoding.typeIds, observer: &observer) } catch let e as ModelInputError {
            throw InputError(file: "--text", problem: e.description)
        } catch let e as MemoryLimitError {
            throw InputError(file: "--text", problem: e.description)
        }
    }
}

/// A sentence the text model cannot take.
public enum TextInputError: Error, CustomStringConvertible, Equatable {
    /// Nothing but whitespace or control characters.
    case noTokens
    /// More tokens than the model accepts.
    case tooLong(tokens: Int, maximum: Int, limit: String)

    public var description: String {
        switch self {
        case .noTokens:
            return "--text has no tokens after normalisation (only whitespace or control characters); give some words"
        case .tooLong(let t, let m, let limit):
            return "--text is \(t) tokens, more than \(limit) of \(m); shorten the text or pass --truncate to keep the first \(m)"
        }
    }
}
