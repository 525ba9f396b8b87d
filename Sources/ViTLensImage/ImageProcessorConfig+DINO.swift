extension ImageProcessorConfig {
    /// DINO's `visualize_attention.py` preprocessing: `Resize(image_size)` (Pillow bilinear, as
    /// torchvision's PIL path; one number is the shorter side, `int(n * long / short)` the longer, two
    /// are an exact size), `ToTensor`, `Normalize` with ImageNet mean and std, then the top-left crop
    /// to a multiple of `patchSize`. No centre crop.
    public static func dinoVisualization(size: Size, patchSize: Int) -> ImageProcessorConfig {
        var config = ImageProcessorConfig(processorType: .vit)
        config.size = size
        config.defaultToSquare = false
        config.resample = .bilinear
        config.doCenterCrop = false
        config.imageMean = [0.485, 0.456, 0.406]
        config.imageStd = [0.229, 0.224, 0.225]
        config.cropToMultipleOf = patchSize
        return config
    }
}
