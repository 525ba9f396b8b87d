import Foundation

/// What ``ONNXImporter/importHuggingFace(from:to:overwrite:)`` found and wrote.
public struct ONNXImportReport: Sendable, Equatable {
    /// `model_type` of the written folder: `dinov2` or `vit`.
    public var family: String
    /// `num_hidden_layers`.
    public var layers: Int
    /// `num_attention_heads`.
    public var heads: Int
    /// `hidden_size`.
    public var hidden: Int
    /// MLP hidden features (ViT `intermediate_size`; DINOv2 `int(hidden_size * mlp_ratio)`, or the
    /// SwiGLU hidden features).
    public var intermediateSize: Int
    /// DINOv2 `mlp_ratio` as written (nil for ViT).
    public var mlpRatio: Int?
    /// `patch_size` in pixels (the patch Conv's kernel).
    public var patchSize: Int
    /// `image_size`: the side of the position-embedding grid times the patch size.
    public var imageSize: Int
    /// `num_channels`.
    public var numChannels: Int
    /// `layer_norm_eps`, the float32 epsilon of the graph printed at its shortest.
    public var layerNormEps: Double
    /// `hidden_act`: `gelu` (Erf) or `gelu_pytorch_tanh` (tanh form).
    public var hiddenAct: String
    /// True when every layer has DINOv2 layer scale (`layer_scale1/2.lambda1`).
    public var layerScale: Bool
    /// `qkv_bias`: query, key and value projections have biases.
    public var qkvBias: Bool
    /// `use_swiglu_ffn` (DINOv2).
    public var useSwiGLU: Bool
    /// True when a ViT pooler (dense + tanh) was found and written.
    public var pooler: Bool
    /// The graph input's fixed height and width, nil when dynamic.
    public var inputSize: [Int]?
    /// The module-path prefix stripped from node names, e.g. `backbone` (empty when none).
    public var wrapperPrefix: String
    /// Number of tensors written to `model.safetensors`.
    public var weightsWritten: Int
    /// Keys written without a source in the graph (DINOv2's unused `embeddings.mask_token`, zeros).
    public var synthesizedWeights: [String]
    /// Nodes in the graph.
    public var totalNodes: Int
    /// Nodes that the backbone's output does not depend on (decoder, classifier, ...): dropped.
    public var droppedNodes: Int
    /// The processor class written to `preprocessor_config.json`.
    public var imageProcessor: String
    /// The folder written.
    public var directory: String
    /// Wall-clock seconds the import took.
    public var seconds: Double

    /// A few lines for a terminal.
    public var summary: String {
        var lines = [
            "family: \(family) (\(family == "dinov2" ? "Dinov2Model" : "ViTModel"))",
            "layers: \(layers), heads: \(heads), hidden: \(hidden), intermediate: \(intermediateSize)",
            "patch: \(patchSize), image size: \(imageSize) (position grid \(imageSize / max(patchSize, 1))x\(imageSize / max(patchSize, 1)))"
                + (inputSize.map { ", graph input \($0.map(String.init).joined(separator: "x"))" } ?? ""),
            "layer norm eps: \(layerNormEps), activation: \(hiddenAct), qkv bias: \(qkvBias), layer scale: \(layerScale)"
                + (useSwiGLU ? ", SwiGLU" : "") + (pooler ? ", pooler" : ""),
            "weights written: \(weightsWritten)" + (synthesizedWeights.isEmpty ? "" : " (\(synthesizedWeights.joined(separator: ", ")) set to zeros: not in the graph)"),
            "nodes dropped: \(droppedNodes) of \(totalNodes)" + (wrapperPrefix.isEmpty ? "" : " (backbone under '\(wrapperPrefix)')"),
            "wrote \(directory) (config.json, model.safetensors, preprocessor_config.json: \(imageProcessor)) in \(String(format: "%.2f", seconds)) s",
        ]
        lines = lines.filter { !$0.isEmpty }
        return lines.joined(separator: "\n")
    }
}
