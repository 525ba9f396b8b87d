import Foundation
import ViTLens

/// `GET /api/inputs/ID/explain`: a gradient explanation through the library's ``ExplainJob``, run on
/// the forward queue (one backward pass at a time) and kept per (method, target) with the input.
extension Explorer {
    /// The parameters the explain route takes (besides `format`).
    static let explainParameters: Set<String> = ["method", "target"]

    /// The explanation of `p["target"]` (default `top1` for classifiers, else required) by `p["method"]`
    /// (default `chefer`); `cached` in the answer says whether it was computed before.
    func explain(_ e: CachedInput, _ p: QueryParameters) async throws -> ArrayAnswer {
        let methodName = try p.choice("method", ExplanationMethod.allCases.map(\.rawValue), default: ExplanationMethod.chefer.rawValue)
        guard let method = ExplanationMethod(rawValue: methodName) else { throw ExplorerError.badRequest("unknown method '\(methodName)'") }
        let classifier = e.model.session.vision?.model.classCount != nil
        guard let targetText = p["target"] ?? (classifier ? "top1" : nil) else {
            throw ExplorerError.badRequest("target is required for \(e.model.name) (no classifier): use similar-input:ID or token:I,J")
        }
        let key = "\(method.rawValue)\n\(targetText)"
        if var hit = e.explanations[key] {
            hit.add("cached", true)
            return hit
        }
        var job = ExplainJob()
        job.method = method
        var spec = try ExplainTarget(targetText, in: self, for: e)
        defer { spec.cleanUp() }
        job.target = spec.spec
        let session = e.model.session, input = e.input, configured = job
        let result: ExplainJob.Result
        do {
            result = try await forwards.run { try configured.explain(session, input) }
        } catch let error as TargetSpecError {
            throw spec.error(error.description)
        } catch let error as GradientTargetError {
            throw spec.error(error.description)
        }
        var answer = ArrayAnswer(shape: result.explanation.map.shape, values: result.explanation.map.values)
        answer.add("method", method.rawValue)
        answer.add("target", targetText)
        answer.add("target_value", Double(result.value))
        answer.add("class_index", result.classIndex)
        answer.add("label", result.classIndex.flatMap { session.vision?.model.labels[$0] })
        answer.add("layers", result.explanation.layers.map { [$0.lowerBound, $0.upperBound] })
        answer.add("readout", result.explanation.readout?.description)
        answer.add("head_fusion", method == .inputGradient ? nil : job.options.fusion.rawValue)
        answer.add("input", e.name)
        answer.addFields(of: session.provenance(for: input))
        e.explanations.insert(answer, for: key)
        store.recount(e)
        answer.add("cached", false)
        return answer
    }
}

/// The API's `target` parameter: the library's ``TargetSpec`` spellings without server-side paths
/// (`similar:` and `similar-text:` are refused), plus `similar-input:ID` naming another uploaded input
/// of the same model (the other image, as decoded, is handed to `similar:` as a lossless PNG in a private
/// temporary folder, removed afterwards).
struct ExplainTarget {
    let text: String
    private(set) var spec: TargetSpec
    private var folder: URL?

    /// The start of the private temporary folder's name.
    static let folderPrefix = "vitlens-explorer-similar-"

    init(_ text: String, in explorer: Explorer, for e: CachedInput) throws {
        self.text = text
        let prefix = "similar-input:"
        guard text.hasPrefix(prefix) else {
            do { spec = try TargetSpec(parsing: text) } catch let error as TargetSpecError {
                throw Self.error(text, error.description)
            }
            switch spec {
            case .similar, .similarText:
                throw Self.error(text, "the explorer takes no server-side files or texts here; upload the other input and use similar-input:ID")
            case .top1, .classIndex, .label:
                guard e.model.session.vision?.model.classCount != nil else {
                    throw Self.error(text, "\(e.model.name) has no classifier; use similar-input:ID or token:I,J")
                }
            case .tokens: break
            }
            return
        }
        let id = String(text.dropFirst(prefix.count))
        let other = try explorer.input(id)
        guard other.id != e.id else { throw Self.error(text, "an input compared with itself has similarity 1 everywhere; name another input") }
        guard other.model.id == e.model.id else {
            throw Self.error(text, "input \(other.id) was uploaded for model \(other.model.id), this one for \(e.model.id); both need the same model")
        }
        switch other.input.source {
        case .text(let sentence, _):
            guard e.input.encoding != nil else { throw Self.error(text, "input \(other.id) is text and this one an image") }
            spec = .similarText(sentence)
        case .attentions:
            throw Self.error(text, "input \(other.id) is a saved attention array, not an image or a sentence")
        case .image(let prepared):
            guard e.input.canvas != nil else { throw Self.error(text, "input \(other.id) is an image and this one text") }
            let bytes = try ImageIO.encodePNG(prepared.original)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(Self.folderPrefix + ServerConfiguration.randomToken(bytes: 8))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
            let file = folder.appendingPathComponent("other.png")
            do { try bytes.write(to: file, options: .withoutOverwriting) } catch {
                try? FileManager.default.removeItem(at: folder)
                throw error
            }
            spec = .similar(file: file.path)
            self.folder = folder
        }
    }

    /// Removes the temporary file and folder this target wrote (nothing else).
    mutating func cleanUp() {
        guard let folder else { return }
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("other.png"))
        try? FileManager.default.removeItem(at: folder)
        self.folder = nil
    }

    /// A library error about this target, as a 400 naming the parameter (a temporary path replaced by the input's id).
    func error(_ message: String) -> ExplorerError {
        guard case .similar(let path) = spec else { return Self.error(text, message) }
        return Self.error(text, message.replacingOccurrences(of: "similar:" + path, with: text).replacingOccurrences(of: path, with: text))
    }

    /// `target=TEXT: reason`, without the CLI's `--target TEXT: ` where the library's message has it.
    static func error(_ text: String, _ reason: String) -> ExplorerError {
        let cli = "--target \(text): "
        return .badRequest("target=\(QueryParameters.clip(text)): " + (reason.hasPrefix(cli) ? String(reason.dropFirst(cli.count)) : reason))
    }
}
