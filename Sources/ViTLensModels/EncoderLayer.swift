import ViTLensCheckpoint
import ViTLensCore

/// One transformer block: multi-head self-attention and a feed-forward network, each with a
/// residual connection and a LayerNorm (placed before or after, per ``EncoderSpec/norm``).
struct EncoderLayer {
    /// Q, K and V stacked: output columns `[0, D)` are queries, `[D, 2D)` keys, `[2D, 3D)` values.
    let qkv: Linear
    let output: Linear
    let norm1, norm2: LayerNorm
    let fc1, fc2: Linear
    let scale1, scale2: Param?
    /// The additive per-head score bias of this layer (BEiT's relative positions), if any.
    let attentionBias: AttentionBiasSource?

    init(_ store: WeightStore, spec: EncoderSpec, keys: EncoderKeys, index: Int, attentionBias: AttentionBiasSource?) throws {
        let p = keys.layer(index)
        self.attentionBias = attentionBias
        let d = spec.hidden
        let b = spec.biases
        qkv = try Linear(stacking: [("\(p).\(keys.query)", b.query), ("\(p).\(keys.key)", b.key), ("\(p).\(keys.value)", b.value)],
                         store, out: d, in: d)
        output = try Linear(store, "\(p).\(keys.attentionOutput)", out: d, in: d)
        norm1 = try LayerNorm(store, "\(p).\(keys.norm1)", dim: d, eps: spec.eps)
        norm2 = try LayerNorm(store, "\(p).\(keys.norm2)", dim: d, eps: spec.eps)
        switch spec.feedForward {
        case .mlp(let i):
            fc1 = try Linear(store, "\(p).\(keys.fc1)", out: i, in: d)
            fc2 = try Linear(store, "\(p).\(keys.fc2)", out: d, in: i)
        case .swiGLU(let h):
            fc1 = try Linear(store, "\(p).\(keys.swiGLUIn)", out: 2 * h, in: d)
            fc2 = try Linear(store, "\(p).\(keys.swiGLUOut)", out: d, in: h)
        }
        if spec.layerScale {
            scale1 = try store.param("\(p).\(keys.layerScale1)", [d])
            scale2 = try store.param("\(p).\(keys.layerScale2)", [d])
        } else {
            scale1 = nil
            scale2 = nil
        }
    }
}
