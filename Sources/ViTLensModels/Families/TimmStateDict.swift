import ViTLensCheckpoint

/// A timm-named ViT/DeiT/DINO state dict (`timm.models.vision_transformer`) seen under the
/// Hugging Face ViT/DeiT key names the families load, so the same encoder code and checks apply.
///
/// | timm | Hugging Face |
/// |---|---|
/// | `cls_token`, `dist_token`, `pos_embed` | `embeddings.cls_token`, `embeddings.distillation_token`, `embeddings.position_embeddings` |
/// | `patch_embed.proj` | `embeddings.patch_embeddings.projection` |
/// | `blocks.N.norm1`, `blocks.N.norm2` | `encoder.layer.N.layernorm_before`, `.layernorm_after` |
/// | `blocks.N.attn.qkv` (rows: query, key, value) | `encoder.layer.N.attention.attention.{query,key,value}` |
/// | `blocks.N.attn.proj`, `blocks.N.mlp.fc1`, `blocks.N.mlp.fc2` | `...attention.output.dense`, `...intermediate.dense`, `...output.dense` |
/// | `norm`; `head` (`head`, `head_dist` when distilled) | `layernorm`; `classifier` (`cls_classifier`, `distillation_classifier`) |
///
/// The fused `qkv` weight `[3d, d]` and bias `[3d]` are split by rows when taken. Tensors the table
/// does not name keep their timm name, so the loader's leftover-key check reports them.
final class TimmStateDict: TensorSource, @unchecked Sendable {
    /// The timm-named checkpoint.
    let base: any TensorSource
    let names: [String]
    /// Hugging Face name -> timm name and, for a third of `qkv`, which third.
    private let table: [String: (source: String, third: Int?)]
    /// The timm names the table maps (not visible under their own name).
    private let renamed: Set<String>

    /// Maps `base`, whose blocks are `0 ..< layers`; `distilled` names the heads as DeiT's.
    init(_ base: any TensorSource, layers: Int, distilled: Bool) {
        self.base = base
        var t: [String: (source: String, third: Int?)] = [:]
        func rename(_ hf: String, _ timm: String, params: [String] = ["weight", "bias"]) {
            for p in params where base.shape(of: "\(timm).\(p)") != nil { t["\(hf).\(p)"] = ("\(timm).\(p)", nil) }
        }
        for (hf, timm) in [("embeddings.cls_token", "cls_token"), ("embeddings.distillation_token", "dist_token"),
                           ("embeddings.position_embeddings", "pos_embed")] where base.shape(of: timm) != nil {
            t[hf] = (timm, nil)
        }
        rename("embeddings.patch_embeddings.projection", "patch_embed.proj")
        rename("layernorm", "norm")
        rename(distilled ? "cls_classifier" : "classifier", "head")
        if distilled { rename("distillation_classifier", "head_dist") }
        for n in 0 ..< layers {
            let hf = "encoder.layer.\(n)", timm = "blocks.\(n)"
            rename("\(hf).layernorm_before", "\(timm).norm1")
            rename("\(hf).layernorm_after", "\(timm).norm2")
            rename("\(hf).attention.output.dense", "\(timm).attn.proj")
            rename("\(hf).intermediate.dense", "\(timm).mlp.fc1")
            rename("\(hf).output.dense", "\(timm).mlp.fc2")
            for (i, part) in ["query", "key", "value"].enumerated() {
                for p in ["weight", "bias"] where base.shape(of: "\(timm).attn.qkv.\(p)") != nil {
                    t["\(hf).attention.attention.\(part).\(p)"] = ("\(timm).attn.qkv.\(p)", i)
                }
            }
        }
        table = t
        let hidden = Set(t.values.map(\.source))
        renamed = hidden
        names = (Array(t.keys) + base.names.filter { !hidden.contains($0) }).sorted()
    }

    var description: String { base.description }

    func shape(of name: String) -> [Int]? {
        guard let entry = table[name] else { return renamed.contains(name) ? nil : base.shape(of: name) }
        guard let shape = base.shape(of: entry.source) else { return nil }
        guard entry.third != nil else { return shape }
        // A third of the rows; a first dimension not divisible by 3 keeps a shape no model expects.
        guard let rows = shape.first, rows % 3 == 0 else { return shape }
        return [rows / 3] + shape.dropFirst()
    }

    func floats(_ name: String, requireFinite: Bool) throws -> [Float] {
        guard let entry = table[name] else { return try base.floats(name, requireFinite: requireFinite) }
        let values = try base.floats(entry.source, requireFinite: requireFinite)
        guard let third = entry.third else { return values }
        let n = values.count / 3
        return Array(values[third * n ..< (third + 1) * n])
    }

    func fileName(for name: String) -> String? { base.fileName(for: table[name]?.source ?? name) }
}
