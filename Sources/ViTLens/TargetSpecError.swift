/// A `--target` that cannot be parsed or does not fit the model: one line each.
public enum TargetSpecError: Error, CustomStringConvertible, Equatable {
    /// A spelling that is not one of ``TargetSpec/forms``.
    case malformed(String, reason: String)
    /// `label:NAME` with no class of that exact name; `nearest` are the closest names by edit distance.
    case unknownLabel(String, nearest: [String])
    /// `similar:` on a text model.
    case needsImageModel(String)
    /// `similar-text:` on an image model.
    case needsTextModel(String)
    /// The other image or sentence could not be read.
    case otherInput(String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let t, let r): return "--target \(t): \(r)"
        case .unknownLabel(let l, let near):
            let list = near.isEmpty ? "the model has no id2label names" : "nearest labels: " + near.map { "\"\($0)\"" }.joined(separator: ", ")
            return "--target label:\(l): no class of the model is labelled \"\(l)\" (exact id2label name); \(list)"
        case .needsImageModel(let t): return "--target \(t) needs an image model; for text use similar-text:TEXT or token:I,J"
        case .needsTextModel(let t): return "--target \(t) needs a text model; for images use similar:IMAGE, class:N, label:NAME or top1"
        case .otherInput(let t, let r): return "--target \(t): \(r)"
        }
    }
}

/// Levenshtein distance, for "did you mean" lists.
enum EditDistance {
    /// The edit distance between `a` and `b` (insertions, deletions, substitutions of characters).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0 ... b.count)
        for i in 1 ... max(1, a.count) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1 ... max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Up to `count` of `names` closest to `name` (ties keep the order of `names`).
    static func nearest(_ name: String, in names: [String], count: Int) -> [String] {
        let lower = name.lowercased()
        return names.enumerated().map { (d: distance(lower, $0.element.lowercased()), i: $0.offset, name: $0.element) }
            .sorted { ($0.d, $0.i) < ($1.d, $1.i) }.prefix(count).map(\.name)
    }
}
