import ViTLensCore
import ViTLensImage
import ViTLensModels

/// The `config.json` and `preprocessor_config.json` an import writes, built from the plan as typed
/// JSON values (integers stay integers, floats are written at their shortest).
enum ImportedConfig {
    /// ImageNet mean and std, DINOv2's own normalisation (`facebook/dinov2-*` processors).
    static let imageNetMean = [0.485, 0.456, 0.406]
    static let imageNetStd = [0.229, 0.224, 0.225]

    /// A float32 constant as the shortest decimal that reads back to it (1e-06, not 9.99e-07).
    static func shortest(_ x: Float) -> Double { Double(String(describing: x)) ?? Double(x) }

    /// DINOv2's whole `mlp_ratio` (transformers 5 types it `int`) for which the family's width rule
    /// gives the found MLP width; nil when no whole ratio does.
    static func mlpRatio(hidden: Int, width: Int, swiGLU: Bool) -> Int? {
        (1 ... Int(Limits.maxMLPRatio)).first {
            PublicKeyTables.dinov2FeedForwardWidth(hidden: hidden, mlpRatio: Double($0), swiGLU: swiGLU) == width
        }
    }

    /// `config.json` for `plan`'s family.
    static func config(_ plan: BackbonePlan) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("model_type", .string(plan.family.rawValue)),
            ("hidden_size", .integer(plan.hidden)),
            ("num_hidden_layers", .integer(plan.layers)),
            ("num_attention_heads", .integer(plan.heads)),
            ("hidden_act", .string(plan.hiddenAct)),
            ("hidden_dropout_prob", .float(0)),
            ("attention_probs_dropout_prob", .float(0)),
            ("initializer_range", .float(0.02)),
            ("layer_norm_eps", .float(shortest(plan.layerNormEps))),
            ("image_size", .integer(plan.imageSize)),
            ("patch_size", .integer(plan.patchSize)),
            ("num_channels", .integer(plan.channels)),
            ("qkv_bias", .bool(plan.qkvBias)),
            ("dtype", .string("float32")),
        ]
        switch plan.family {
        case .dinov2:
            members += [("architectures", .array([.string("Dinov2Model")]))]
            if let r = plan.mlpRatio { members += [("mlp_ratio", .integer(r))] }
            members += [
                ("layerscale_value", .float(1)), ("drop_path_rate", .float(0)), ("use_swiglu_ffn", .bool(plan.swiGLU)),
                ("apply_layernorm", .bool(true)), ("reshape_hidden_states", .bool(true)),
            ]
        case .vit:
            members += [
                ("architectures", .array([.string("ViTModel")])), ("intermediate_size", .integer(plan.intermediate)),
                ("encoder_stride", .integer(plan.patchSize)),
            ]
            if plan.pooler { members += [("pooler_output_size", .integer(plan.hidden)), ("pooler_act", .string("tanh"))] }
        }
        return .object(members)
    }

    /// The image processor for `plan`: `BitImageProcessor` with ImageNet statistics for DINOv2
    /// (shortest edge and crop at the graph's fixed input size, else 256 and 224x224), the
    /// `ViTImageProcessor` defaults at the input size for ViT.
    static func processor(_ plan: BackbonePlan) -> ImageProcessorConfig {
        switch plan.family {
        case .dinov2:
            var config = ImageProcessorConfig(processorType: .bit)
            if let s = plan.inputSize {
                config.size = .shortestEdge(max(s.height, s.width))
                (config.cropHeight, config.cropWidth) = (s.height, s.width)
            } else {
                config.size = .shortestEdge(256)
            }
            config.imageMean = imageNetMean
            config.imageStd = imageNetStd
            return config
        case .vit:
            var config = ImageProcessorConfig(processorType: .vit)
            let size = plan.inputSize ?? (plan.imageSize, plan.imageSize)
            config.size = .exact(height: size.height, width: size.width)
            return config
        }
    }

    /// `preprocessor_config.json` for `config` (``ImageProcessorConfig/jsonValue``).
    static func json(_ config: ImageProcessorConfig) -> JSONValue { config.jsonValue }
}
