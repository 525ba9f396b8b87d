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
    private(set) var bytes = 0

    init(budget: Int) { self.budget = budget }

    /// Adds `entry`, dropping the least recently used inputs until it fits.
    func insert(_ entry: CachedInput) {
        lock.withLock {
            while bytes + entry.attention.bytes > budget, let oldest = order.first { dropLocked(oldest) }
            entries[entry.id] = entry
            order.append(entry.id)
            bytes += entry.attention.bytes
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
        if let e = entries.removeValue(forKey: id) { bytes -= e.attention.bytes }
        order.removeAll { $0 == id }
    }
}
