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

/// Builds models from Hugging Face folders: reads `config.json`, looks up `model_type` in the
/// family registry, takes every weight by its Hub name, and rejects checkpoints with missing,
/// mis-shaped or unexpected weights (optional ones such as poolers and position-id buffers excepted).
public enum ModelLoader {
    /// The `model_type` values ViTLens can load.
    public static let supportedModelTypes = ["vit", "deit", "dinov2", "dinov2_with_registers", "clip_vision_model", "clip", "bert"]

    /// Loads the model in `files`.
    /// - Throws: `CheckpointError` naming the file and the key or field at fault.
    public static func load(_ files: ModelFiles) throws -> LoadedModel {
        let config = try ConfigReader(contentsOf: files.config)
        let type = try config.string("model_type")
        let archive = try SafeTensorsArchive(url: files.weights)
        func store(_ prefix: String) -> WeightStore { WeightStore(archive: archive, basePrefix: prefix) }
        let model: LoadedModel
        let weights: WeightStore
        switch type {
        case "vit":
            weights = store("vit.")
            model = .vision(try ViTFamily.load(weights, config: config))
        case "deit":
            weights = store("deit.")
            model = .vision(try DeiTFamily.load(weights, config: config))
        case "dinov2":
            weights = store("dinov2.")
            model = .vision(try DINOv2Family.load(weights, config: config, registers: false))
        case "dinov2_with_registers":
            weights = store("dinov2_with_registers.")
            model = .vision(try DINOv2Family.load(weights, config: config, registers: true))
        case "clip_vision_model":
            weights = store("vision_model.")
            model = .vision(try CLIPVisionFamily.load(weights, config: config, modelType: type))
        case "clip":
            guard let vision = try config.nested("vision_config") else {
                throw CheckpointError.configMissingField(file: config.file, field: "vision_config")
            }
            weights = store("vision_model.")
            weights.ignore(where: { $0.hasPrefix("text_model.") || $0.hasPrefix("text_projection") || $0.hasPrefix("visual_projection") || $0 == "logit_scale" })
            model = .vision(try CLIPVisionFamily.load(weights, config: vision, modelType: type))
        case "bert":
            weights = store("bert.")
            model = .text(try BERTFamily.load(weights, config: config))
        default:
            throw CheckpointError.unknownModelType(file: config.file, type: type)
        }
        // Buffers and heads a checkpoint may or may not carry, which no forward pass here uses.
        weights.ignore(where: { $0.hasSuffix(".position_ids") || $0.hasPrefix("pooler.") || $0.contains(".pooler.") })
        try weights.finish()
        return model
    }

    /// Loads a model that must be an image model.
    /// - Throws: `CheckpointError.configInvalid` when the folder holds a text model.
    public static func loadVision(_ files: ModelFiles) throws -> VisionTransformer {
        guard case .vision(let m) = try load(files) else {
            throw CheckpointError.configInvalid(file: files.config.path, reason: "this is a text model; an image model is needed here")
        }
        return m
    }
}
