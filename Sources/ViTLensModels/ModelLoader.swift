import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// A loaded model of any supported family.
public enum LoadedModel: Sendable {
    /// An image model (ViT, DeiT, DINO, DINOv2, CLIP vision).
    case vision(VisionTransformer)
    /// A text encoder (BERT family).
    case text(TextTransformer)

    /// The Hugging Face `model_type` it was loaded as.
    public var modelType: String {
        switch self {
        case .vision(let m): return m.modelType
        case .text(let m): return m.modelType
        }
    }
}

/// Builds models from Hugging Face folders (weights in safetensors or a `torch.save` state dict):
/// reads `config.json`, looks up `model_type` in the family registry, takes every weight by its Hub
/// name, and rejects checkpoints with missing, mis-shaped or unexpected weights (optional ones such
/// as poolers and position-id buffers excepted). A timm `config.json` (`architecture`, no
/// `model_type`) with timm-named ViT/DeiT/DINO weights is mapped first (``TimmConfig``).
public enum ModelLoader {
    /// The `model_type` values ViTLens can load, in registry order.
    public static var supportedModelTypes: [String] { ModelFamilies.all.flatMap { $0.modelTypes } }

    /// The `model_type` field, read before the family's own config.
    private struct ModelType: Decodable {
        let value: String
        enum CodingKeys: String, CodingKey { case modelType = "model_type" }
        init(from decoder: any Decoder) throws {
            value = try ConfigFields(decoder, CodingKeys.self).string(.modelType)
        }
    }

    /// Loads the model in `files`.
    /// - Throws: ``ModelError`` for a config problem, `CheckpointError` for a weight problem, each
    ///   naming the file and the key or field at fault.
    public static func load(_ files: ModelFiles) throws -> LoadedModel {
        let (config, type, archive, _) = try checkpoint(files)
        guard let family = ModelFamilies.family(for: type) else {
            throw ModelError.unknownModelType(file: config.file, type: type)
        }
        let (model, weights) = try family.load(configData: config, archive: archive, modelType: type)
        // Buffers and heads a checkpoint may or may not carry, which no forward pass here uses.
        weights.ignore(where: { $0.hasSuffix(".position_ids") || $0.hasPrefix("pooler.") || $0.contains(".pooler.") })
        try weights.finish()
        return model
    }

    /// The config (mapped to Hugging Face's for a timm one), its `model_type`, the weights under
    /// Hub names before any family reads them, and whether the files were timm's.
    static func checkpoint(_ files: ModelFiles) throws -> (config: ConfigData, type: String, archive: any TensorSource, timm: Bool) {
        let config = ConfigData(bytes: try files.readConfig(), file: files.config.path)
        if try TimmConfig.isTimm(config) {
            let weights = DINOBackboneStateDict.unwrap(try TensorSources.open(files.weights, stateDictKey: files.stateDictKey))
            let timm = try TimmConfig(config, weights: weights)
            return (timm.config, timm.modelType, timm.source, true)
        }
        let type = try ConfigFile.decode(ModelType.self, from: config.bytes, file: config.file).value
        return (config, type, try TensorSources.open(files.weights, stateDictKey: files.stateDictKey), false)
    }

    /// Loads a model that must be an image model.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` when the folder holds a text model.
    public static func loadVision(_ files: ModelFiles) throws -> VisionTransformer {
        guard case .vision(let m) = try load(files) else {
            throw ModelError.configInvalid(file: files.config.path, reason: "this is a text model; an image model is needed here")
        }
        return m
    }
}
