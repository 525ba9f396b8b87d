import Foundation
import ViTLensCheckpoint

/// timm's Hub `config.json` for a ViT (`architecture`, `num_classes`, `global_pool`, `model_args`,
/// `label_names`; `pretrained_cfg` is not read here), turned into the Hugging Face ViT or DeiT
/// config the families load, with the sizes taken from the weights.
///
/// The architecture name (`vit_small_patch16_224`, `deit_tiny_distilled_patch16_224`, `.tag`
/// suffix ignored) gives the family, the width and the number of heads (tiny 192/3, small 384/6,
/// base 768/12, large 1024/16, huge 1280/16) and the patch; `model_args` (`embed_dim`, `depth`,
/// `num_heads`, `img_size`) overrides the table for non-standard sizes. Width, depth, patch, MLP
/// width, image size (from `pos_embed`) and the qkv bias are read from the weights and must agree
/// with the name and `model_args`. Layer norms use timm's eps of 1e-6, GELU is exact. Other timm
/// ViT variants (register tokens, layer scale, average pooling with `fc_norm`, no class token,
/// position embeddings without the class token, CLIP/SigLIP/DINOv2 heads) are refused by name.
struct TimmConfig {
    /// The `model_type` field (a Hugging Face config) and the `architecture` field (a timm one).
    private struct Kind: Decodable {
        enum CodingKeys: String, CodingKey { case modelType = "model_type", architecture }
        let isTimm: Bool
        init(from decoder: any Decoder) throws {
            let c = try ConfigFields(decoder, CodingKeys.self)
            isTimm = !c.has(.modelType) && c.has(.architecture)
        }
    }

    /// The fields read from a timm config.
    private struct Fields: Decodable {
        enum CodingKeys: String, CodingKey {
            case architecture, numClasses = "num_classes", globalPool = "global_pool", modelArgs = "model_args"
            case labelNames = "label_names"
        }
        let architecture: String
        let numClasses: Int?
        let globalPool: String
        let args: ModelArgs
        let labels: [String]

        init(from decoder: any Decoder) throws {
            let c = try ConfigFields(decoder, CodingKeys.self)
            architecture = try c.string(.architecture)
            numClasses = try c.has(.numClasses) ? c.countInt(.numClasses, default: 0) : nil
            globalPool = try c.string(.globalPool, default: "token")
            args = try c.nested(ModelArgs.self, .modelArgs) ?? ModelArgs()
            let raw = try decoder.container(keyedBy: CodingKeys.self)
            do { labels = try raw.decodeIfPresent([String].self, forKey: .labelNames) ?? [] } catch {
                throw c.invalid("'label_names' is not a list of strings")
            }
        }
    }

    /// `model_args`: the sizes read, and the switches ViTLens refuses unless at timm's defaults.
    private struct ModelArgs: Decodable {
        enum CodingKeys: String, CodingKey {
            case embedDim = "embed_dim", depth, numHeads = "num_heads", imgSize = "img_size", classToken = "class_token"
            case noEmbedClass = "no_embed_class", regTokens = "reg_tokens", globalPool = "global_pool", fcNorm = "fc_norm"
            case initValues = "init_values", preNorm = "pre_norm"
        }
        var embedDim: Int?, depth: Int?, heads: Int?, imageSize: Int?
        var refused: String?

        init() {}
        init(from decoder: any Decoder) throws {
            let c = try ConfigFields(decoder, CodingKeys.self)
            embedDim = try c.has(.embedDim) ? c.positiveInt(.embedDim) : nil
            depth = try c.has(.depth) ? c.positiveInt(.depth) : nil
            heads = try c.has(.numHeads) ? c.positiveInt(.numHeads) : nil
            imageSize = try c.has(.imgSize) ? c.positiveInt(.imgSize) : nil
            if !(try c.bool(.classToken, default: true)) { refused = "model_args class_token=false (no class token)" }
            if try c.bool(.noEmbedClass, default: false) { refused = "model_args no_embed_class=true (position embeddings without the class token)" }
            if try c.int(.regTokens, default: 0) != 0 { refused = "model_args reg_tokens (register tokens)" }
            if try c.string(.globalPool, default: "token") != "token" { refused = "model_args global_pool (only 'token' pooling is mapped)" }
            if try c.bool(.fcNorm, default: false) { refused = "model_args fc_norm=true" }
            if try c.bool(.preNorm, default: false) { refused = "model_args pre_norm=true (CLIP-style norm_pre)" }
            if c.has(.initValues) { refused = "model_args init_values (layer scale)" }
        }
    }

    /// Width and heads of timm's named ViT sizes.
    static let sizes: [String: (width: Int, heads: Int)] = [
        "tiny": (192, 3), "small": (384, 6), "base": (768, 12), "large": (1024, 16), "huge": (1280, 16),
    ]

    /// Layer-norm epsilon of timm's ViT/DeiT and DINO's (`partial(nn.LayerNorm, eps=1e-6)`).
    static let eps = 1e-6

    /// The Hugging Face config (same file name, for messages), its `model_type` and the renamed weights.
    let config: ConfigData
    let modelType: String
    let source: any TensorSource

    /// Whether `config` is a timm config (`architecture` and no `model_type`).
    static func isTimm(_ config: ConfigData) throws -> Bool {
        try ConfigFile.decode(Kind.self, from: config.bytes, file: config.file).isTimm
    }

    /// Reads the timm config `timm` and maps the timm-named `weights` onto Hugging Face names.
    /// - Throws: ``ModelError/configInvalid(file:reason:)`` naming the config for an unsupported
    ///   architecture or sizes that disagree with the weights; ``CheckpointError/missingWeight(key:file:)``
    ///   for a weight the sizes are read from.
    init(_ timm: ConfigData, weights: any TensorSource) throws {
        let f = try ConfigFile.decode(Fields.self, from: timm.bytes, file: timm.file)
        func invalid(_ reason: String) -> ModelError { .configInvalid(file: timm.file, reason: reason) }
        func shape(_ key: String) throws -> [Int] {
            guard let s = weights.shape(of: key) else { throw CheckpointError.missingWeight(key: key, file: weights.description) }
            return s
        }
        // vit_small_patch16_224(.tag), deit_tiny_distilled_patch16_224: family, size, [distilled], patchN, [image size].
        let name = f.architecture.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
        var parts = name.split(separator: "_").map(String.init)
        if let last = parts.last, Int(last) != nil { parts.removeLast() }
        let distilled = parts.count == 4 && parts[2] == "distilled"
        if distilled { parts.remove(at: 2) }
        guard parts.count == 3, ["vit", "deit"].contains(parts[0]), parts[2].hasPrefix("patch"),
              let namedPatch = Int(parts[2].dropFirst(5)), let size = Self.sizes[parts[1]], distilled == false || parts[0] == "deit" else {
            throw invalid("timm architecture '\(f.architecture)' is not supported (ViTLens maps vit_/deit_{tiny,small,base,large,huge}[_distilled]_patchN models)")
        }
        if let refused = f.args.refused { throw invalid("timm \(refused) is not supported") }
        guard f.globalPool == "token" else { throw invalid("timm global_pool '\(f.globalPool)' is not supported (only 'token')") }
        for (key, what) in [("reg_token", "register tokens"), ("fc_norm.weight", "fc_norm (average pooling)"),
                            ("blocks.0.ls1.gamma", "layer scale"), ("norm_pre.weight", "norm_pre (CLIP-style)")]
            where weights.shape(of: key) != nil {
            throw invalid("the timm checkpoint has '\(key)' (\(what)), which ViTLens's timm mapping does not cover")
        }
        guard distilled == (weights.shape(of: "dist_token") != nil) else {
            throw invalid("timm architecture '\(f.architecture)' \(distilled ? "is distilled but the weights have no 'dist_token'" : "is not distilled but the weights have a 'dist_token'")")
        }
        let cls = try shape("cls_token")
        guard cls.count == 3, cls[0] == 1, cls[1] == 1, let d = cls.last, d > 0 else { throw invalid("timm 'cls_token' has shape \(cls), expected [1, 1, width]") }
        if let w = f.args.embedDim, w != d { throw invalid("timm model_args embed_dim is \(w) but 'cls_token' is \(d) wide") }
        if f.args.embedDim == nil, size.width != d {
            throw invalid("timm architecture '\(f.architecture)' is \(size.width) wide but 'cls_token' is \(d) wide (give model_args embed_dim and num_heads)")
        }
        let heads = f.args.heads ?? size.heads
        var layers = 0
        while weights.shape(of: "blocks.\(layers).norm1.weight") != nil { layers += 1 }
        guard layers > 0 else { throw CheckpointError.missingWeight(key: "blocks.0.norm1.weight", file: weights.description) }
        if let depth = f.args.depth, depth != layers { throw invalid("timm model_args depth is \(depth) but the weights have \(layers) blocks") }
        let proj = try shape("patch_embed.proj.weight")
        guard proj.count == 4, proj[0] == d, proj[2] == proj[3], proj[2] == namedPatch else {
            throw invalid("timm 'patch_embed.proj.weight' has shape \(proj), expected [\(d), channels, \(namedPatch), \(namedPatch)] for '\(f.architecture)'")
        }
        let positions = try shape("pos_embed"), prefix = distilled ? 2 : 1
        let grid = Int(Double(max(0, (positions.count == 3 ? positions[1] : 0) - prefix)).squareRoot())
        guard positions.count == 3, positions[0] == 1, positions[2] == d, grid > 0, grid * grid + prefix == positions[1] else {
            throw invalid("timm 'pos_embed' has shape \(positions), expected [1, \(prefix) + grid x grid, \(d)]")
        }
        if let image = f.args.imageSize, image != grid * namedPatch {
            throw invalid("timm model_args img_size is \(image) but 'pos_embed' holds a \(grid)x\(grid) grid of \(namedPatch)-pixel patches")
        }
        let fc1 = try shape("blocks.0.mlp.fc1.weight")
        if let classes = f.numClasses, let head = weights.shape(of: "head.weight"), head.first != classes {
            throw invalid("timm num_classes is \(classes) but 'head.weight' has shape \(head)")
        }
        var hf: [String: Any] = [
            "model_type": distilled ? "deit" : "vit", "hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads,
            "intermediate_size": fc1.first ?? 0, "patch_size": namedPatch, "image_size": grid * namedPatch, "num_channels": proj[1],
            "layer_norm_eps": Self.eps, "hidden_act": "gelu", "qkv_bias": weights.shape(of: "blocks.0.attn.qkv.bias") != nil,
        ]
        if !f.labels.isEmpty {
            hf["id2label"] = Dictionary(uniqueKeysWithValues: f.labels.enumerated().map { (String($0.offset), $0.element) })
        }
        config = ConfigData(bytes: try JSONSerialization.data(withJSONObject: hf, options: [.sortedKeys]), file: timm.file)
        modelType = distilled ? "deit" : "vit"
        source = TimmStateDict(weights, layers: layers, distilled: distilled)
    }
}
