import Foundation

/// One input's explanations, each computed once per (method, target) and kept while the input is;
/// their bytes count in the explorer's memory budget (``AttentionStore/recount(_:)``).
final class ExplanationCache: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: ArrayAnswer] = [:]
    private var total = 0

    /// The cached answer for `key`.
    subscript(_ key: String) -> ArrayAnswer? { lock.withLock { answers[key] } }

    /// Keeps `answer` under `key` (a second store of the same key keeps the first).
    func insert(_ answer: ArrayAnswer, for key: String) {
        lock.withLock {
            guard answers[key] == nil else { return }
            answers[key] = answer
            total += answer.estimatedBytes
        }
    }

    /// How many answers are kept.
    var count: Int { lock.withLock { answers.count } }

    /// The bytes the kept answers take (values and fields, approximately).
    var bytes: Int { lock.withLock { total } }
}
