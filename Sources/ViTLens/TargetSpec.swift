import Foundation

/// The scalar an explanation explains, as the CLI's `--target` names it; ``resolve(in:for:)``
/// turns it into a ``GradientTarget`` for one input.
///
/// | spelling | target | models |
/// |---|---|---|
/// | `top1` | ``GradientTarget/topClassLogit`` (the predicted class) | classifiers |
/// | `class:N` | ``GradientTarget/classLogit(_:)`` | classifiers |
/// | `label:NAME` | the class whose `id2label` name is exactly NAME | classifiers |
/// | `similar:FILE` | ``GradientTarget/pooledCosine(to:)`` to FILE's pooled embedding (same model and `--size`) | images |
/// | `similar-text:TEXT` | ``GradientTarget/meanPooledCosine(to:)`` to TEXT's mean-pooled embedding | text |
/// | `token:I,J` | ``GradientTarget/tokenCosine(token:to:)`` | both |
public enum TargetSpec: Sendable, Equatable, CustomStringConvertible {
    case top1
    case classIndex(Int)
    case label(String)
    case similar(file: String)
    case similarText(String)
    case tokens(Int, Int)

    /// The spellings, for help and errors.
    public static let forms = "top1, class:N, label:NAME, similar:IMAGE, similar-text:TEXT, token:I,J"

    /// Parses a `--target` value.
    /// - Throws: ``TargetSpecError/malformed(_:reason:)``.
    public init(parsing text: String) throws {
        if text == "top1" { self = .top1; return }
        guard let colon = text.firstIndex(of: ":") else { throw TargetSpecError.malformed(text, reason: "use one of \(Self.forms)") }
        let kind = String(text[..<colon]), value = String(text[text.index(after: colon)...])
        guard !value.isEmpty else { throw TargetSpecError.malformed(text, reason: "nothing follows '\(kind):'") }
        switch kind {
        case "class":
            guard let n = Int(value) else { throw TargetSpecError.malformed(text, reason: "class:N needs an integer class index") }
            self = .classIndex(n)
        case "label": self = .label(value)
        case "similar": self = .similar(file: value)
        case "similar-text": self = .similarText(value)
        case "token":
            let parts = value.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let i = parts[0], let j = parts[1] else {
                throw TargetSpecError.malformed(text, reason: "token:I,J needs two integer token indices")
            }
            self = .tokens(i, j)
        default: throw TargetSpecError.malformed(text, reason: "unknown kind '\(kind)'; use one of \(Self.forms)")
        }
    }

    /// The spelling as given on the command line.
    public var description: String {
        switch self {
        case .top1: return "top1"
        case .classIndex(let n): return "class:\(n)"
        case .label(let l): return "label:\(l)"
        case .similar(let f): return "similar:\(f)"
        case .similarText(let t): return "similar-text:\(t)"
        case .tokens(let i, let j): return "token:\(i),\(j)"
        }
    }

    /// The gradient target for `input`, with the class it names where it names one before the pass.
    ///
    /// `similar:` prepares the other image through `session` at the input's requested size and runs
    /// one plain forward; `similar-text:` encodes and runs the other sentence once.
    /// - Throws: ``TargetSpecError`` or `GradientTargetError` (one line each), or the other input's
    ///   error naming its file.
    public func resolve(in session: AnalysisSession, for input: AnalysisInput) throws -> (target: GradientTarget, classIndex: Int?) {
        switch self {
        case .top1: return (.topClassLogit, nil)
        case .classIndex(let n): return (.classLogit(n), n)
        case .label(let name):
            let (labels, modelType) = (session.vision?.model.labels ?? [:], session.vision?.model.modelType ?? session.text?.model.modelType ?? "")
            guard session.vision?.model.classCount != nil else { throw GradientTargetError.noClassifier(modelType: modelType) }
            if let index = labels.filter({ $0.value == name }).keys.min() { return (.classLogit(index), index) }
            throw TargetSpecError.unknownLabel(name, nearest: EditDistance.nearest(name, in: labels.sorted { $0.key < $1.key }.map(\.value), count: 5))
        case .similar(let file):
            guard let vision = session.vision else { throw TargetSpecError.needsImageModel(description) }
            let size = input.requestedSize.flatMap { $0.count == 2 ? (height: $0[0], width: $0[1]) : nil }
            let other: PreparedImage
            do { other = try vision.prepare(URL(fileURLWithPath: file), size: size) } catch {
                throw TargetSpecError.otherInput(description, reason: "\(error)")
            }
            var none = NoObserver()
            let output = try vision.run(other, observer: &none)
            let d = output.hiddenState.shape.last ?? 0
            return (.pooledCosine(to: output.pooled?.values ?? Array(output.hiddenState.values.prefix(d))), nil)
        case .similarText(let sentence):
            guard let text = session.text else { throw TargetSpecError.needsTextModel(description) }
            let encoding: TextEncoding
            do { encoding = try text.encode(sentence, truncate: true) } catch { throw TargetSpecError.otherInput(description, reason: "\(error)") }
            var none = NoObserver()
            let hidden = try text.run(encoding, observer: &none).hiddenState
            return (.meanPooledCosine(to: Self.meanRows(hidden)), nil)
        case .tokens(let i, let j): return (.tokenCosine(token: i, to: j), nil)
        }
    }

    /// The mean of the rows of `[N, D]` (sums in Double), sentence-transformers' mean pooling.
    static func meanRows(_ t: Tensor) -> [Float] {
        guard t.shape.count == 2, t.shape[0] > 0 else { return [] }
        let (n, d) = (t.shape[0], t.shape[1])
        var sum = [Double](repeating: 0, count: d)
        for r in 0 ..< n { for c in 0 ..< d { sum[c] += Double(t.values[r * d + c]) } }
        return sum.map { Float($0 / Double(n)) }
    }
}
