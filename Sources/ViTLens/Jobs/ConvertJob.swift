import Foundation

/// Writes any image checkpoint ViTLens loads as a Hugging Face folder: what `vitlens convert` does.
///
/// The source is anything ``ModelLocator`` resolves: a Hugging Face folder, a `.safetensors` file or
/// a `torch.save` state dict (`.pth`, `.bin`, `.pt`, `.ckpt`) beside a Hugging Face or timm
/// `config.json`, or a Hub id. The folder gets:
/// - `config.json`: the source's Hugging Face config unchanged, or for timm the one
///   ``HuggingFaceExport`` builds (`vit`/`deit`, eps 1e-6, `architectures`, labels);
/// - `model.safetensors`: every tensor as float32 under its Hub name (timm names renamed, the fused
///   `qkv` split into query, key and value);
/// - `preprocessor_config.json`: the source's own, copied, or the fields that reproduce timm's eval
///   transform from `pretrained_cfg` (``TimmDataConfig``); where transformers cannot express it
///   exactly, the report's ``ConvertReport/notes`` say how it differs.
///
/// The model is loaded first, so a checkpoint that would not load is refused before anything is
/// written. The folder follows ``OutputFolder``'s rules: files ViTLens did not write are never
/// replaced, and the folder appears complete or not at all (staged beside it, swapped in at the end).
public struct ConvertJob: Sendable {
    /// The model to convert (path or Hub id).
    public var model: String
    /// For a `torch.save` file with several state dicts, the one to convert (`teacher`, `model`, ...).
    public var stateDictKey: String?
    /// The architecture of a weights file without `config.json` (a DINO release file).
    public var preset: DINOPreset?

    public init(model: String, stateDictKey: String? = nil, preset: DINOPreset? = nil) {
        self.model = model
        self.stateDictKey = stateDictKey
        self.preset = preset
    }

    /// Converts into the folder `out`; `arguments` (the command line) go into its manifest.
    /// - Throws: `CheckpointError`, `ModelError`, `ImageError` naming the source file at fault;
    ///   ``OutputFolderError`` for an output folder ViTLens will not write into; ``InputError`` when
    ///   the conversion would need more memory than ``MemoryBudget/limit``.
    public func run(into out: String, arguments: [String] = []) throws -> ConvertReport {
        var files: ModelFiles
        if let preset {
            files = try preset.files(weights: try ModelLocator.weightsFile(model), stateDictKey: stateDictKey)
        } else {
            files = try ModelLocator.resolve(model)
            files.stateDictKey = stateDictKey
        }
        let folder = try OutputFolder(out, command: "convert", replacement: .everything,
                                      inputs: [files.config.path, files.weights.path], arguments: arguments)
        // Load (and drop) the model and its processor: the checkpoint must be one ViTLens runs.
        let processor = try VisionPipeline(files: files).processor.config
        let export = try HuggingFaceExport(files)
        let bytes = export.float32Bytes
        let needed = Limits.sum(bytes, bytes, MemoryEstimate.baseline) ?? .max
        guard needed <= MemoryBudget.limit else {
            throw InputError(file: files.weights.path, problem: "converting needs about \(MemoryBudget.describe(needed)) "
                + "(two float32 copies of the weights), above the limit of \(MemoryBudget.describe(MemoryBudget.limit)) (--max-memory)")
        }
        var tensors: [String: Tensor] = [:]
        for name in export.tensorNames { tensors[name] = try export.tensor(name) }
        let metadata = ["format": "pt", "source": "vitlens convert", "source_file": files.weights.lastPathComponent]
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: try folder.stagingURL(for: "model.safetensors"))
        try folder.adopt("model.safetensors")
        tensors = [:]

        let writer = JSONWriter(pretty: true, sortedKeys: true)
        try folder.write(export.fromTimm ? Data(writer.text(export.config).utf8) : try Self.read(files.config), "config.json")
        var notes: [String] = []
        if let pp = files.preprocessorConfig {
            try folder.write(try Self.read(pp), "preprocessor_config.json")
        } else {
            try folder.write(Data(writer.text(processor.jsonValue).utf8), "preprocessor_config.json")
            if let caveat = processor.huggingFaceCaveat { notes.append("preprocessor_config.json: \(caveat)") }
        }
        try folder.commit()
        return ConvertReport(source: files.weights.path, fromTimm: export.fromTimm, modelType: export.modelType,
                             architecture: export.config["architectures"]?.array?.first?.string,
                             tensors: export.tensorNames.count, bytes: bytes,
                             processorType: processor.processorType.rawValue, directory: folder.url.path,
                             files: folder.written, notes: notes)
    }

    /// A source file copied as it is.
    private static func read(_ url: URL) throws -> Data {
        do { return try UserFile.read(url.path) } catch { throw CheckpointError.file(url.path, error) }
    }
}

/// What ``ConvertJob`` wrote.
public struct ConvertReport: Sendable, Equatable {
    /// The weights file converted.
    public var source: String
    /// Whether it was a timm checkpoint (renamed).
    public var fromTimm: Bool
    /// `model_type` and `architectures[0]` of the written config.
    public var modelType: String, architecture: String?
    /// Tensors written and their float32 bytes.
    public var tensors: Int, bytes: Int
    /// The image processor type of `preprocessor_config.json`.
    public var processorType: String
    /// The output folder and its files.
    public var directory: String, files: [String]
    /// Where the written folder does not reproduce the source exactly (one line each).
    public var notes: [String]

    /// The lines `vitlens convert` prints.
    public var summary: [String] {
        let kind = fromTimm ? "timm" : "Hugging Face"
        return ["converted \(source) (\(kind)) to model_type \(modelType)\(architecture.map { " (\($0))" } ?? ""): "
                    + "\(tensors) tensors, \(MemoryBudget.describe(bytes)) float32, \(processorType)",
                "wrote \(files.count) files to \(directory): \(files.joined(separator: ", "))"]
    }
}
