import Foundation
import ViTLens

/// The explorer's engine, free of HTTP: models loaded once, one forward pass per uploaded input,
/// attention kept in a bounded cache, and every view (maps, rollout, masks, distances) answered from it.
/// The routes parse requests and call it; tests call it directly too.
public final class Explorer: Sendable {
    public let configuration: ServerConfiguration
    public let models: [ServedModel]
    let store: AttentionStore
    let forwards = ForwardQueue()

    /// - Throws: ``ExplorerError/badRequest(_:)`` without models.
    public init(models: [ServedModel], configuration: ServerConfiguration) throws {
        guard !models.isEmpty else { throw ExplorerError.badRequest("serve needs at least one --model") }
        self.models = models
        self.configuration = configuration
        store = AttentionStore(budget: configuration.cacheBytes)
    }

    func model(_ id: String?) throws -> ServedModel {
        guard let id else { return models[0] }
        guard let m = models.first(where: { $0.id == id }) else {
            throw ExplorerError.notFound("no model '\(QueryParameters.clip(id))'; models: \(models.map(\.id).joined(separator: ", "))")
        }
        return m
    }

    func input(_ id: String) throws -> CachedInput {
        guard let e = store.get(id) else {
            if id.count == 16, id.allSatisfy(\.isHexDigit) { throw ExplorerError.evicted(id) }
            throw ExplorerError.notFound("no input '\(QueryParameters.clip(id))'")
        }
        return e
    }

    var modelInfos: [ModelInfo] {
        models.map { m in
            if let v = m.session.vision {
                let size = v.processor.outputSize(height: 1024, width: 1024, size: nil)
                let layout = v.model.layout(height: size.height, width: size.width)
                return ModelInfo(id: m.id, name: m.name, modelType: v.model.modelType, kind: "image", layers: v.model.observedLayers,
                                 heads: v.model.spec.heads, patchSize: v.model.patchSize, defaultSize: [size.height, size.width],
                                 prefix: layout.prefix.map(\.rawValue), classifier: !v.model.labels.isEmpty,
                                 labels: v.model.classCount.map { n in (0 ..< n).map { v.model.labels[$0] ?? String($0) } })
            }
            let t = m.session.text!.model
            return ModelInfo(id: m.id, name: m.name, modelType: t.modelType, kind: "text", layers: t.spec.layers, heads: t.spec.heads,
                             patchSize: nil, defaultSize: nil, prefix: [], classifier: false)
        }
    }

    // MARK: - Uploads

    /// Decodes an uploaded image (pixel limit checked from its header), runs its forward pass and caches it.
    func uploadImage(_ data: Data, model id: String?, size: (height: Int, width: Int)?, name: String) async throws -> CachedInput {
        let m = try model(id)
        guard m.session.vision != nil else { throw ExplorerError.badRequest("model \(m.id) (\(m.name)) is a text model; send {\"text\": ...} as JSON") }
        let image = try ImageIO.decode(data, file: name, maxPixels: configuration.maxPixels)
        let input = try m.session.image(image, name: name, size: size)
        return try await cache(input, model: m, name: name)
    }

    /// Tokenizes a sentence for a text model, runs it and caches it.
    func uploadText(_ text: String, truncate: Bool, model id: String?) async throws -> CachedInput {
        let m = try model(id)
        guard m.session.text != nil else { throw ExplorerError.badRequest("model \(m.id) (\(m.name)) is an image model; upload an image") }
        guard !text.isEmpty else { throw ExplorerError.badRequest("text is empty") }
        let input = try m.session.sentence(text, truncate: truncate)
        return try await cache(input, model: m, name: input.name)
    }

    private func cache(_ input: AnalysisInput, model m: ServedModel, name: String) async throws -> CachedInput {
        let (layers, heads) = try Self.shape(of: m)
        let n = input.layout.tokenCount, prefix = input.layout.prefixCount
        let store = try StoredAttention(layers: layers, heads: heads, tokens: n, prefix: prefix, budget: configuration.cacheBytes,
                                        precision: configuration.cachePrecision, input: name)
        let isImage = input.canvas != nil
        let id = ServerConfiguration.randomToken(bytes: 8)
        let entry = try await forwards.run { () throws -> CachedInput in
            var observers = ObserverPair(StoreCapture(store: store), ObserverPair(MeanAttentionDistance(), MeanAttentionDistance(renormalize: true)))
            let output = isImage ? try m.session.run(input, observer: &observers) : try m.session.run(input, observer: &observers.first)
            var prediction: [ClassScore]?
            if case .vision(let v) = output, let logits = v.logits {
                prediction = ClassScore.top(logits, labels: m.session.vision?.model.labels ?? [:])
            }
            let png = try input.canvas.map { try ImageIO.encodePNG($0) }
            return CachedInput(id: id, model: m, input: input, name: name, attention: store, canvasPNG: png,
                               distance: isImage ? observers.second.first.result?.mean.values : nil,
                               distanceRenormalized: isImage ? observers.second.second.result?.mean.values : nil, prediction: prediction)
        }
        self.store.insert(entry)
        return entry
    }

    static func shape(of m: ServedModel) throws -> (layers: Int, heads: Int) {
        if let v = m.session.vision { return (v.model.observedLayers, v.model.spec.heads) }
        if let t = m.session.text { return (t.model.spec.layers, t.model.spec.heads) }
        throw ExplorerError.badRequest("model \(m.id) has no encoder")
    }
}

extension StoredAttention {
    /// Chooses how to keep an input's attention under `budget` (docs/API.md, `cache`).
    /// - Throws: ``ExplorerError/badRequest(_:)`` when not even the partial store fits.
    convenience init(layers: Int, heads: Int, tokens n: Int, prefix: Int, budget: Int,
                     precision: ServerConfiguration.CachePrecision, input: String) throws {
        func size(_ m: Mode, _ d: DType) -> Int { Self.bytes(layers: layers, heads: heads, tokens: n, prefix: prefix, mode: m, dtype: d) }
        let choice: (Mode, DType)
        switch precision {
        case .automatic:
            if size(.full, .float32) <= budget / 4 { choice = (.full, .float32) }
            else if size(.full, .float16) <= budget { choice = (.full, .float16) }
            else { choice = (.partial, .float16) }
        case .float32: choice = size(.full, .float32) <= budget ? (.full, .float32) : (.partial, .float32)
        case .float16: choice = size(.full, .float16) <= budget ? (.full, .float16) : (.partial, .float16)
        }
        guard size(choice.0, choice.1) <= budget else {
            throw ExplorerError.badRequest("\(input): \(n) tokens need \(size(choice.0, choice.1)) bytes of attention cache even when "
                + "keeping only the prefix rows and the last layer; the budget (--cache-memory) is \(budget)")
        }
        self.init(layers: layers, heads: heads, tokens: n, prefix: prefix, mode: choice.0, dtype: choice.1)
    }
}
