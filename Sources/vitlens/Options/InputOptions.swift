import ArgumentParser
import Foundation
import ViTLens

/// Where attention comes from: an image and an image model, a sentence and a text model, or a
/// saved `[layers, heads, N, N]` array with a hand-given token layout.
struct InputOptions: ParsableArguments {
    @Argument(help: "Image file(s): JPEG or PNG. Commands that take many (heads, rollout, dump, distance, explain, faithfulness) also take folders (searched recursively for .jpg/.jpeg/.png, sorted) and @list.txt files (one path per line).")
    var images: [String] = []

    @OptionGroup var modelOptions: ModelOptions

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
            guard images.isEmpty, text == nil, modelOptions.model == nil else {
                throw ValidationError("--attentions replaces IMAGE, --text and --model: give only one kind of input")
            }
            guard let p = prefixTokens, grid != nil, let s = patchSize else {
                throw ValidationError("--attentions needs --prefix-tokens, --grid RxC and --patch-size")
            }
            if p < 0 { throw ValidationError("--prefix-tokens must be 0 or more") }
            if s < 1 { throw ValidationError("--patch-size must be at least 1") }
            return
        }
        guard modelOptions.model != nil else { throw ValidationError("--model is required (or analyse a saved array with --attentions)") }
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
        if !allowMany && images.count > 1 { throw ValidationError("this command takes one IMAGE; heads, rollout, dump and distance take many") }
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

extension InputOptions {
    /// The session: the model loaded once, or none for `--attentions`.
    func session(quiet: Bool = false) throws -> AnalysisSession {
        attentions == nil ? try modelOptions.session(quiet: quiet) : AnalysisSession()
    }

    /// The single input of a one-input command (IMAGE, `--text` or `--attentions`), with the model checked
    /// against the input kind; `--truncate` says on stderr what it cut.
    func single(_ session: AnalysisSession) throws -> AnalysisInput {
        if let path = attentions { return try session.savedAttentions(at: URL(fileURLWithPath: path), layout: arrayLayout()) }
        if let text {
            let input = try session.sentence(text, truncate: truncate)
            if let e = input.encoding, e.isTruncated {
                FileHandle.standardError.write(Data("--truncate: kept the first \(e.count) of \(e.untruncatedCount) tokens\n".utf8))
            }
            return input
        }
        return try image(images[0], session)
    }

    /// Replaces IMAGE arguments that are folders or `@list.txt` files by the images they name
    /// (``InputList``: recursive, sorted by path bytes, hidden files skipped), in place; plain files
    /// stay as given, in argument order. Images inside `outFolder` (a previous run's pictures when the
    /// output folder sits inside an input folder) are not inputs.
    mutating func expandImageArguments(excluding outFolder: String) throws {
        var isFolder: ObjCBool = false
        func expands(_ argument: String) -> Bool {
            argument.hasPrefix("@") || (FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) && isFolder.boolValue)
        }
        guard images.contains(where: expands) else { return }
        let outPath = URL(fileURLWithPath: outFolder).standardizedFileURL.path + "/"
        var expanded: [String] = []
        for argument in images {
            guard expands(argument) else { expanded.append(argument); continue }
            do {
                expanded += try InputList(expanding: [argument]).paths
                    .filter { !URL(fileURLWithPath: $0).standardizedFileURL.path.hasPrefix(outPath) }
            } catch {
                throw CommandError("\(error)")
            }
        }
        guard !expanded.isEmpty else { throw CommandError(InputListError.noImages(arguments: images).description) }
        images = expanded
    }

    /// One image input.
    func image(_ path: String, _ session: AnalysisSession) throws -> AnalysisInput {
        try session.image(at: URL(fileURLWithPath: path), size: sizePair)
    }
}
