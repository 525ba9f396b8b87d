import ViTLensCheckpoint
import ViTLensCore

/// Placeholder until the BERT family lands.
enum BERTFamily {
    static func load(_ store: WeightStore, config c: ConfigReader) throws -> TextTransformer {
        throw CheckpointError.unknownModelType(file: c.file, type: "bert")
    }
}
public final class TextTransformer: @unchecked Sendable {
    public let modelType = "bert"
}
