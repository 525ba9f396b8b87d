import ArgumentParser
import Foundation
import ViTLens

/// Where attention comes from: an image and an image model, a sentence and a text model, or a
/// saved `[layers, heads, N, N]` array with a hand-given token layout.
struct InputOptions: ParsableArguments {
    @Argument(help: "Image file(s): JPEG or PNG.")
    var images: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Model: a Hugging Face folder, a .safetensors file beside its config.json, or a Hub id (from the Hugging Face cache; downloaded unless HF_HUB_OFFLINE=1).",
        valueName: "dir|file|id"))
    var model: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Input size: resize straight to H x W (no crop) and interpolate position embeddings. Default: the processor config decides.", valueName: "HxW"),
            transform: SizeOption.parse)
    var size: SizeOption?

    @Option(help: "A sentence for a text model (BERT family) instead of an image.")
    var text: String?

    @Flag(help: "With --text: cut a text longer than the model's maximum to its first tokens (reported on stderr and in the metadata) instead of refusing it.")
    var truncate = false

    @Option(help: ArgumentHelp("Analyse a saved float32 .npy [layers, heads, N, N] instead of running a model (needs --prefix-tokens, --grid, --patch-size).", valueName: "file.npy"))
    var attentions: String?

    @Option(help: "With --attentions: number of prefix tokens before the patches (CLS, distillation, registers).")
    var prefixTokens: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --attentions: the patch grid, rows x columns.", valueName: "RxC"),
            transform: SizeOption.parse)
    var grid: SizeOption?

    @Option(help: "With --attentions: patch size in pixels.")
    var patchSize: Int?

    /// Checks that exactly one input kind is given, with what it needs.
    func validate(allowText: Bool, allowMany: Bool) throws {
        if attentions != nil {
            guard images.isEmpty, text == nil, model == nil else {
                throw ValidationError("--attentions replaces IMAGE, --text and --model: give only one kind of input")
            }
            guard let p = prefixTokens, grid != nil, let s = patchSize else {
                throw ValidationError("--attentions needs --prefix-tokens, --grid RxC and --patch-size")
            }
            if p < 0 { throw ValidationError("--prefix-tokens must be 0 or more") }
            if s < 1 { throw ValidationError("--patch-size must be at least 1") }
            return
        }
        guard model != nil else { throw ValidationError("--model is required (or analyse a saved array with --attentions)") }
        if let text {
            guard allowText else { throw ValidationError("this command needs an image model, not --text") }
            guard images.isEmpty else { throw ValidationError("give either IMAGE or --text, not both") }
            if text.isEmpty { throw ValidationError("--text is empty") }
            if Self.argumentIsInvalidUTF8(text) {
                throw ValidationError("--text is not valid UTF-8 (bytes that are not UTF-8 arrive as U+FFFD); pass the text in UTF-8")
            }
            if size != nil { throw ValidationError("--size applies to images, not --text") }
            return
        }
        if truncate { throw ValidationError("--truncate goes with --text") }
        if images.isEmpty { throw ValidationError("give an IMAGE (or --text for a text model, or --attentions)") }
        if !allowMany && images.count > 1 { throw ValidationError("this command takes one IMAGE; `vitlens distance` averages over many") }
        if prefixTokens != nil || grid != nil || patchSize != nil {
            throw ValidationError("--prefix-tokens, --grid and --patch-size go with --attentions")
        }
    }

    var sizePair: (height: Int, width: Int)? { size.map { ($0.height, $0.width) } }

    /// Whether `value` came from a command-line argument that is not valid UTF-8.
    ///
    /// Swift decodes `argv` with `String(cString:)`, which replaces each invalid byte sequence by
    /// U+FFFD, so the parsed option cannot tell. The raw `argv` bytes can: a value holding U+FFFD is
    /// refused only when an argument whose repaired text is the value (or `--option=value`) has
    /// invalid bytes; a U+FFFD typed on purpose (valid UTF-8 `EF BF BD`) is kept.
    static func argumentIsInvalidUTF8(_ value: String, arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = CommandLine.unsafeArgv,
                                      count: Int = Int(CommandLine.argc)) -> Bool {
        guard value.unicodeScalars.contains("\u{FFFD}") else { return false }
        for i in 0 ..< count {
            guard let raw = arguments[i] else { continue }
            let bytes = UnsafeRawBufferPointer(start: raw, count: strlen(raw))
            guard String(validating: bytes, as: UTF8.self) == nil else { continue }
            let repaired = String(decoding: bytes, as: UTF8.self)
            if repaired == value || repaired.hasSuffix("=" + value) { return true }
        }
        return false
    }

    /// The layout given by hand for `--attentions`.
    func arrayLayout() throws -> TokenLayout {
        try AttentionArrayFile.layout(prefixTokens: prefixTokens ?? 0, rows: grid?.height ?? 0, columns: grid?.width ?? 0, patchSize: patchSize ?? 0)
    }
}

/// One resolved input, able to feed observers with its attention.
enum AttentionInput {
    case image(VisionPipeline, PreparedImage)
    case text(TextTransformer, TextEncoding)
    case array(AttentionArrayFile)

    /// A short name for messages and metadata.
    var name: String {
        switch self {
        case .image(_, let p): return p.file
        case .text(_, let e): return "text (\(e.ids.count) tokens)"
        case .array(let a): return a.name
        }
    }

    /// The image the maps are drawn on, if any.
    var canvas: RGBImage? {
        if case .image(_, let p) = self { return p.prepared }
        return nil
    }

    /// The token strings of a text input (to label text maps), else `nil`.
    var tokens: [String]? {
        if case .text(_, let encoding) = self { return encoding.tokens }
        return nil
    }

    /// Runs the model (or replays the array) into `observer`.
    @discardableResult
    func feed<O: AttentionObserver>(_ observer: inout O) throws -> VisionOutput? {
        switch self {
        case .image(let pipeline, let prepared):
            return try pipeline.run(prepared, observer: &observer)
        case .text(let model, let encoding):
            do { _ = try model.forward(ids: encoding.ids, typeIds: encoding.typeIds, observer: &observer) } catch let e as MemoryLimitError {
                throw InputError(file: "--text", problem: e.description)
            }
            return nil
        case .array(let file):
            try file.replay(into: &observer)
            return nil
        }
    }
}

/// Loads models once and turns each command-line input into an ``AttentionInput``.
final class InputLoader {
    let options: InputOptions
    private(set) var pipeline: VisionPipeline?
    private(set) var textModel: (TextTransformer, WordPieceTokenizer)?
    private(set) var files: ModelFiles?
    /// For `--text`: the tokens kept and the tokens the text gives (they differ when `--truncate` cut it).
    private(set) var textTokens: (kept: Int, total: Int)?

    init(_ options: InputOptions) throws {
        self.options = options
        guard options.attentions == nil, let spec = options.model else { return }
        let files = try resolveModel(spec)
        self.files = files
        if options.text != nil {
            guard case .text(let model) = try ModelLoader.load(files) else {
                throw InputError(file: files.config.path, problem: "--text needs a text model (BERT family); this is an image model")
            }
            textModel = (model, try WordPieceTokenizer(directory: files.directory))
        } else {
            pipeline = try VisionPipeline(files: files)
        }
    }

    /// The single input of a one-input command.
    func single() throws -> AttentionInput {
        if let path = options.attentions {
            return .array(try AttentionArrayFile(contentsOf: URL(fileURLWithPath: path), layout: options.arrayLayout()))
        }
        if let text = options.text, let (model, tokenizer) = textModel {
            return .text(model, try encodeText(text, model: model, tokenizer: tokenizer))
        }
        return try image(options.images[0])
    }

    /// Tokenizes `--text`: refuses a text with no tokens after normalisation and, without
    /// `--truncate`, a text longer than the model accepts; with `--truncate`, cuts it and says so.
    private func encodeText(_ text: String, model: TextTransformer, tokenizer: WordPieceTokenizer) throws -> TextEncoding {
        let positions = model.maxPositions
        let (maximum, limit) = tokenizer.modelMaxLength < positions
            ? (tokenizer.modelMaxLength, "the tokenizer's model_max_length")
            : (positions, "the model's max_position_embeddings")
        let encoding = tokenizer.encode(text, maxLength: options.truncate ? maximum : Int.max)
        guard encoding.textTokenCount > 0 else {
            throw CommandError("--text has no tokens after normalisation (only whitespace or control characters); give some words")
        }
        textTokens = (encoding.count, encoding.untruncatedCount)
        if encoding.isTruncated {
            FileHandle.standardError.write(Data("--truncate: kept the first \(encoding.count) of \(encoding.untruncatedCount) tokens\n".utf8))
        } else if encoding.count > maximum {
            throw CommandError("--text is \(encoding.count) tokens, more than \(limit) of \(maximum); shorten the text or pass --truncate to keep the first \(maximum)")
        }
        return encoding
    }

    /// One image input.
    func image(_ path: String) throws -> AttentionInput {
        guard let pipeline else { throw CommandError("no image model loaded") }
        return .image(pipeline, try pipeline.prepare(URL(fileURLWithPath: path), size: options.sizePair))
    }

    /// Provenance for metadata files.
    func provenance() -> [String: Any] {
        var m: [String: Any] = ["vitlens_version": VitLens.configuration.version]
        if let files {
            m["model"] = options.model ?? ""
            m["model_directory"] = files.directory.path
            m["weights"] = files.weights.lastPathComponent
        }
        if let pipeline { m["model_type"] = pipeline.model.modelType }
        if let (model, _) = textModel { m["model_type"] = model.modelType }
        if let a = options.attentions { m["attentions_file"] = a }
        if let textTokens {
            m["text_tokens"] = textTokens.kept
            m["text_untruncated_tokens"] = textTokens.total
            m["text_truncated"] = textTokens.kept < textTokens.total
        }
        if let s = options.size { m["requested_size"] = [s.height, s.width] }
        return m
    }
}

/// JSON for a token layout (the same field names as `TokenLayout`'s Codable form).
func layoutJSON(_ layout: TokenLayout) -> [String: Any] {
    var d: [String: Any] = ["prefix": layout.prefix.map(\.rawValue), "tokens": layout.tokenCount]
    if let g = layout.grid {
        d["grid"] = ["rows": g.rows, "columns": g.columns, "patchSize": g.patchSize]
    } else {
        d["textTokens"] = layout.textTokens
    }
    return d
}

extension AttentionInput {
    /// The token layout this input will produce.
    var layout: TokenLayout {
        switch self {
        case .image(let pipeline, let p): return pipeline.model.layout(height: p.pixels.shape[1], width: p.pixels.shape[2])
        case .text(_, let e): return TokenLayout(textTokens: e.ids.count)
        case .array(let a): return a.layout
        }
    }

    /// Layers the input has.
    var layerCount: Int {
        switch self {
        case .image(let pipeline, _): return pipeline.model.spec.layers
        case .text(let m, _): return m.spec.layers
        case .array(let a): return a.layers
        }
    }

    /// Resolves a possibly negative layer index (-1 = last), or fails naming the valid range.
    func layerIndex(_ layer: Int, option: String = "--layer") throws -> Int {
        let l = layer < 0 ? layerCount + layer : layer
        guard l >= 0, l < layerCount else {
            throw CommandError("\(option) \(layer) is out of range: the model has \(layerCount) layers (0...\(layerCount - 1), or -1 for the last)")
        }
        return l
    }
}

/// Parses `--head-fusion`.
func parseFusion(_ s: String) throws -> HeadFusion {
    switch s {
    case "mean": return .mean
    case "max": return .max
    case "min": return .min
    case "std": return .std
    default:
        if s.hasPrefix("head"), let h = Int(s.dropFirst(4).drop(while: { $0 == ":" || $0 == "=" })), h >= 0 { return .head(h) }
        throw ValidationError("--head-fusion must be mean, max, min, std or headN, got '\(s)'")
    }
}
