import Foundation
import ViTLens

/// What a report says about a model: family, shape, token layout and the exact weights file.
public struct ModelCard: Sendable, Equatable {
    /// `image` or `text`.
    public var kind: String
    /// The model as given (folder, file or Hub id).
    public var model: String
    /// The Hugging Face `model_type` (the family).
    public var modelType: String
    /// Encoder layers.
    public var layers: Int
    /// Heads per layer.
    public var heads: Int
    /// Hidden width.
    public var hidden: Int
    /// Patch side in pixels (image models).
    public var patchSize: Int?
    /// The input side the position table was trained for (`image_size`, image models).
    public var imageSize: Int?
    /// Prefix tokens before the patches (`cls`, `distillation`, `register`), image models.
    public var prefix: [String]?
    /// Classes of the classifier (`id2label` entries); 0 when there is none or it has no names.
    public var classes: Int
    /// The longest sentence in tokens (text models).
    public var maxTokens: Int?
    /// The weights file's name.
    public var weightsFile: String
    /// The SHA-256 of the weights file, 64 hex digits.
    public var weightsSHA256: String
    /// The ViTLens version that built the report.
    public var vitlensVersion = ViTLensVersion.current

    /// The card of `session`'s model, hashing its weights file.
    /// - Throws: `CheckpointError` naming the weights file when it cannot be read; a session without a
    ///   model gives ``SessionError/noResult(analysis:layer:)``.
    public init(_ session: AnalysisSession) throws {
        guard let files = session.files else { throw SessionError.noResult(analysis: "model card (no model loaded)", layer: nil) }
        model = session.modelSpec ?? files.directory.path
        weightsFile = files.weights.lastPathComponent
        weightsSHA256 = try FileDigest.sha256(of: files.weights)
        if let vision = session.vision {
            let m = vision.model
            kind = "image"
            modelType = m.modelType
            (layers, heads, hidden) = (m.spec.layers, m.spec.heads, m.spec.hidden)
            patchSize = m.patchSize
            imageSize = m.imageSize
            prefix = m.layout(height: m.imageSize, width: m.imageSize).prefix.map(\.rawValue)
            classes = m.labels.count
        } else if let text = session.text {
            let m = text.model
            kind = "text"
            modelType = m.modelType
            (layers, heads, hidden) = (m.spec.layers, m.spec.heads, m.spec.hidden)
            maxTokens = text.maximumTokens.tokens
            classes = 0
        } else {
            throw SessionError.noResult(analysis: "model card (no model loaded)", layer: nil)
        }
    }
}
