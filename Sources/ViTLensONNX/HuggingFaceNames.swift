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

    /// The module's Hub key inside `encoder.layer.N.` for a family (the names every released
    /// checkpoint carries and `save_pretrained` writes). Gate and up halves have no key of their
    /// own: they are concatenated into `mlp.weights_in`.
    func hubModule(_ family: BackboneFamily) -> String {
        switch self {
        case .query: return "attention.attention.query"
        case .key: return "attention.attention.key"
        case .value: return "attention.attention.value"
        case .attentionOutput: return "attention.output.dense"
        case .fc1: return family == .vit ? "intermediate.dense" : "mlp.fc1"
        case .fc2: return family == .vit ? "output.dense" : "mlp.fc2"
        case .norm1: return family == .vit ? "layernorm_before" : "norm1"
        case .norm2: return family == .vit ? "layernorm_after" : "norm2"
        case .layerScale1: return "layer_scale1"
        case .layerScale2: return "layer_scale2"
        case .swigluIn, .swigluGate, .swigluUp: return "mlp.weights_in"
        case .swigluOut: return "mlp.weights_out"
        }
    }
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
    static let layerModules: [String: LayerPart] = [
        "attention.attention.query": .query, "attention.q_proj": .query,
        "attention.attention.key": .key, "attention.k_proj": .key,
        "attention.attention.value": .value, "attention.v_proj": .value,
        "attention.output.dense": .attentionOutput, "attention.o_proj": .attentionOutput,
        "intermediate.dense": .fc1, "mlp.fc1": .fc1,
        "output.dense": .fc2, "mlp.fc2": .fc2,
        "layernorm_before": .norm1, "norm1": .norm1,
        "layernorm_after": .norm2, "norm2": .norm2,
        "layer_scale1": .layerScale1, "layer_scale2": .layerScale2,
        "mlp.weights_in": .swigluIn, "mlp.gate_proj": .swigluGate, "mlp.up_proj": .swigluUp,
        "mlp.weights_out": .swigluOut, "mlp.down_proj": .swigluOut,
    ]

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
        case "embeddings.patch_embeddings.projection": return .patchProjection
        case "layernorm": return .finalNorm
        case "pooler.dense": return .poolerDense
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
