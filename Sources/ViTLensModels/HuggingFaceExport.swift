import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// A checkpoint ViTLens loads, seen as the Hugging Face folder it corresponds to: the
/// `config.json` transformers reads and the tensors under Hub key names. What `vitlens convert` writes.
///
/// A Hugging Face config passes through unchanged with its tensors' names. A timm config becomes
/// the config transformers' own timm converter writes for the family (`model_type` `vit` or `deit`,
/// timm's layer-norm eps of 1e-6 and exact GELU, `id2label`/`label2id` from `label_names`), with
/// `architectures` `ViTForImageClassification` / `DeiTForImageClassificationWithTeacher` and the
/// backbone under `vit.` / `deit.` when the checkpoint has a head, else `ViTModel` / `DeiTModel`
/// and no prefix. Position-id buffers are dropped.
public struct HuggingFaceExport {
    /// The `model_type` written.
    public let modelType: String
    /// The `config.json` to write.
    package let config: JSONValue
    /// Whether the source was a timm checkpoint (renamed and re-configured) rather than a Hugging Face one.
    public let fromTimm: Bool
    /// Output tensor names, sorted.
    public let tensorNames: [String]
    /// The checkpoint, under Hub names.
    private let source: any TensorSource
    /// Output name -> name in ``source``.
    private let sourceName: [String: String]

    /// Reads the config and weights of `files` (the weights are not loaded yet).
    /// - Throws: ``ModelError`` or `CheckpointError` naming the file, as ``ModelLoader/load(_:)``.
    public init(_ files: ModelFiles) throws {
        let (config, type, archive, timm) = try ModelLoader.checkpoint(files)
        fromTimm = timm
        modelType = type
        source = archive
        var json: JSONValue
        do { json = try JSONReader.parse([UInt8](config.bytes)) } catch {
            throw ModelError.configInvalid(file: config.file, reason: "not valid JSON: \(error)")
        }
        var names: [String: String] = [:]
        let kept = archive.names.filter { !$0.hasSuffix(".position_ids") }
        if fromTimm {
            let heads = ["classifier.", "cls_classifier.", "distillation_classifier."]
            let hasHead = kept.contains { name in heads.contains { name.hasPrefix($0) } }
            for name in kept {
                let isHead = heads.contains { name.hasPrefix($0) }
                names[hasHead && !isHead ? "\(type).\(name)" : name] = name
            }
            json = Self.timmConfig(json, modelType: type, hasHead: hasHead)
        } else {
            for name in kept { names[name] = name }
        }
        self.config = json
        sourceName = names
        tensorNames = names.keys.sorted()
    }

    /// The Hugging Face fields transformers' converters add to the sizes ``TimmConfig`` read.
    private static func timmConfig(_ base: JSONValue, modelType: String, hasHead: Bool) -> JSONValue {
        var members = base.members ?? []
        let architecture: String
        switch (modelType, hasHead) {
        case ("deit", true): architecture = "DeiTForImageClassificationWithTeacher"
        case ("deit", false): architecture = "DeiTModel"
        case (_, true): architecture = "ViTForImageClassification"
        default: architecture = "ViTModel"
        }
        members += [("architectures", .array([.string(architecture)])), ("hidden_dropout_prob", .float(0)),
                    ("attention_probs_dropout_prob", .float(0)), ("initializer_range", .float(0.02)),
                    ("encoder_stride", base["patch_size"] ?? .integer(16)), ("dtype", .string("float32"))]
        if let labels = base["id2label"]?.members {
            members += [("label2id", .object(labels.compactMap { entry in
                entry.value.string.flatMap { label in Int(entry.key).map { (key: label, value: JSONValue.integer($0)) } }
            }))]
        }
        return .object(members)
    }

    /// The shape of output tensor `name`.
    public func shape(of name: String) -> [Int]? { sourceName[name].flatMap { source.shape(of: $0) } }

    /// Output tensor `name` as float32 (float16, bfloat16 and float64 sources are converted).
    /// - Throws: `CheckpointError` naming the file for a weight that cannot be read.
    public func tensor(_ name: String) throws -> Tensor {
        guard let from = sourceName[name], let shape = source.shape(of: from) else {
            throw CheckpointError.missingWeight(key: name, file: source.description)
        }
        return Tensor(shape: shape, values: try source.floats(from))
    }

    /// Bytes of all output tensors as float32 (saturating).
    public var float32Bytes: Int {
        tensorNames.reduce(0) { total, name in
            Limits.sum(total, Limits.product([4] + (shape(of: name) ?? [])) ?? .max) ?? .max
        }
    }
}
