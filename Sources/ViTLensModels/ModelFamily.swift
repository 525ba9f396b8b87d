import Foundation
import ViTLensCheckpoint

/// One architecture ViTLens loads from Hugging Face folders: the `model_type`s it answers, where
/// its weights live, its typed config and how it builds the model. Adding a family is one file
/// conforming to this protocol plus one entry in ``ModelFamilies/all``.
protocol ModelFamily {
    /// The typed `config.json`, decoded with `JSONDecoder` (errors are ``ModelError``s).
    associatedtype Config: Decodable

    /// The `model_type` values this family loads.
    static var modelTypes: [String] { get }

    /// Related `model_type` values the family recognises only to refuse them with a precise reason
    /// (its config decoding throws); not listed as supported. Defaults to none.
    static var refusedModelTypes: [String] { get }

    /// The prefix of the backbone's weights in task checkpoints (e.g. `vit.`); `WeightStore` also
    /// finds them at the root, as in base-model checkpoints. Defaults to `"<model_type>."`.
    static func keyPrefix(for modelType: String) -> String

    /// Builds the model from `config`, taking every weight it needs from `store`; weights the
    /// checkpoint may carry but the model never uses are ignored here.
    static func load(_ store: WeightStore, config: Config, modelType: String) throws -> LoadedModel
}

extension ModelFamily {
    static func keyPrefix(for modelType: String) -> String { "\(modelType)." }
    static var refusedModelTypes: [String] { [] }

    /// Decodes `config.json` as ``Config`` and loads the model.
    static func load(configData: ConfigData, archive: any TensorSource, modelType: String) throws
        -> (model: LoadedModel, weights: WeightStore)
    {
        let config = try ConfigFile.decode(Config.self, from: configData.bytes, file: configData.file, modelType: modelType)
        let store = WeightStore(archive: archive, basePrefix: keyPrefix(for: modelType))
        return (try load(store, config: config, modelType: modelType), store)
    }
}

/// The bytes of a `config.json` and its path.
struct ConfigData {
    let bytes: Data
    let file: String
}

/// The registry of families: the one list the loader dispatches on and
/// ``ModelLoader/supportedModelTypes`` is derived from.
enum ModelFamilies {
    static let all: [any ModelFamily.Type] = [
        ViTFamily.self, DeiTFamily.self, DINOv2Family.self, CLIPVisionFamily.self, BERTFamily.self,
        SigLIPVisionFamily.self,
    ]

    /// The family that loads `modelType` (or refuses it with a reason), if any.
    static func family(for modelType: String) -> (any ModelFamily.Type)? {
        all.first { $0.modelTypes.contains(modelType) || $0.refusedModelTypes.contains(modelType) }
    }
}
