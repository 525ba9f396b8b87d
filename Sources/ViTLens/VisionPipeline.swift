import Foundation

/// An input that failed, named by its file: `photo.jpg: input 8x8 is smaller than one 16x16 patch`.
public struct InputError: Error, CustomStringConvertible {
    /// The file (or other input) at fault.
    public var file: String
    /// What is wrong with it.
    public var problem: String
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }
    public var description: String { "\(file): \(problem)" }
}

/// An image ready for the model: the decoded original, the resized/cropped uint8 image the model
/// sees, and its normalised pixel values.
public struct PreparedImage: Sendable {
    /// Where the image came from.
    public var file: String
    /// The decoded image (RGB8, as Pillow's `convert("RGB")`).
    public var original: RGBImage
    /// The model's input image after resize and crop (uint8), the canvas for overlays.
    public var prepared: RGBImage
    /// `pixel_values` `[3, H, W]`.
    public var pixels: Tensor
}

/// An image model with its Hugging Face image processor: load once, then prepare and run images.
public final class VisionPipeline: @unchecked Sendable {
    /// Where the model came from.
    public let files: ModelFiles
    /// The model.
    public let model: VisionTransformer
    /// The preprocessing from `preprocessor_config.json` (or a timm `pretrained_cfg`).
    public let processor: ImageProcessor

    /// Loads the model and its processor from resolved model files.
    /// - Throws: `CheckpointError`/`ImageError` naming the file at fault; an image model is required.
    public convenience init(files: ModelFiles) throws {
        try self.init(files: files, model: try ModelLoader.loadVision(files))
    }

    /// Wraps an already loaded image model with the processor from `files`.
    /// Without `preprocessor_config.json`, a timm `config.json`'s `pretrained_cfg` gives the processor
    /// (timm's eval transform, ``TimmDataConfig``).
    /// - Throws: `CheckpointError.fileNotFound` when `preprocessor_config.json` is missing (and no
    ///   `pretrained_cfg` stands in); `ImageError` for a
    ///   bad one; `ModelError.configInvalid` for a model that does not take 3-channel images.
    /// - Parameter preprocessing: ``Preprocessing/model`` (the files' processor) or another one.
    public init(files: ModelFiles, model: VisionTransformer, preprocessing: Preprocessing = .model) throws {
        self.files = files
        self.model = model
        if case .dinoVisualization(let size) = preprocessing {
            processor = ImageProcessor(config: .dinoVisualization(size: size, patchSize: model.patchSize))
        } else if let pp = files.preprocessorConfig {
            processor = try ImageProcessor(contentsOf: pp)
        } else if let timm = try Self.timmProcessor(files) {
            processor = timm
        } else {
            throw CheckpointError.fileNotFound(file: files.directory.appendingPathComponent("preprocessor_config.json").path)
        }
        // Images are decoded to RGB; a model for another channel count is refused here, naming
        // config.json, rather than failing on each photo.
        guard model.channels == 3 else {
            throw ModelError.configInvalid(file: files.config.path,
                                                reason: "num_channels is \(model.channels); ViTLens feeds RGB images (3 channels)")
        }
    }

    /// timm's eval transform from `config.json`'s `pretrained_cfg` (``TimmDataConfig``), for a timm
    /// folder without `preprocessor_config.json`; `nil` when the config has no `pretrained_cfg`.
    private static func timmProcessor(_ files: ModelFiles) throws -> ImageProcessor? {
        let file = files.config.path
        let data = try files.readConfig()
        return try TimmDataConfig.read(configJSON: data, file: file).map { ImageProcessor(config: $0.processorConfig) }
    }

    /// Resolves `spec` (folder, file or Hub id) and loads it.
    public convenience init(model spec: String) throws {
        try self.init(files: try ModelLocator.resolve(spec))
    }

    /// Decodes and preprocesses `url`.
    ///
    /// Without `size` the processor config decides (resize, crop); with `size` the image is resized
    /// straight to `height x width` with the processor's filter and no crop.
    /// - Throws: `ImageError` or ``InputError`` naming the file.
    public func prepare(_ url: URL, size: (height: Int, width: Int)? = nil) throws -> PreparedImage {
        let image = try ImageIO.load(url)
        return try prepare(image, file: url.path, size: size)
    }

    /// Preprocesses an already decoded image; `file` names it in errors.
    /// - Throws: ``InputError`` naming `file` when the image itself gives too few pixels;
    ///   `ModelError.configInvalid` naming `preprocessor_config.json` when its resize or crop
    ///   makes every image smaller than one patch (the config is at fault, not the photo).
    public func prepare(_ image: RGBImage, file: String, size: (height: Int, width: Int)? = nil) throws -> PreparedImage {
        if let size, size.height < model.patchSize || size.width < model.patchSize {
            throw InputError(file: file, problem: ModelInputError.tooSmall(height: size.height, width: size.width, patchSize: model.patchSize).description)
        }
        if size == nil, let reason = processorShrinksBelowOnePatch() {
            let config = files.preprocessorConfig ?? files.directory.appendingPathComponent("preprocessor_config.json")
            throw ModelError.configInvalid(file: config.path, reason: reason)
        }
        let target = processor.outputSize(height: image.height, width: image.width, size: size)
        guard target.height <= Limits.maxInputSide, target.width <= Limits.maxInputSide else {
            let how = size == nil ? "the image processor would make it" : "--size asks for"
            throw InputError(file: file, problem: "\(how) \(target.height)x\(target.width) pixels, above ViTLens's limit of \(Limits.maxInputSide) per side")
        }
        do {
            // Before resizing: the forward alone (no analysis yet) must fit; `run` checks again with the observers.
            try model.memoryEstimate(height: target.height, width: target.width, observer: NoObserver()).check()
        } catch let e as MemoryLimitError {
            throw InputError(file: file, problem: e.description)
        }
        let prepared = processor.prepare(image, size: size)
        guard prepared.height >= model.patchSize, prepared.width >= model.patchSize else {
            throw InputError(file: file, problem: ModelInputError.tooSmall(height: prepared.height, width: prepared.width, patchSize: model.patchSize).description)
        }
        return PreparedImage(file: file, original: image, prepared: prepared, pixels: processor.normalize(prepared))
    }

    /// Why the processor turns every image, however large, into one smaller than a patch, or `nil`.
    ///
    /// The probe is a large square image: the processor's fixed `size` (or `shortest_edge`) and
    /// `crop_size` decide its output alone. Only `shortest_edge` + `longest_edge` can still make a
    /// very elongated photo too thin, and that is the photo's fault.
    private func processorShrinksBelowOnePatch() -> String? {
        let config = processor.config
        let probe = 1 << 14
        var (h, w) = (probe, probe)
        var field = ""
        if config.doResize {
            (h, w) = ImageProcessor.resizeTarget(height: probe, width: probe, size: config.size)
            field = "size"
        }
        if config.doCenterCrop {
            (h, w) = (config.cropHeight, config.cropWidth)
            field = "crop_size"
        }
        let p = model.patchSize
        guard h < p || w < p else { return nil }
        return "\(field) makes every image \(h)x\(w), smaller than the model's \(p)x\(p) patch"
    }

    /// Runs the model once on prepared images of one size, image `b` feeding `observers[b]` (see
    /// ``VisionTransformer/forward(batch:observers:)``); outputs in input order.
    /// - Throws: ``InputError`` naming the first image for a bad input or a batch over the memory
    ///   limit (the message says it concerns the batch), and the model's errors.
    public func run<O: AttentionObserver>(batch images: [PreparedImage], observers: inout [O]) throws -> [VisionOutput] {
        let name = images.count > 1 ? "\(images[0].file) (batch of \(images.count))" : images.first?.file ?? "batch"
        do { return try model.forward(batch: images.map(\.pixels), observers: &observers) } catch let e as ModelInputError {
            throw InputError(file: name, problem: e.description)
        } catch let e as MemoryLimitError {
            throw InputError(file: name, problem: e.description)
        }
    }

    /// Runs the model on a prepared image, feeding `observer`.
    public func run<O: AttentionObserver>(_ image: PreparedImage, observer: inout O) throws -> VisionOutput {
        do { return try model.forward(image.pixels, observer: &observer) } catch let e as ModelInputError {
            throw InputError(file: image.file, problem: e.description)
        } catch let e as MemoryLimitError {
            throw InputError(file: image.file, problem: e.description)
        }
    }
}
