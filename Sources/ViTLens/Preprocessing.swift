/// How a ``VisionPipeline`` prepares images.
public enum Preprocessing: Sendable, Equatable {
    /// The model's own processor: `preprocessor_config.json`, else a timm `pretrained_cfg`.
    case model
    /// DINO's `visualize_attention.py` (``ImageProcessorConfig/dinoVisualization(size:patchSize:)``):
    /// resize to `size` (bilinear, no centre crop), ImageNet normalisation, top-left crop to a
    /// multiple of the model's patch size.
    case dinoVisualization(ImageProcessorConfig.Size)
}
