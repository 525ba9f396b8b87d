import ViTLensModels

/// The Hugging Face model families the importer writes.
enum BackboneFamily: String, Sendable {
    /// `Dinov2Model` (`model_type: dinov2`): pre-norm layers named `norm1`/`norm2`, layer scale.
    case dinov2
    /// `ViTModel` (`model_type: vit`): pre-norm layers named `layernorm_before`/`layernorm_after`.
    case vit
}

/// A module inside one encoder layer, whatever the exporter's transformers version called it.
enum LayerPart: String, CaseIterable, Sendable {
    case query, key, value, attentionOutput, fc1, fc2, norm1, norm2, layerScale1, layerScale2
    /// DINOv2 SwiGLU: the fused input projection (transformers 4.x `mlp.weights_in`).
    case swigluIn
    /// DINOv2 SwiGLU in transformers 5.x: the two halves of `weights_in`.
    case swigluGate, swigluUp
    /// DINOv2 SwiGLU output projection.
    case swigluOut

    /// How error messages name it: "layer 3 has no key MatMul".
    var label: String {
        switch self {
        case .query: return "query"
        case .key: return "key"
        case .value: return "value"
        case .attentionOutput: return "attention output"
        case .fc1: return "MLP input (fc1 / intermediate)"
        case .fc2: return "MLP output (fc2 / output)"
        case .norm1: return "first LayerNorm (norm1 / layernorm_before)"
        case .norm2: return "second LayerNorm (norm2 / layernorm_after)"
        case .layerScale1: return "layer_scale1"
        case .layerScale2: return "layer_scale2"
        case .swigluIn: return "SwiGLU weights_in"
        case .swigluGate: return "SwiGLU gate_proj"
        case .swigluUp: return "SwiGLU up_proj"
        case .swigluOut: return "SwiGLU weights_out / down_proj"
        }
    }

    /// The part's Hub key inside `encoder.layer.N.` for a family, from the family's key table in
    /// ViTLensModels: a module (`attention.attention.query`, `mlp.fc1`) or, for the layer scales,
    /// the parameter (`layer_scale1.lambda1`). Gate and up halves have no key of their own: they
    /// are concatenated into `mlp.weights_in`.
    func hubKey(_ family: BackboneFamily) -> String {
        let keys = family.keys
        switch self {
        case .query: return keys.query
        case .key: return keys.key
        case .value: return keys.value
        case .attentionOutput: return keys.attentionOutput
        case .fc1: return keys.fc1
        case .fc2: return keys.fc2
        case .norm1: return keys.norm1
        case .norm2: return keys.norm2
        case .layerScale1: return keys.layerScale1
        case .layerScale2: return keys.layerScale2
        case .swigluIn, .swigluGate, .swigluUp: return keys.swiGLUIn
        case .swigluOut: return keys.swiGLUOut
        }
    }

    /// The module path of ``hubKey(_:)`` as node names carry it (`layer_scale1` for `layer_scale1.lambda1`).
    func hubModule(_ family: BackboneFamily) -> String {
        switch self {
        case .layerScale1, .layerScale2: return hubKey(family).split(separator: ".").dropLast().joined(separator: ".")
        default: return hubKey(family)
        }
    }
}

extension BackboneFamily {
    /// The family's Hub key table, owned by ViTLensModels.
    var keys: EncoderKeys { self == .vit ? PublicKeyTables.vit : PublicKeyTables.dinov2 }
}

/// The declarative name table: module paths inside an encoder layer, as the TorchScript exporter
/// writes them into node names, for both transformers generations.
///
/// | transformers 4.x (= Hub keys)   | transformers 5.x (internal)      | part            |
/// |---------------------------------|----------------------------------|-----------------|
/// | attention.attention.query       | attention.q_proj                 | query           |
/// | attention.attention.key         | attention.k_proj                 | key             |
/// | attention.attention.value       | attention.v_proj                 | value           |
/// | attention.output.dense          | attention.o_proj                 | attentionOutput |
/// | intermediate.dense / mlp.fc1    | mlp.fc1                          | fc1             |
/// | output.dense / mlp.fc2          | mlp.fc2                          | fc2             |
/// | layernorm_before / norm1        | same                             | norm1           |
/// | layernorm_after / norm2         | same                             | norm2           |
/// | layer_scale1, layer_scale2      | same                             | layer scales    |
/// | mlp.weights_in                  | mlp.gate_proj + mlp.up_proj      | SwiGLU input    |
/// | mlp.weights_out                 | mlp.down_proj                    | SwiGLU output   |
///
/// Layers themselves are `encoder.layer.N` (4.x, and 5.x DINOv2) or `layers.N` (5.x ViT). The 5.x
/// renames are those of `transformers/conversion_mapping.py` (`ViTModel`, `Dinov2Model`) at 5.23.
enum HuggingFaceNames {
    /// transformers 5.x's internal module names that differ from the Hub keys.
    static let transformers5Modules: [String: LayerPart] = [
        "attention.q_proj": .query, "attention.k_proj": .key, "attention.v_proj": .value, "attention.o_proj": .attentionOutput,
        "mlp.gate_proj": .swigluGate, "mlp.up_proj": .swigluUp, "mlp.down_proj": .swigluOut,
    ]

    /// Every module path inside a layer that names a part: both families' Hub keys (4.x) and the 5.x names.
    static let layerModules: [String: LayerPart] = {
        var table = transformers5Modules
        for family in [BackboneFamily.vit, .dinov2] {
            for part in LayerPart.allCases where part != .swigluGate && part != .swigluUp {
                table[part.hubModule(family)] = part
            }
        }
        return table
    }()

    /// `embeddings.patch_embeddings.projection`, the patch Conv.
    static let patchProjectionPath = PublicKeyTables.patchProjection.split(separator: ".").map(String.init)
    /// The final LayerNorm.
    static let finalNorm = "layernorm"
    /// ViT's pooler projection.
    static let poolerDense = "pooler.dense"

    /// Module roots of a backbone (after any wrapper prefix such as `backbone`, `vit`, `dinov2`).
    static let backboneRoots: Set<String> = ["embeddings", "encoder", "layernorm", "pooler"]

    /// Where a backbone-relative module path sits.
    static func role(of module: ArraySlice<String>) -> ModuleRole? {
        guard let first = module.first else { return nil }
        var rest = module.dropFirst()
        var layer: Int?
        if first == "encoder", let second = rest.first, second.hasPrefix("layer."), let i = Int(second.dropFirst(6)) {
            layer = i
            rest = rest.dropFirst()
        } else if first.hasPrefix("layers."), let i = Int(first.dropFirst(7)) {
            layer = i
        }
        if let layer {
            let path = rest.joined(separator: ".")
            if let part = layerModules[path] { return .layer(layer, part) }
            return .layerOther(layer, path)
        }
        let path = module.joined(separator: ".")
        switch path {
        case "embeddings": return .embeddings
        case PublicKeyTables.patchProjection: return .patchProjection
        case finalNorm: return .finalNorm
        case poolerDense: return .poolerDense
        default: break
        }
        if first == "embeddings" { return .embeddingsOther(path) }
        if first == "pooler" { return .poolerOther(path) }
        if first == "encoder" { return .encoderOther(path) }
        return nil
    }
}

/// A module's place in the backbone.
enum ModuleRole: Hashable {
    /// `embeddings`: CLS token, mask token, position embeddings.
    case embeddings
    /// Other nodes under `embeddings` (patch-embedding reshapes, interpolation).
    case embeddingsOther(String)
    /// `embeddings.patch_embeddings.projection` (the patch Conv).
    case patchProjection
    /// A named part of encoder layer N.
    case layer(Int, LayerPart)
    /// Other nodes of encoder layer N (attention core, activation, residual adds), with their path.
    case layerOther(Int, String)
    /// Nodes under `encoder` outside any layer.
    case encoderOther(String)
    /// The final `layernorm`.
    case finalNorm
    /// `pooler.dense` (ViT).
    case poolerDense
    /// Other pooler nodes (its activation).
    case poolerOther(String)
}
