import Foundation
import ViTLens

/// One input's gradient explanations in a report: one target, one map per method (the page's method
/// switcher shows one at a time, the first one first).
public struct ExplanationReport: Sendable {
    /// The target as spelled on the command line (`top1`, `class:3`, `similar:photo.jpg`, ...).
    public var target: String
    /// The class explained, for class targets (the predicted class for `top1`).
    public var classIndex: Int?
    /// The class's `id2label` name, when it has one.
    public var label: String?
    /// One explanation per method, in the switcher's order.
    public var methods: [MethodExplanation]
}

/// One method's explanation of an input, as ``ExplainJob/explain(_:_:)`` computes it.
public struct MethodExplanation: Sendable {
    /// The method.
    public var method: ExplanationMethod
    /// The explanation's map: `[rows, columns]` for images, `[tokens]` for text, with a leading
    /// `layers` axis for `attn-grad` (what `vitlens explain` writes as `relevance.npy`).
    public var map: Tensor
    /// The map drawn: ``map``, summed over layers for `attn-grad` (what `relevance.png` shows).
    public var shown: Tensor
    /// The target's value on the input.
    public var targetValue: Float
    /// The map in colormap colours at the model-input size (images); nil for text, whose tokens are coloured in the page.
    public var picture: ReportPicture?
    /// Seconds for the forward and backward pass.
    public var seconds: Double

    /// A short description of `method` for captions.
    public static func describe(_ method: ExplanationMethod) -> String {
        switch method {
        case .chefer: return "Chefer et al. 2021 relevance: gradient-weighted attention (positive part, mean over heads) accumulated over the layers"
        case .gradientRollout: return "gradient-weighted attention rollout: identity added, rows renormalised, all layers multiplied"
        case .attentionGradient: return "attention x gradient of each layer, summed over the layers"
        case .inputGradient: return "input x gradient: the norm of embedding x its gradient per token"
        }
    }
}
