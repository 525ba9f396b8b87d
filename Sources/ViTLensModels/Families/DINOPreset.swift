import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// The original DINO release checkpoints (`dino_deitsmall8_pretrain.pth`, `dino_vitbase16_pretrain.pth`,
/// ..., and the `*_full_checkpoint.pth` training files), which carry timm-style names and no
/// `config.json`: the architecture comes from flags and is checked against the weights.
///
/// | `--arch` | width | depth | heads | patch | image |
/// |---|---|---|---|---|---|
/// | `vit_small` | 384 | 12 | 6 | 8 or 16 | 224 |
/// | `vit_base` | 768 | 12 | 12 | 8 or 16 | 224 |
/// | `custom` | from `cls_token` | from the `blocks.N` count | `--heads` | from `patch_embed.proj` | from `pos_embed` |
///
/// All: layer-norm eps 1e-6, exact GELU, qkv bias as the weights have it, no classifier. The preset
/// stands for a timm `config.json` (``TimmConfig`` then maps the weights) whose `pretrained_cfg` is
/// DINO's evaluation transform (`eval_linear.py`: `Resize(256, bicubic)`, `CenterCrop(224)`,
/// ImageNet mean and std; for `custom`, the same `crop_pct` 0.875 at the checkpoint's image size).
public struct DINOPreset: Sendable, Equatable {
    /// `--arch`.
    public enum Architecture: String, Sendable, CaseIterable {
        case vitSmall = "vit_small"
        case vitBase = "vit_base"
        case custom
    }

    public var architecture: Architecture
    /// `--patch`: 8 or 16 for the named architectures; for `custom`, checked against the weights when given.
    public var patchSize: Int?
    /// `--heads`: required for `custom`, refused otherwise.
    public var heads: Int?

    /// Checks the flags' combination.
    /// - Throws: ``ModelError/presetInvalid(reason:)`` for a named architecture without `--patch 8|16`,
    ///   `custom` without `--heads`, or `--heads` with a named architecture.
    public init(architecture: Architecture, patchSize: Int?, heads: Int?) throws {
        switch architecture {
        case .vitSmall, .vitBase:
            guard let p = patchSize, p == 8 || p == 16 else {
                throw ModelError.presetInvalid(reason: "--arch \(architecture.rawValue) needs --patch 8 or --patch 16")
            }
            guard heads == nil else {
                throw ModelError.presetInvalid(reason: "--heads is only for --arch custom (\(architecture.rawValue) has \(Self.named[architecture]?.heads ?? 0))")
            }
        case .custom:
            guard let h = heads, h > 0 else { throw ModelError.presetInvalid(reason: "--arch custom needs --heads N (the weights do not record it)") }
            if let p = patchSize, p <= 0 { throw ModelError.presetInvalid(reason: "--patch must be positive") }
        }
        self.architecture = architecture
        self.patchSize = patchSize
        self.heads = heads
    }

    /// Width, heads and depth of the named DINO ViTs (DINO's `vit_small` is DeiT-S, `vit_base` ViT-B).
    static let named: [Architecture: (width: Int, heads: Int, depth: Int)] = [
        .vitSmall: (384, 6, 12), .vitBase: (768, 12, 12),
    ]

    /// DINO's pretraining and evaluation image size.
    public static let imageSize = 224

    /// The model files for the checkpoint `weights` read with this preset (no `config.json` needed;
    /// one beside it is not read).
    /// - Throws: ``ModelError/presetMismatch(file:reason:)`` naming the file and the tensor whose
    ///   shape disagrees; reader errors naming the file.
    public func files(weights: URL, stateDictKey: String? = nil) throws -> ModelFiles {
        let source = DINOBackboneStateDict.unwrap(try TensorSources.open(weights, stateDictKey: stateDictKey))
        var files = ModelFiles(weights: weights, configData: try configJSON(for: source, file: weights.path))
        files.stateDictKey = stateDictKey
        return files
    }

    /// The timm `config.json` this preset stands for, after checking `weights` against it.
    func configJSON(for weights: any TensorSource, file: String) throws -> Data {
        let flags = "--arch \(architecture.rawValue)" + (patchSize.map { " --patch \($0)" } ?? "")
        func mismatch(_ reason: String) -> ModelError { .presetMismatch(file: file, reason: "\(flags): \(reason)") }
        func shape(_ key: String) throws -> [Int] {
            guard let s = weights.shape(of: key) else {
                let some = weights.names.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
                throw mismatch("the checkpoint has no '\(key)' (it starts with \(some.isEmpty ? "nothing" : some)): not a DINO ViT state dict")
            }
            return s
        }
        func expect(_ key: String, _ expected: [Int]) throws {
            let s = try shape(key)
            guard s == expected else { throw mismatch("'\(key)' has shape \(s), expected \(expected)") }
        }
        var depth = 0
        while weights.shape(of: "blocks.\(depth).norm1.weight") != nil { depth += 1 }
        let cls = try shape("cls_token")
        let proj = try shape("patch_embed.proj.weight")
        let width: Int, headCount: Int, patch: Int, image: Int
        if let sizes = Self.named[architecture], let p = patchSize {
            (width, headCount, patch, image) = (sizes.width, sizes.heads, p, Self.imageSize)
            try expect("cls_token", [1, 1, width])
            try expect("patch_embed.proj.weight", [width, 3, patch, patch])
            let grid = image / patch
            try expect("pos_embed", [1, 1 + grid * grid, width])
            guard depth == sizes.depth else { throw mismatch("the checkpoint has \(depth) blocks ('blocks.N'), expected \(sizes.depth)") }
        } else {
            guard cls.count == 3, cls[0] == 1, cls[1] == 1, let w = cls.last, w > 0 else { throw mismatch("'cls_token' has shape \(cls), expected [1, 1, width]") }
            guard proj.count == 4, proj[0] == w, proj[2] == proj[3], proj[2] > 0 else {
                throw mismatch("'patch_embed.proj.weight' has shape \(proj), expected [\(w), channels, patch, patch]")
            }
            if let p = patchSize, p != proj[2] { throw mismatch("'patch_embed.proj.weight' has \(proj[2])-pixel patches, not \(p)") }
            let h = heads ?? 1
            guard w % h == 0 else { throw mismatch("'cls_token' is \(w) wide, which --heads \(h) does not divide") }
            let positions = try shape("pos_embed")
            let grid = Int(Double(max(0, (positions.count == 3 ? positions[1] : 0) - 1)).squareRoot())
            guard positions.count == 3, grid > 0, grid * grid + 1 == positions[1], positions[2] == w else {
                throw mismatch("'pos_embed' has shape \(positions), expected [1, 1 + grid x grid, \(w)]")
            }
            guard depth > 0 else { throw mismatch("the checkpoint has no 'blocks.0.norm1.weight'") }
            guard let side = Limits.product(grid, proj[2]) else { throw mismatch("'pos_embed' grid \(grid) is too large") }
            (width, headCount, patch, image) = (w, h, proj[2], side)
        }
        let crop = 0.875
        let config: JSONValue = .object([
            "architecture": .string("\(architecture == .vitBase ? "vit_base" : "vit_small")_patch\(patch)_\(image)"),
            "num_classes": .integer(0), "global_pool": .string("token"),
            "model_args": .object(["embed_dim": .integer(width), "depth": .integer(depth), "num_heads": .integer(headCount),
                                   "img_size": .integer(image)]),
            "pretrained_cfg": .object([
                "tag": .string("dino"), "input_size": .integers([3, image, image]), "interpolation": .string("bicubic"),
                "crop_pct": .float(crop), "crop_mode": .string("center"),
                "mean": .floats([0.485, 0.456, 0.406]), "std": .floats([0.229, 0.224, 0.225]),
            ]),
        ])
        return Data(JSONWriter(pretty: true, sortedKeys: false).text(config).utf8)
    }
}
