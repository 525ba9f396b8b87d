import Foundation
import ViTLens

/// Builds a ``Report``: for each image one forward pass feeding rollout, mean attention distance and
/// the query's per-head maps in every layer; for each sentence one pass keeping every layer.
///
/// An input that fails (undecodable, too small, too long) becomes a ``ReportFailure`` section and the
/// others go on; ``Report/failures`` lists them.
/// ```swift
/// let session = try AnalysisSession(model: "path/to/dinov2-small")
/// let report = try ReportJob().run(imageModel: session, images: ["photo.jpg"])
/// try ReportFile.write(ReportHTML.render(report), to: "report.html")
/// ```
public struct ReportJob: Sendable {
    /// DINO mask mass fraction in (0, 1].
    public var threshold = 0.6
    /// Colormap, normalisation, upsampling and overlay weight of every picture.
    public var style = RenderStyle()
    /// Resize images straight to this size (no crop); nil lets the image processor decide.
    public var size: (height: Int, width: Int)?
    /// Cut sentences longer than the text model's maximum instead of failing them.
    public var truncate = false
    /// Longest sentence (in tokens) that gets a head view and its attention in the page's JSON;
    /// longer ones get the matrices only.
    public var headViewMaxTokens = 64
    /// The methods of each input's explanation section, the first shown first (default all four,
    /// `chefer` first); empty leaves explanations out (no backward passes).
    public var explainMethods = ExplanationMethod.allCases
    /// What the images' explanations explain (`top1`, `class:N`, `label:NAME`, `similar:IMAGE`,
    /// `token:I,J`); nil: `top1` when the image model has a classifier, else no explanation.
    public var imageTarget: TargetSpec?
    /// What the sentences' explanations explain (`similar-text:TEXT`, `token:I,J`); nil: no explanation.
    public var textTarget: TargetSpec?
    /// Called after each input (done or failed) with the count done, the total and the input's name.
    public var onProgress: (@Sendable (_ done: Int, _ total: Int, _ name: String) -> Void)?

    /// A job with the defaults (threshold 0.6, viridis, max normalisation, nearest upsampling, alpha 0.5,
    /// the four explanation methods for the predicted class of a classifier).
    public init() {}

    /// Analyses `images` with `imageModel` and `texts` with `textModel` into a report.
    /// - Throws: ``ReportError`` when images (or sentences) are given without a model of that kind,
    ///   or nothing is given at all. Failures of single inputs are not thrown: they are report sections.
    public func run(imageModel: AnalysisSession? = nil, images: [String] = [], textModel: AnalysisSession? = nil,
                    texts: [String] = []) throws -> Report {
        guard !images.isEmpty || !texts.isEmpty else { throw ReportError.noInputs }
        if !images.isEmpty, imageModel?.vision == nil { throw ReportError.needsImageModel(given: imageModel?.modelSpec) }
        if !texts.isEmpty, textModel?.text == nil { throw ReportError.needsTextModel(given: textModel?.modelSpec) }
        guard threshold > 0, threshold <= 1 else { throw AnalysisError.thresholdOutOfRange(threshold) }
        var report = Report()
        report.threshold = threshold
        report.style = style
        report.explained = !explainMethods.isEmpty
        if let imageModel, !images.isEmpty { report.models.append(try ModelCard(imageModel)) }
        if let textModel, !texts.isEmpty { report.models.append(try ModelCard(textModel)) }
        let total = images.count + texts.count
        var done = 0
        func step(_ name: String, _ body: () throws -> ReportSection) {
            do { report.sections.append(try body()) } catch {
                report.sections.append(.failure(ReportFailure(input: name, reason: "\(error)")))
            }
            done += 1
            onProgress?(done, total, name)
        }
        if let imageModel {
            for path in images { step(path) { .image(try imageReport(imageModel, path: path)) } }
        }
        if let textModel {
            for text in texts { step(Self.shortName(text)) { .text(try textReport(textModel, text: text)) } }
        }
        return report
    }

    /// A sentence as progress and failure lines name it: its first 40 characters, quoted.
    static func shortName(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return "\"" + (flat.count > 40 ? flat.prefix(39) + "…" : flat) + "\""
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// A report request that cannot be served (the inputs and the models do not match).
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// Neither images nor sentences were given.
    case noInputs
    /// Images were given without an image model (`given`: the model there is, if any).
    case needsImageModel(given: String?)
    /// Sentences were given without a text model.
    case needsTextModel(given: String?)

    public var description: String {
        switch self {
        case .noInputs: return "give at least one IMAGE or --text sentence"
        case .needsImageModel(let m):
            return "images need an image model (ViT, DeiT, DINO, DINOv2, CLIP)" + (m.map { "; --model \($0) is a text model" } ?? "")
        case .needsTextModel(let m):
            return "--text needs a text model (BERT family)" + (m.map { "; --model \($0) is an image model" } ?? "")
        }
    }
}
