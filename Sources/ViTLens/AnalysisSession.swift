import Foundation

/// One place that turns inputs into attention: a model loaded once (image or text), or none for
/// saved attention arrays; inputs prepared from files, decoded images, sentences or `.npy` stacks;
/// one forward pass per input feeding any observers; provenance for every result.
///
/// The CLI, the viewer and Swift code all go through it:
/// ```swift
/// let session = try AnalysisSession(model: "path/to/dinov2-small")
/// let input = try session.image(at: URL(fileURLWithPath: "photo.jpg"), size: (480, 480))
/// var rollout = try Rollout()
/// try session.run(input, observer: &rollout)
/// print(rollout.result!.map.shape, session.provenance(for: input).modelType ?? "")
/// ```
public final class AnalysisSession: @unchecked Sendable {
    /// The loaded model.
    public enum Model: Sendable {
        case vision(VisionPipeline)
        case text(TextPipeline)
    }

    /// The model, or nil for a session that only replays saved arrays.
    public let model: Model?
    /// How the model was named (folder, file or Hub id).
    public let modelSpec: String?

    /// Resolves `spec` (a Hugging Face folder, a `.safetensors` file beside its config, or a Hub id
    /// read from the Hugging Face cache and downloaded into it when missing) and loads it with its
    /// image processor or tokenizer, whichever the model's family needs.
    /// - Parameters:
    ///   - spec: the model.
    ///   - environment: `HF_HOME`, `HF_HUB_OFFLINE`, ... (default: the process's).
    ///   - progress: receives one line per file a Hub download fetches.
    ///   - downloads: receives each downloaded file's start, bytes and end (for a ``ProgressBar``).
    ///   - stateDictKey: for a `torch.save` file with several state dicts, the one to load
    ///     (`teacher`, `student`, `model`, ...; ``ModelFiles/stateDictKey``).
    ///   - preset: the architecture of a weights file without `config.json` (``DINOPreset``); `spec`
    ///     must then be that file.
    ///   - preprocessing: how images are prepared (default: the model's processor).
    /// - Throws: errors naming the file at fault (`CheckpointError`, `ImageError`, `TextError`,
    ///   `ModelError.presetMismatch`).
    public init(model spec: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: (@Sendable (String) -> Void)? = nil, downloads: (@Sendable (DownloadEvent) -> Void)? = nil,
                stateDictKey: String? = nil, preset: DINOPreset? = nil, preprocessing: Preprocessing = .model) throws {
        var files: ModelFiles
        if let preset {
            files = try preset.files(weights: try ModelLocator.weightsFile(spec, environment: environment), stateDictKey: stateDictKey)
        } else {
            files = try ModelLocator.resolve(spec, environment: environment, progress: progress, downloads: downloads)
            files.stateDictKey = stateDictKey
        }
        switch try ModelLoader.load(files) {
        case .vision(let vision): model = .vision(try VisionPipeline(files: files, model: vision, preprocessing: preprocessing))
        case .text: model = .text(try TextPipeline(files: files))
        }
        modelSpec = spec
    }

    /// A session without a model, for ``savedAttentions(at:layout:)``.
    public init() {
        model = nil
        modelSpec = nil
    }

    /// The image pipeline, if the model is an image model.
    public var vision: VisionPipeline? { if case .vision(let v) = model { return v } else { return nil } }
    /// The text pipeline, if the model is a text model.
    public var text: TextPipeline? { if case .text(let t) = model { return t } else { return nil } }
    /// Where the model came from.
    public var files: ModelFiles? { vision?.files ?? text?.files }

    // MARK: - Inputs

    /// Decodes and preprocesses an image file for the image model (`size`: see ``VisionPipeline/prepare(_:size:)``).
    /// - Throws: ``SessionError/needsImageModel`` for a text model; `ImageError`/``InputError`` naming the file.
    public func image(at url: URL, size: (height: Int, width: Int)? = nil) throws -> AnalysisInput {
        guard let vision else { throw SessionError.needsImageModel(model: modelName) }
        return AnalysisInput(image: try vision.prepare(url, size: size), model: vision.model, requestedSize: size)
    }

    /// Preprocesses an already decoded image; `name` labels it in errors and metadata.
    public func image(_ image: RGBImage, name: String, size: (height: Int, width: Int)? = nil) throws -> AnalysisInput {
        guard let vision else { throw SessionError.needsImageModel(model: modelName) }
        return AnalysisInput(image: try vision.prepare(image, file: name, size: size), model: vision.model, requestedSize: size)
    }

    /// Tokenizes a sentence for the text model (see ``TextPipeline/encode(_:truncate:)``).
    public func sentence(_ text: String, truncate: Bool = false) throws -> AnalysisInput {
        guard let pipeline = self.text else { throw SessionError.needsTextModel(model: modelName) }
        let encoding = try pipeline.encode(text, truncate: truncate)
        return AnalysisInput(source: .text(text, encoding), name: "text (\(encoding.ids.count) tokens)",
                             layout: TokenLayout(textTokens: encoding.ids.count), layers: pipeline.model.spec.layers)
    }

    /// Loads and validates a saved `[layers, heads, N, N]` float `.npy` stack with a token layout given by hand.
    public func savedAttentions(at url: URL, layout: TokenLayout) throws -> AnalysisInput {
        let file = try AttentionArrayFile(contentsOf: url, layout: layout)
        return AnalysisInput(source: .attentions(file), name: file.name, layout: file.layout, layers: file.layers)
    }

    // MARK: - Running

    /// Runs one forward pass on `input` (or replays a saved stack), feeding `observer`.
    /// - Returns: the model's outputs (hidden states, logits), or `.replayed` for a saved stack.
    @discardableResult
    public func run<O: AttentionObserver>(_ input: AnalysisInput, observer: inout O) throws -> ForwardOutput {
        switch input.source {
        case .image(let prepared):
            guard let vision else { throw SessionError.needsImageModel(model: modelName) }
            return .vision(try vision.run(prepared, observer: &observer))
        case .text(_, let encoding):
            guard let pipeline = self.text else { throw SessionError.needsTextModel(model: modelName) }
            return .text(try pipeline.run(encoding, observer: &observer))
        case .attentions(let file):
            try file.replay(into: &observer)
            return .replayed
        }
    }

    /// Runs many inputs, sharing forward passes: consecutive images of one size (up to
    /// `batchSize` of them, in input order; ``BatchSize/automatic`` decides per group from its token
    /// count) go through one batched forward pass
    /// (``VisionPipeline/run(batch:observers:)``), each with its own observer from `makeObserver`;
    /// an image of another size starts a new group, and text or saved stacks run alone.
    ///
    /// Each result belongs to its input alone: when a batched pass fails (an image overflows, the
    /// batch is over the memory limit) its images run again one at a time with fresh observers, so
    /// that the error lands on the image that causes it. Results for an image equal those of
    /// ``run(_:observer:)`` (docs/PERFORMANCE.md states the tolerance).
    /// - Parameters:
    ///   - inputs: the inputs, in order.
    ///   - batchSize: images per forward pass.
    ///   - makeObserver: a fresh observer for an input; an error it throws is that input's result.
    /// - Returns: one result per input, in order: the forward's output and the observer after `finish`.
    public func run<O: AttentionObserver>(_ inputs: [AnalysisInput], batchSize: BatchSize,
                                          makeObserver: (AnalysisInput) throws -> O) -> [Result<(output: ForwardOutput, observer: O), any Error>] {
        var results: [Result<(output: ForwardOutput, observer: O), any Error>] = []
        results.reserveCapacity(inputs.count)
        func single(_ input: AnalysisInput) -> Result<(output: ForwardOutput, observer: O), any Error> {
            Result {
                var observer = try makeObserver(input)
                let output = try run(input, observer: &observer)
                return (output, observer)
            }
        }
        var start = 0
        while start < inputs.count {
            guard case .image(let first) = inputs[start].source, let vision, batchSize.chunk > 1 else {
                results.append(single(inputs[start]))
                start += 1
                continue
            }
            var group = [first]
            let shape = first.pixels.shape
            let patch = max(1, vision.model.patchSize)
            let tokens = shape.count == 3 ? (shape[1] / patch) * (shape[2] / patch) : 1  // patches; the few prefix tokens do not matter here
            let limit = batchSize.images(tokens: tokens)
            while group.count < limit, start + group.count < inputs.count,
                  case .image(let next) = inputs[start + group.count].source, next.pixels.shape == first.pixels.shape {
                group.append(next)
            }
            let members = inputs[start ..< (start + group.count)]
            var observers: [O] = []
            var made = true
            for input in members {
                guard let o = try? makeObserver(input) else { made = false; break }
                observers.append(o)
            }
            if made, group.count > 1, let outputs = try? vision.run(batch: group, observers: &observers) {
                for (o, observer) in zip(outputs, observers) { results.append(.success((.vision(o), observer))) }
            } else {
                for input in members { results.append(single(input)) }
            }
            start += group.count
        }
        return results
    }

    /// What produced a result: the model, its files and type, and the input's particulars.
    public func provenance(for input: AnalysisInput? = nil) -> Provenance {
        var p = Provenance()
        if let files, let modelSpec {
            p.model = modelSpec
            p.modelDirectory = files.directory.path
            p.weights = files.weights.lastPathComponent
        }
        p.modelType = vision?.model.modelType ?? text?.model.modelType
        switch input?.source {
        case .attentions(let file)?: p.attentionsFile = file.name
        case .text(_, let e)?:
            p.textTokens = e.count
            p.textUntruncatedTokens = e.untruncatedCount
            p.textTruncated = e.isTruncated
        default: break
        }
        p.requestedSize = input?.requestedSize
        return p
    }

    private var modelName: String { files?.config.path ?? modelSpec ?? "no model" }
}

/// One input ready to run: a prepared image, an encoded sentence or a validated saved stack.
public struct AnalysisInput: Sendable {
    /// What the attention comes from.
    public enum Source: Sendable {
        case image(PreparedImage)
        /// The sentence and its encoding.
        case text(String, TextEncoding)
        case attentions(AttentionArrayFile)
    }

    public let source: Source
    /// A short name for messages and metadata (the file, or `text (N tokens)`).
    public let name: String
    /// The token layout the attention will have.
    public let layout: TokenLayout
    /// Layers of attention the input gives.
    public let layers: Int
    /// The `size` asked for an image, `[height, width]` (recorded in the provenance).
    public let requestedSize: [Int]?

    init(source: Source, name: String, layout: TokenLayout, layers: Int, requestedSize: [Int]? = nil) {
        self.source = source
        self.name = name
        self.layout = layout
        self.layers = layers
        self.requestedSize = requestedSize
    }

    init(image prepared: PreparedImage, model: VisionTransformer, requestedSize: (height: Int, width: Int)?) {
        self.init(source: .image(prepared), name: prepared.file,
                  layout: model.layout(height: prepared.pixels.shape[1], width: prepared.pixels.shape[2]), layers: model.observedLayers,
                  requestedSize: requestedSize.map { [$0.height, $0.width] })
    }

    /// The image maps are drawn on (the model's input after resize and crop), if any.
    public var canvas: RGBImage? {
        if case .image(let p) = source { return p.prepared }
        return nil
    }

    /// The text encoding, if the input is a sentence.
    public var encoding: TextEncoding? {
        if case .text(_, let e) = source { return e }
        return nil
    }

    /// Resolves a possibly negative layer index (-1 = last).
    /// - Throws: ``SessionError/layerOutOfRange(option:layer:layers:)`` naming `option` and the valid range.
    public func layerIndex(_ layer: Int, option: String = "--layer") throws -> Int {
        let l = layer < 0 ? layers + layer : layer
        guard l >= 0, l < layers else { throw SessionError.layerOutOfRange(option: option, layer: layer, layers: layers) }
        return l
    }
}

/// What a forward pass returned.
public enum ForwardOutput: Sendable {
    case vision(VisionOutput)
    case text(TextOutput)
    /// A saved stack was replayed; there are no model outputs.
    case replayed
}

/// A request the session's model cannot serve.
public enum SessionError: Error, CustomStringConvertible, Equatable {
    case needsImageModel(model: String)
    case needsTextModel(model: String)
    case layerOutOfRange(option: String, layer: Int, layers: Int)
    /// An analysis delivered nothing (its layers were never observed).
    case noResult(analysis: String, layer: Int?)
    /// Gradients were asked of a saved attention stack, which has no model to differentiate.
    case needsGradients(input: String)

    public var description: String {
        switch self {
        case .needsImageModel(let m): return "\(m): this is a text model; an image model is needed for images"
        case .needsTextModel(let m): return "\(m): --text needs a text model (BERT family); this is an image model"
        case .layerOutOfRange(let o, let l, let n):
            return "\(o) \(l) is out of range: the model has \(n) layers (0...\(n - 1), or -1 for the last)"
        case .needsGradients(let i): return "\(i): saved attention arrays have no gradients; explanations need --model and an IMAGE or --text"
        case .noResult(let a, let l):
            return "\(a) produced no result" + (l.map { " (no attention was delivered for layer \($0))" } ?? "")
        }
    }
}

/// Where a result came from, as written into every metadata file (snake_case JSON keys; absent
/// fields are left out).
public struct Provenance: Codable, Sendable, Equatable {
    public var vitlensVersion = ViTLensVersion.current
    /// The model as given (folder, file or Hub id).
    public var model: String?
    public var modelDirectory: String?
    /// The weights file's name.
    public var weights: String?
    public var modelType: String?
    public var attentionsFile: String?
    public var textTokens: Int?
    public var textUntruncatedTokens: Int?
    public var textTruncated: Bool?
    /// `--size` as `[height, width]`.
    public var requestedSize: [Int]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case vitlensVersion = "vitlens_version", model, modelDirectory = "model_directory", weights, modelType = "model_type"
        case attentionsFile = "attentions_file", textTokens = "text_tokens", textUntruncatedTokens = "text_untruncated_tokens"
        case textTruncated = "text_truncated", requestedSize = "requested_size"
    }
}

/// A token layout as metadata files record it: `prefix`, `tokens`, and `grid` (`rows`, `columns`,
/// `patchSize`) for images or `textTokens` for text, and `poolingHeadLayer` for SigLIP.
public struct LayoutRecord: Codable, Sendable, Equatable {
    public var prefix: [String]
    public var tokens: Int
    public var grid: PatchGrid?
    public var textTokens: Int?
    /// The layer that holds the attention pooling head's probe (SigLIP), absent for other models.
    public var poolingHeadLayer: Int?

    public init(_ layout: TokenLayout) {
        prefix = layout.prefix.map(\.rawValue)
        tokens = layout.tokenCount
        grid = layout.grid
        textTokens = layout.grid == nil ? layout.textTokens : nil
        poolingHeadLayer = layout.poolingHeadLayer
    }
}
