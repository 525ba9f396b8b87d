import ViTLensCheckpoint
import ViTLensCore

/// SigLIP's multihead attention pooling head (`SiglipMultiheadAttentionPoolingHead`): a learned
/// probe `[1, 1, D]` attends over the final hidden states with a `torch.nn.MultiheadAttention`
/// (fused `in_proj_weight [3D, D]` = query | key | value, `in_proj_bias [3D]`, `out_proj`), then
/// `pooled = a + mlp(layernorm(a))` for the attended vector `a`.
///
/// The probe's attention over the `N` tokens, per head, is ViTLens's CLS-like readout for models
/// without CLS: ``VisionTransformer`` delivers it to observers as one more layer (see
/// ``broadcast(_:tokens:into:)`` and `TokenLayout.poolingHeadLayer`).
struct AttentionPoolingHead {
    /// `head.probe`, `[D]`.
    let probe: Param
    /// `head.attention.in_proj_*` restricted to the probe's query: `[D, D]` and `[D]`.
    let query: Linear
    /// The key and value rows of `in_proj`: `[2D, D]`, `[2D]`.
    let keyValue: Linear
    let output: Linear
    let norm: LayerNorm
    let fc1: Linear
    let fc2: Linear
    let activation: Activation
    let heads: Int

    /// Takes `<prefix>.probe`, `.attention.in_proj_weight/bias`, `.attention.out_proj`,
    /// `.layernorm` and `.mlp.fc1/fc2` from `store`.
    init(_ store: WeightStore, _ prefix: String, spec: EncoderSpec, intermediate: Int) throws {
        let d = spec.hidden
        probe = Param(try store.take("\(prefix).probe", shape: [1, 1, d]), shape: [d])
        let w = try store.take("\(prefix).attention.in_proj_weight", shape: [3 * d, d])
        let b = try store.take("\(prefix).attention.in_proj_bias", shape: [3 * d])
        query = Linear(weight: Array(w[0 ..< d * d]), bias: Array(b[0 ..< d]), out: d, in: d)
        keyValue = Linear(weight: Array(w[(d * d)...]), bias: Array(b[d...]), out: 2 * d, in: d)
        output = try Linear(store, "\(prefix).attention.out_proj", out: d, in: d)
        norm = try LayerNorm(store, "\(prefix).layernorm", dim: d, eps: spec.eps)
        fc1 = try Linear(store, "\(prefix).mlp.fc1", out: intermediate, in: d)
        fc2 = try Linear(store, "\(prefix).mlp.fc2", out: d, in: intermediate)
        activation = spec.activation
        self.heads = spec.heads
    }

    /// What one pass of the head computes.
    struct Result {
        /// The probe's attention, `[heads, N]` (each row sums to 1).
        var probabilities: [Float]
        /// The scaled scores before the softmax, `[heads, N]`.
        var logits: [Float]
        /// The probe's query split by head, `[heads, headDim]`.
        var query: [Float]
        /// The keys split by head, `[heads, N, headDim]`.
        var keys: [Float]
        /// The keys and values as `in_proj` computed them, `[N, 2D]` (row `t`: key | value).
        var keyValue: [Float]
        /// What follows the attention (``Readout``).
        var readout: Readout
        /// The pooled vector, `[D]`.
        var pooled: [Float] { readout.pooled }
    }

    /// The part of the head after the probe's attention, from given probabilities.
    struct Readout {
        /// `out_proj(context)`, `[D]`: the attended vector `a`.
        var attended: [Float]
        /// `fc1(layernorm(a))` before the activation, `[intermediate]`.
        var preActivation: [Float]
        /// `a + fc2(act(fc1(layernorm(a))))`, `[D]`.
        var pooled: [Float]
    }

    /// Runs the head over `hidden [tokens, D]` (the final hidden states, after `post_layernorm`).
    func callAsFunction(_ hidden: UnsafePointer<Float>, tokens n: Int) -> Result {
        let d = probe.count
        let dh = d / heads
        var q = [Float](repeating: 0, count: d)
        q.withUnsafeMutableBufferPointer { query(probe.ptr, rows: 1, into: $0.baseAddress!) }
        var kv = [Float](repeating: 0, count: n * 2 * d)
        kv.withUnsafeMutableBufferPointer { keyValue(hidden, rows: n, into: $0.baseAddress!) }
        let scale = 1 / Float(dh).squareRoot()
        var logits = [Float](repeating: 0, count: heads * n)
        var keys = [Float](repeating: 0, count: heads * n * dh)
        for h in 0 ..< heads {
            for t in 0 ..< n {
                var s: Float = 0
                for j in 0 ..< dh {
                    let k = kv[t * 2 * d + h * dh + j]
                    keys[(h * n + t) * dh + j] = k
                    s += q[h * dh + j] * k
                }
                logits[h * n + t] = s * scale
            }
        }
        var probabilities = logits
        probabilities.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0.baseAddress!, rows: heads, cols: n) }
        let readout = read(probabilities: probabilities, keyValue: kv, tokens: n)
        return Result(probabilities: probabilities, logits: logits, query: q, keys: keys, keyValue: kv, readout: readout)
    }

    /// The head after its attention: the context `Σ_t p_h[t] V_h[t]` per head from `probabilities
    /// [heads, N]` and `keyValue [N, 2D]`, then `out_proj`, layernorm, MLP and the residual.
    func read(probabilities: [Float], keyValue kv: [Float], tokens n: Int) -> Readout {
        let d = probe.count
        let dh = d / heads
        var context = [Float](repeating: 0, count: d)
        for h in 0 ..< heads {
            for t in 0 ..< n {
                let a = probabilities[h * n + t]
                for j in 0 ..< dh { context[h * dh + j] += a * kv[t * 2 * d + d + h * dh + j] }
            }
        }
        var attended = [Float](repeating: 0, count: d)
        context.withUnsafeBufferPointer { c in attended.withUnsafeMutableBufferPointer { output(c.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        var normed = [Float](repeating: 0, count: d)
        attended.withUnsafeBufferPointer { a in normed.withUnsafeMutableBufferPointer { norm(a.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        var preActivation = [Float](repeating: 0, count: fc1.outFeatures)
        normed.withUnsafeBufferPointer { x in preActivation.withUnsafeMutableBufferPointer { fc1(x.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        var inner = preActivation
        inner.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        var pooled = [Float](repeating: 0, count: d)
        inner.withUnsafeBufferPointer { x in pooled.withUnsafeMutableBufferPointer { fc2(x.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        for j in 0 ..< d { pooled[j] += attended[j] }
        return Readout(attended: attended, preActivation: preActivation, pooled: pooled)
    }

    /// Parameters, for the memory estimate.
    var parameterCount: Int {
        let d = probe.count
        return Limits.sum(Limits.product(4, d, d) ?? .max, Limits.product(6, d) ?? .max,
                          Limits.product(2, d, fc1.outFeatures) ?? .max, fc1.outFeatures) ?? .max
    }
}
