import ViTLensCheckpoint
import ViTLensCore

/// Where each block applies its LayerNorms.
public enum NormPlacement: Sendable, Equatable {
    /// `x + f(LN(x))` (ViT, DeiT, DINO, DINOv2, CLIP).
    case pre
    /// `LN(x + f(x))` (BERT).
    case post
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
    /// Whether the residual branches are scaled per channel (DINOv2 `layer_scale1/2.lambda1`, BEiT `lambda_1/2`).
    public var layerScale: Bool
    /// Which of the query, key and value projections have biases (`qkv_bias` sets all three).
    public var biases: ProjectionBiases

    /// Width of one head, `hidden / heads`.
    public var headDim: Int { hidden / heads }

    /// An encoder shape; `biases` defaults to biases on all of query, key and value.
    public init(hidden: Int, heads: Int, layers: Int, eps: Float, activation: Activation, norm: NormPlacement,
                feedForward: FeedForward, layerScale: Bool = false, biases: ProjectionBiases = .all) {
        self.hidden = hidden
        self.heads = heads
        self.layers = layers
        self.eps = eps
        self.activation = activation
        self.norm = norm
        self.feedForward = feedForward
        self.layerScale = layerScale
        self.biases = biases
    }

    /// Width of the feed-forward buffer and of the SwiGLU gate output.
    var feedForwardWidths: (ff: Int, gate: Int) {
        switch feedForward {
        case .mlp(let i): return (i, 0)
        case .swiGLU(let h): return (2 * h, h)
        }
    }

    /// Float32 parameters of the blocks (projections, biases, norms, layer scales), for the memory
    /// estimate; embeddings, heads and attention biases are counted by the model. Exact: the
    /// number of floats ``Encoder`` keeps (query, key and value are stored stacked, with one
    /// `[3 * hidden]` bias when any of them has one).
    public var blockParameterCount: Int {
        let d = hidden
        let (ff, gate) = feedForwardWidths
        let ffOut = gate > 0 ? gate : ff
        // Output-projection bias, two LayerNorms, the down projection's bias, layer scales, Q/K/V bias.
        let vectors = 1 + 4 + 1 + (layerScale ? 2 : 0) + (biases.any ? 3 : 0)
        let perLayer = Limits.sum(Limits.product(4, d, d) ?? .max, Limits.product(d, ff) ?? .max,
                                  Limits.product(ffOut, d) ?? .max, Limits.product(vectors, d) ?? .max, ff) ?? .max
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
    /// - Throws: `ModelError.configInvalid` naming `file`.
    public func validate(file: String) throws {
        guard hidden > 0, heads > 0, layers > 0 else {
            throw ModelError.configInvalid(file: file, reason: "hidden_size, num_attention_heads and num_hidden_layers must be positive")
        }
        guard hidden % heads == 0 else {
            throw ModelError.configInvalid(file: file, reason: "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
        }
        // LayerNorm divides by sqrt(variance + eps): eps <= 0 gives inf/NaN on constant rows, and a
        // value that rounds to 0 or inf as a Float is as bad as the JSON value itself.
        guard eps.isFinite, eps > 0 else {
            throw ModelError.configInvalid(file: file, reason: "'layer_norm_eps' must be a finite positive number (as a 32-bit float), got \(eps)")
        }
    }
}

