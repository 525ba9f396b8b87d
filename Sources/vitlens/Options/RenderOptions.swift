import ArgumentParser
import ViTLens

extension Colormap: ExpressibleByArgument {}
extension Upsampling: ExpressibleByArgument {}

extension MapNormalization: ExpressibleByArgument {
    /// `max`, `minmax` or `pNN` (clip at the NN-th percentile, 0 < NN <= 100).
    public init?(argument: String) {
        switch argument {
        case "max": self = .max
        case "minmax": self = .minMax
        default:
            guard argument.hasPrefix("p"), let p = Float(argument.dropFirst()), p > 0, p <= 100 else { return nil }
            self = .percentile(p)
        }
    }

    public static var allValueStrings: [String] { ["max", "minmax", "pNN"] }
    public var defaultValueDescription: String { "max" }
}

extension HeadFusion: ExpressibleByArgument {
    /// `mean`, `max`, `min`, `std` or `headN` (one head, zero-based).
    public init?(argument: String) {
        switch argument {
        case "mean": self = .mean
        case "max": self = .max
        case "min": self = .min
        case "std": self = .std
        default:
            guard argument.hasPrefix("head"), let h = Int(argument.dropFirst(4).drop(while: { $0 == ":" || $0 == "=" })), h >= 0 else { return nil }
            self = .head(h)
        }
    }

    public static var allValueStrings: [String] { ["mean", "max", "min", "std", "headN"] }
    public var defaultValueDescription: String { description }
}

/// How maps become pictures (the library's ``RenderStyle``).
struct RenderOptions: ParsableArguments {
    @Option(help: "Colormap.")
    var colormap: Colormap = .viridis

    @Option(help: "Map scaling for display: divide by the max, minmax, or pNN (clip at the NN-th percentile). Saved .npy values are never rescaled.")
    var normalize: MapNormalization = .max

    @Option(help: "Upsampling to image size: nearest (patch-faithful, as DINO) or bilinear.")
    var upsample: Upsampling = .nearest

    @Option(help: "Overlay weight of the heatmap over the photo, in [0, 1].")
    var alpha: Float = 0.5

    func validate() throws {
        guard (0 ... 1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1]") }
    }

    var style: RenderStyle { RenderStyle(colormap: colormap, normalization: normalize, upsampling: upsample, alpha: alpha) }
}
