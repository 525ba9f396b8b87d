import Foundation
import ViTLens

/// One uploaded input with everything computed by its single forward pass.
final class CachedInput: @unchecked Sendable {
    let id: String
    let model: ServedModel
    let input: AnalysisInput
    /// The name the client gave (display only).
    let name: String
    let attention: StoredAttention
    /// The model-input image as PNG (images only).
    let canvasPNG: Data?
    /// Mean attention distance `[layers, heads]`, published and renormalised (images only).
    let distance: [Float]?
    let distanceRenormalized: [Float]?
    let prediction: [ClassScore]?
    /// Explanations already computed, by ``ExplanationKey``.
    let explanations = ExplanationCache()

    init(id: String, model: ServedModel, input: AnalysisInput, name: String, attention: StoredAttention, canvasPNG: Data?,
         distance: [Float]?, distanceRenormalized: [Float]?, prediction: [ClassScore]?) {
        self.id = id
        self.model = model
        self.input = input
        self.name = name
        self.attention = attention
        self.canvasPNG = canvasPNG
        self.distance = distance
        self.distanceRenormalized = distanceRenormalized
        self.prediction = prediction
    }

    /// The bytes this input holds in the store: its attention and its explanations.
    var bytes: Int { attention.bytes + explanations.bytes }

    var layout: TokenLayout { input.layout }

    /// The API's `Input` description.
    var info: InputInfo {
        InputInfo(id: id, model: model.id, kind: input.encoding == nil ? "image" : "text", name: name, layers: attention.layers,
                  heads: attention.heads, layout: LayoutInfo(layout), width: input.canvas?.width, height: input.canvas?.height,
                  tokens: input.encoding?.tokens, prediction: prediction,
                  cache: CacheInfo(mode: attention.mode.rawValue, dtype: attention.dtype.rawValue, bytes: attention.bytes,
                                   recompute: attention.recomputeNeeded))
    }
}

/// The inputs kept, least recently used first out, within a byte budget.
final class AttentionStore: @unchecked Sendable {
    let budget: Int
    private let lock = NSLock()
    private var entries: [String: CachedInput] = [:]
    /// Ids, most recently used last.
    private var order: [String] = []
    /// What each kept input was charged with (its ``CachedInput/bytes`` when last counted).
    private var charged: [String: Int] = [:]
    private(set) var bytes = 0

    init(budget: Int) { self.budget = budget }

    /// Adds `entry`, dropping the least recently used inputs until it fits.
    func insert(_ entry: CachedInput) {
        lock.withLock {
            let size = entry.bytes
            while bytes + size > budget, let oldest = order.first { dropLocked(oldest) }
            entries[entry.id] = entry
            order.append(entry.id)
            charged[entry.id] = size
            bytes += size
        }
    }

    /// Counts `entry` again after it grew (a cached explanation), dropping other inputs, least
    /// recently used first, until the store fits its budget again; false when `entry` itself was dropped meanwhile.
    @discardableResult
    func recount(_ entry: CachedInput) -> Bool {
        lock.withLock {
            guard let old = charged[entry.id] else { return false }
            let size = entry.bytes
            bytes += size - old
            charged[entry.id] = size
            while bytes > budget, let oldest = order.first(where: { $0 != entry.id }) { dropLocked(oldest) }
            return true
        }
    }

    /// The input `id`, marked as just used.
    func get(_ id: String) -> CachedInput? {
        lock.withLock {
            guard let e = entries[id] else { return nil }
            order.removeAll { $0 == id }
            order.append(id)
            return e
        }
    }

    /// Removes `id`; false when it was not there.
    @discardableResult
    func remove(_ id: String) -> Bool { lock.withLock { entries[id] == nil ? false : { dropLocked(id); return true }() } }

    /// Every input, most recently used first.
    func all() -> [CachedInput] { lock.withLock { order.reversed().compactMap { entries[$0] } } }

    private func dropLocked(_ id: String) {
        if entries.removeValue(forKey: id) != nil { bytes -= charged.removeValue(forKey: id) ?? 0 }
        order.removeAll { $0 == id }
    }
}
