/// The Hugging Face key tables and size rules of the vision families, for code outside the model
/// families that must name or size the same weights (the ONNX importer writes them).
public enum PublicKeyTables {
    /// ViT's (and DeiT's) encoder block keys: `encoder.layer.N.attention.attention.query`,
    /// `layernorm_before`, `intermediate.dense`, ...
    public static var vit: EncoderKeys { ViTFamily.keys }

    /// DINOv2's encoder block keys: `encoder.layer.N.norm1`, `mlp.fc1`, `mlp.weights_in`,
    /// `layer_scale1.lambda1`, ...
    public static var dinov2: EncoderKeys { DINOv2Family.keys }

    /// The patch-embedding Conv module of ViT, DeiT and DINOv2: `embeddings.patch_embeddings.projection`.
    public static var patchProjection: String { StemKeys.vit.projection }

    /// The position table key of ViT, DeiT and DINOv2: `embeddings.position_embeddings`.
    public static var positionEmbeddings: String { StemKeys.vit.positions }

    /// The width of DINOv2's feed-forward for `hidden_size` and `mlp_ratio`: `int(hidden * mlp_ratio)`
    /// for the plain MLP, and for SwiGLU (`Dinov2SwiGLUFFN`) that width times 2/3, rounded up to a
    /// multiple of 8: `(int(int(hidden * mlp_ratio) * 2 / 3) + 7) // 8 * 8`. Callers bound `mlpRatio`
    /// (finite, at most ``Limits/maxMLPRatio``) so the width fits `Int`.
    public static func dinov2FeedForwardWidth(hidden: Int, mlpRatio: Double, swiGLU: Bool) -> Int {
        let plain = Int(Double(hidden) * mlpRatio)
        return swiGLU ? (Int(Double(plain) * 2 / 3) + 7) / 8 * 8 : plain
    }
}
