/// Which weights the model-randomisation sanity check (Adebayo et al. 2018) shuffles.
///
/// Tensors are grouped by name: the embeddings (names containing `embeddings` or CLIP's
/// `pre_layrnorm`), layer `i` (a `layer.i.` or `layers.i.` component), and the head (everything
/// else: final LayerNorm, pooler, classifier), which sits above the last layer.
public enum WeightRandomization: Sendable, Equatable, Codable {
    /// Every tensor, embeddings included.
    case all
    /// The paper's cascade from the top: the head and the last `k` layers.
    case topLayers(Int)

    /// A short name for reports ("all", "top-2").
    public var name: String {
        switch self {
        case .all: return "all"
        case .topLayers(let k): return "top-\(k)"
        }
    }

    /// Whether the tensor `name` is shuffled in a model of `layers` layers.
    func selects(_ name: String, layers: Int) -> Bool {
        switch self {
        case .all: return true
        case .topLayers(let k):
            if let i = Self.layerIndex(name) { return i >= layers - k }
            return !(name.contains("embeddings") || name.contains("pre_layrnorm") || name.hasPrefix("patch_embed")
                     || ["cls_token", "pos_embed", "dist_token", "reg_token"].contains(name))
        }
    }

    /// The layer index of a tensor name (`...layer.3....`, `...layers.3....`, timm's `blocks.3....`),
    /// `nil` outside the layers.
    public static func layerIndex(_ name: String) -> Int? {
        let parts = name.split(separator: ".")
        for (a, b) in zip(parts, parts.dropFirst()) where a == "layer" || a == "layers" || a == "blocks" {
            if let i = Int(b) { return i }
        }
        return nil
    }
}
