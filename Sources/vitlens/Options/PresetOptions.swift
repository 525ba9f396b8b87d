import ArgumentParser
import Foundation
import ViTLens

/// `--arch`, `--patch`, `--heads`: a weights file without config.json (``DINOPreset``).
struct ArchitectureOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Read the model file as an original DINO checkpoint without config.json: vit_small (384 wide, 6 heads), vit_base (768, 12), both 12 layers at 224 px, or custom (sizes from the weights; needs --heads). Shapes are checked against the weights.",
        valueName: "vit_small|vit_base|custom"))
    var arch: String?

    @Option(help: ArgumentHelp("With --arch: the patch size (8 or 16; for custom, checked against the weights).", valueName: "8|16"))
    var patch: Int?

    @Option(help: ArgumentHelp("With --arch custom: the number of attention heads.", valueName: "n"))
    var heads: Int?

    func validate() throws {
        if arch == nil, patch != nil || heads != nil { throw ValidationError("--patch and --heads go with --arch") }
        if let arch, DINOPreset.Architecture(rawValue: arch) == nil {
            throw ValidationError("--arch must be one of \(DINOPreset.Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        _ = try preset()
    }

    /// The preset the flags name, or `nil` without `--arch`.
    func preset() throws -> DINOPreset? {
        guard let arch, let a = DINOPreset.Architecture(rawValue: arch) else { return nil }
        do { return try DINOPreset(architecture: a, patchSize: patch, heads: heads) } catch { throw ValidationError("\(error)") }
    }
}

/// `--preprocess`, `--image-size`: DINO's visualisation preprocessing instead of the model's.
struct PreprocessOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Image preprocessing: model (the model's processor) or dino-vis (DINO's visualize_attention.py: bilinear resize to --image-size, ImageNet normalisation, top-left crop to a multiple of the patch size).",
        valueName: "model|dino-vis"))
    var preprocess: String = "model"

    @Option(help: ArgumentHelp("With --preprocess dino-vis: N (the shorter side, as DINO's --image_size N) or HxW (exact; DINO's default is 480x480).",
                               valueName: "N|HxW"))
    var imageSize: String?

    func validate() throws { _ = try preprocessing() }

    /// The preprocessing the flags name.
    func preprocessing() throws -> Preprocessing {
        switch preprocess {
        case "model":
            if imageSize != nil { throw ValidationError("--image-size goes with --preprocess dino-vis") }
            return .model
        case "dino-vis":
            guard let imageSize else { return .dinoVisualization(.exact(height: 480, width: 480)) }
            if let n = Int(imageSize) {
                guard n > 0, n <= Limits.maxInputSide else { throw ValidationError("--image-size must be from 1 to \(Limits.maxInputSide)") }
                return .dinoVisualization(.shortestEdge(n))
            }
            let size = try SizeOption.parse(imageSize)
            return .dinoVisualization(.exact(height: size.height, width: size.width))
        default:
            throw ValidationError("--preprocess must be model or dino-vis")
        }
    }
}
