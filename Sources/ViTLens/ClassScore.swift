import Foundation

/// One class of a classifier's prediction: index, label and softmax probability.
public struct ClassScore: Sendable, Equatable, Codable {
    /// The class index.
    public var index: Int
    /// The name from `id2label` (`class N` when the config has none).
    public var label: String
    /// Softmax probability over all classes.
    public var probability: Double

    public init(index: Int, label: String, probability: Double) {
        self.index = index
        self.label = label
        self.probability = probability
    }

    /// The `count` most probable classes of `logits` (softmax over all of them, computed in Double;
    /// ties go to the lower index), as `dump`, `report` and `serve` show them.
    public static func top(_ logits: Tensor, labels: [Int: String], count: Int = 5) -> [ClassScore] {
        let v = logits.values
        let m = v.max() ?? 0
        let e = v.map { exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        return v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(count).map {
            ClassScore(index: $0, label: labels[$0] ?? "class \($0)", probability: e[$0] / s)
        }
    }
}
