import Foundation
import ViTLens

/// A finished report: one card per model and one section per input, ready for ``ReportHTML``.
///
/// Build it with ``ReportJob``; every number and picture in it comes from the same library calls as
/// the CLI's `heads`, `rollout` and `distance`.
public struct Report: Sendable {
    /// The generator string written into the page's `<meta name="generator">` (`ViTLens 0.1.0`).
    public var generator = ReportHTML.generatorPrefix + ViTLensVersion.current
    /// When the report was built.
    public var created = Date()
    /// The models used, image model first.
    public var models: [ModelCard] = []
    /// The inputs in the order given: images, then sentences; failed inputs keep their place.
    public var sections: [ReportSection] = []
    /// DINO mask mass fraction used for every image.
    public var threshold = 0.6
    /// How maps became pictures.
    public var style = RenderStyle()
    /// Whether explanations were asked for (``ReportJob/explainMethods`` not empty): the page then
    /// has an explanation part in every input section, the maps or a note why there are none.
    public var explained = true

    /// Creates an empty report.
    public init() {}

    /// The inputs that failed, in order.
    public var failures: [ReportFailure] {
        sections.compactMap { if case .failure(let f) = $0 { return f } else { return nil } }
    }
}

/// One input's part of a report.
public enum ReportSection: Sendable {
    /// An analysed image.
    case image(ImageReport)
    /// An analysed sentence.
    case text(TextReport)
    /// An input that could not be analysed, with its one-line reason.
    case failure(ReportFailure)
}

/// An input that failed: its name and the one-line reason.
public struct ReportFailure: Sendable, Equatable {
    /// The image path or the sentence.
    public var input: String
    /// The error's one-line description.
    public var reason: String

    /// A failure of `input` for `reason`.
    public init(input: String, reason: String) {
        self.input = input
        self.reason = reason
    }
}

/// One encoded picture and the value range its colours stand for.
public struct ReportPicture: Sendable, Equatable {
    /// PNG bytes.
    public var png: Data
    /// The raw map value drawn as the colormap's first colour.
    public var low: Float
    /// The raw map value drawn as the colormap's last colour.
    public var high: Float

    /// A picture of `png` for the range `low ... high`.
    public init(png: Data, low: Float, high: Float) {
        self.png = png
        self.low = low
        self.high = high
    }
}

/// Everything a report shows for one image.
public struct ImageReport: Sendable {
    /// The image as given.
    public var name: String
    /// The model input after resize and crop, `[height, width]`.
    public var inputSize: [Int]
    /// Prefix tokens and patch grid of the input.
    public var layout: TokenLayout
    /// The query of the per-layer maps (CLS, or token 0 for a model without CLS).
    public var query: TokenQuery
    /// The model input as a PNG (the backdrop of every map).
    public var canvas: Data
    /// The classifier's top 5, or nil when the model has no classifier.
    public var prediction: [ClassScore]?
    /// Per layer, the query's attention over the patches for every head, `[heads, rows, columns]`
    /// (what `vitlens heads --layer l` writes as `cls_attention.npy`).
    public var maps: [Tensor]
    /// Per layer, one picture per head and the head mean last.
    public var mapPictures: [[ReportPicture]]
    /// DINO masks of the last layer's heads.
    public var masks: MaskStack
    /// One picture per head of the last layer's masks (white = kept).
    public var maskPictures: [Data]
    /// Attention rollout over all layers (what `vitlens rollout` writes as `rollout.npy`).
    public var rollout: Tensor
    /// The rollout picture.
    public var rolloutPicture: ReportPicture
    /// Mean attention distance in pixels, `[layers, heads]`, of this image alone.
    public var distances: Tensor
    /// The distance plot as an SVG document.
    public var distancePlot: String
    /// Seconds for the forward pass with all analyses.
    public var seconds: Double
    /// Gradient explanations, or nil (see ``explanationNote``).
    public var explanation: ExplanationReport? = nil
    /// Why there is no explanation (the model has no classifier and no target was given).
    public var explanationNote: String? = nil
}

/// Everything a report shows for one sentence.
public struct TextReport: Sendable {
    /// The sentence.
    public var text: String
    /// Its tokens, `[CLS]` and `[SEP]` included.
    public var tokens: [String]
    /// Tokens before truncation (equal to `tokens.count` unless cut).
    public var untruncatedCount: Int
    /// Every layer's attention, `[layers, heads, T, T]`.
    public var attentions: Tensor
    /// One head view (inline SVG) per layer, or nil when the sentence has more tokens than
    /// ``ReportJob/headViewMaxTokens``.
    public var headViews: [String]?
    /// Per layer, the `T x T` matrix picture of every head and the head mean last (one pixel per cell).
    public var matrices: [[ReportPicture]]
    /// Seconds for the forward pass.
    public var seconds: Double
    /// Gradient explanations, or nil (see ``explanationNote``).
    public var explanation: ExplanationReport? = nil
    /// Why there is no explanation (no target was given).
    public var explanationNote: String? = nil
}
