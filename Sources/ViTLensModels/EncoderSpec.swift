import ViTLensCheckpoint
import ViTLensCore

/// Where each block applies its LayerNorms.
public enum NormPlacement: Sendable, Equatable {
    /// `x + f(LN(x))` (ViT, DeiT, DINO, DINOv2, CLIP).
    case pre
    /// `LN(x + f(x))` (BERT).
    case post
}

/// The MLP's non-linearity (`hidden_act`).
public enum Activation: String, Sendable, Equatable {
    /// Exact erf GELU (`gelu`).
    case gelu
    /// Tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    case geluTanh
    /// CLIP's `quick_gelu`, `x * sigmoid(1.702 x)`.
    case quickGELU
    /// `relu`.
    case relu

    /// Maps a Hugging Face `hidden_act` string.
    /// - Throws: `CheckpointError.configInvalid` for activations ViTLens does not implement.
    public init(huggingFace name: String, file: String) throws {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "quick_gelu": self = .quickGELU
        case "relu": self = .relu
        default: throw CheckpointError.configInvalid(file: file, reason: "hidden_act '\(name)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu)")
        }
    }
}

/// The feed-forward sub-block.
public enum FeedForward: Sendable, Equatable {
    /// `fc2(act(fc1(x)))` with `intermediate` hidden units.
    case mlp(intermediate: Int)
    /// DINOv2's SwiGLU: `weights_out(silu(x1) * x2)` with `[x1 | x2] = weights_in(x)`, `hidden` units.
    case swiGLU(hidden: Int)
}

/// The shape of a transformer encoder shared by every family.
public struct EncoderSpec: Sendable, Equatable {
    /// Model width `D` (`hidden_size`).
    public var hidden: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var heads: Int
    /// Number of blocks (`num_hidden_layers`).
    public var layers: Int
    /// LayerNorm epsilon (`layer_norm_eps`).
    public var eps: Float
    /// MLP non-linearity.
    public var activation: Activation
    /// Pre- or post-norm blocks.
    public var norm: NormPlacement
    /// Feed-forward variant.
    public var feedForward: FeedForward
    /// Whether the residual branches are scaled per channel (DINOv2 `layer_scale1/2.lambda1`).
    public var layerScale: Bool
    /// Whether Q, K, V projections have biases (`qkv_bias`).
    public var qkvBias: Bool

    /// Width of one head, `hidden / heads`.
    public var headDim: Int { hidden / heads }

    public init(hidden: Int, heads: Int, layers: Int, eps: Float, activation: Activation, norm: NormPlacement,
                feedForward: FeedForward, layerScale: Bool = false, qkvBias: Bool = true) {
        self.hidden = hidden
        self.heads = heads
        self.layers = layers
        self.eps = eps
        self.activation = activation
        self.norm = norm
        self.feedForward = feedForward
        self.layerScale = layerScale
        self.qkvBias = qkvBias
    }

    /// Width of the feed-forward buffer and of the SwiGLU gate output.
    var feedForwardWidths: (ff: Int, gate: Int) {
        switch feedForward {
        case .mlp(let i): return (i, 0)
        case .swiGLU(let h): return (2 * h, h)
        }
    }

    /// Float32 parameters of the blocks (projections, biases, norms, layer scales), for the memory
    /// estimate; embeddings and heads are counted by the model.
    public var blockParameterCount: Int {
        let d = hidden
        let (ff, gate) = feedForwardWidths
        let ffOut = gate > 0 ? gate : ff
        let perLayer = Limits.sum(Limits.product(4, d, d) ?? .max, Limits.product(d, ff) ?? .max,
                                  Limits.product(ffOut, d) ?? .max, Limits.product(10, d) ?? .max, ff) ?? .max
        return Limits.product(layers, perLayer) ?? .max
    }

    /// Bytes of one forward pass's working memory at `tokens` tokens (the ``Workspace``: hidden-sized
    /// buffers, the MLP, one layer's `[heads, N, N]` probabilities, and the captured extras), plus the
    /// residual stream and its output copy.
    public func forwardBytes(tokens n: Int, options: CaptureOptions) -> Int {
        let (ff, gate) = feedForwardWidths
        let square = MemoryEstimate.floats(heads, n, n)
        let perHead = MemoryEstimate.floats(heads, n, headDim)
        return Limits.sum(MemoryEstimate.floats(n, hidden, 8), MemoryEstimate.floats(n, ff), MemoryEstimate.floats(n, max(1, gate)),
                          square, options.contains(.logits) ? square : 0,
                          options.contains(.queries) ? perHead : 0, options.contains(.keys) ? perHead : 0) ?? .max
    }

    /// Checks the invariants the kernels rely on: positive sizes, `hidden % heads == 0`, and a
    /// finite `eps > 0` (after rounding to `Float`).
    /// - Throws: `CheckpointError.configInvalid` naming `file`.
    public func validate(file: String) throws {
        guard hidden > 0, heads > 0, layers > 0 else {
            throw CheckpointError.configInvalid(file: file, reason: "hidden_size, num_attention_heads and num_hidden_layers must be positive")
        }
        guard hidden % heads == 0 else {
            throw CheckpointError.configInvalid(file: file, reason: "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
        }
        // LayerNorm divides by sqrt(variance + eps): eps <= 0 gives inf/NaN on constant rows, and a
        // value that rounds to 0 or inf as a Float is as bad as the JSON value itself.
        guard eps.isFinite, eps > 0 else {
            throw CheckpointError.configInvalid(file: file, reason: "'layer_norm_eps' must be a finite positive number (as a 32-bit float), got \(eps)")
        }
    }
}

/// Where a family keeps one block's weights, relative to the block's prefix (Hugging Face names).
///
/// One table per family replaces any chain of string substitutions: the key *is* the Hugging Face
/// module path, so real checkpoints load with no renaming.
public struct EncoderKeys: Sendable {
    /// The block prefix, e.g. `encoder.layer.3`.
    public var layer: @Sendable (Int) -> String
    public var query = "attention.attention.query"
    public var key = "attention.attention.key"
    public var value = "attention.attention.value"
    public var attentionOutput = "attention.output.dense"
    /// Pre-norm: before attention. Post-norm: after the attention residual.
    public var norm1 = "layernorm_before"
    /// Pre-norm: before the MLP. Post-norm: after the MLP residual.
    public var norm2 = "layernorm_after"
    public var fc1 = "intermediate.dense"
    public var fc2 = "output.dense"
    public var swiGLUIn = "mlp.weights_in"
    public var swiGLUOut = "mlp.weights_out"
    public var layerScale1 = "layer_scale1.lambda1"
    public var layerScale2 = "layer_scale2.lambda1"

    public init(layer: @escaping @Sendable (Int) -> String) { self.layer = layer }
}
