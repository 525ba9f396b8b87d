import Foundation
import ViTLens

/// The views: every answer is sliced from the cached attention, or recomputed by a new forward pass
/// when a partial cache lacks it (`recomputed` is then set).
extension Explorer {
    /// `GET /api/inputs/ID/attention` (docs/API.md).
    func attention(_ e: CachedInput, _ p: QueryParameters) async throws -> ArrayAnswer {
        let a = e.attention, layout = e.layout, n = a.tokens
        let allLayers = p["layer"] == "all"
        let layers = allLayers ? Array(0 ..< a.layers) : [try e.input.layerIndex(try p.int("layer", default: -1), option: "layer")]
        let fusion: HeadFusion?
        if let f = p["fusion"] {
            guard p["head"] == nil else { throw ExplorerError.badRequest("give head or fusion, not both") }
            fusion = try Self.fusion(f, allowStd: true)
        } else { fusion = nil }
        let allHeads = fusion == nil && (p["head"] ?? "all") == "all"
        var heads = Array(0 ..< a.heads)
        if fusion == nil, !allHeads {
            let h = try p.int("head", default: 0)
            guard h >= 0, h < a.heads else { throw ExplorerError.badRequest("head \(h) is out of range: the model has \(a.heads) heads (0...\(a.heads - 1))") }
            heads = [h]
        }
        let choice = try QueryChoice(p["query"])
        let queries = try choice.indices(in: layout, input: e.name, layer: layers.count == 1 ? layers[0] : nil)
        let keysAll = try p.choice("keys", ["patches", "all"], default: layout.grid == nil ? "all" : "patches") == "all"
        guard keysAll || layout.grid != nil else { throw ExplorerError.badRequest("keys=patches needs an image input; text has keys=all") }
        let keyCount = keysAll ? n : layout.patchRange.count
        let perRow = fusion == nil ? heads.count : 1
        let total = layers.count * perRow * queries.count * keyCount
        guard total <= configuration.maxAnswerValues else {
            throw ExplorerError.badRequest("the answer would hold \(total) values, above the limit of \(configuration.maxAnswerValues); narrow the request (one layer, one head or one query)")
        }
        let (rows, recomputed) = try await rows(e, layers: layers, queries: queries)
        var values = [Float](), prefixValues = [Float]()
        values.reserveCapacity(total)
        let p0 = layout.prefixCount
        for l in layers {
            for q in queries {
                guard let r = rows[l]?[q] else { throw ExplorerError.badRequest("no attention for layer \(l), query \(q)") }
                var selected: [ArraySlice<Float>] = []
                if let fusion {
                    selected = [try fusion.fuse(Tensor(shape: [a.heads, n], values: r)).values[...]]
                } else {
                    selected = heads.map { r[($0 * n) ..< (($0 + 1) * n)] }
                }
                for row in selected {
                    values += keysAll ? row : row[(row.startIndex + p0)...]
                    if !keysAll { prefixValues += row[row.startIndex ..< (row.startIndex + p0)] }
                }
            }
        }
        // Values were gathered layer, query, head; the documented order is layer, head, query.
        if perRow > 1 && queries.count > 1 { values = Self.swapHeadQuery(values, layers: layers.count, queries: queries.count, heads: perRow, width: keyCount) }
        if perRow > 1 && queries.count > 1 && !keysAll { prefixValues = Self.swapHeadQuery(prefixValues, layers: layers.count, queries: queries.count, heads: perRow, width: p0) }
        var lead: [Int] = []
        if allLayers { lead.append(layers.count) }
        if allHeads { lead.append(heads.count) }
        if choice == .all { lead.append(queries.count) }
        let keyShape = keysAll ? [n] : [layout.grid!.rows, layout.grid!.columns]
        var answer = ArrayAnswer(shape: lead + keyShape, values: values)
        answer.add("layer", allLayers ? nil : layers[0])
        answer.add("heads", fusion.map { [$0.description] } ?? heads.map(String.init))
        if choice != .all {
            let q = try choice.token(in: layout, input: e.name)
            answer.add("query", QueryLabel(index: queries[0], label: q.description))
        }
        if !keysAll { answer.add("prefix", PrefixAnswer(shape: lead + [p0], tokens: layout.prefix.map(\.rawValue), values: prefixValues)) }
        answer.recomputed = recomputed
        return answer
    }

    /// Rows `[layer][query] -> [heads * N]` from the cache, or from a new forward pass for what a partial cache lacks.
    func rows(_ e: CachedInput, layers: [Int], queries: [Int]) async throws -> (rows: [Int: [Int: [Float]]], recomputed: Bool) {
        var out: [Int: [Int: [Float]]] = [:]
        var missing = Set<Int>()
        for l in layers {
            for q in queries {
                if let r = e.attention.rows(layer: l, query: q) { out[l, default: [:]][q] = r } else { missing.insert(l) }
            }
        }
        guard !missing.isEmpty else { return (out, false) }
        let session = e.model.session, input = e.input, needed = missing
        let captured = try await forwards.run { () throws -> [Int: [Int: [Float]]] in
            var capture = RowCapture(layers: needed, queries: queries)
            try session.run(input, observer: &capture)
            return capture.rows
        }
        for (l, byQuery) in captured { out[l] = byQuery }
        return (out, true)
    }

    /// `GET /api/inputs/ID/rollout`.
    func rollout(_ e: CachedInput, _ p: QueryParameters) async throws -> ArrayAnswer {
        var options = Rollout.Options()
        options.fusion = try Self.fusion(p["fusion"] ?? "mean", allowStd: false)
        options.residual = switch try p.choice("residual", ["identity", "half", "none"], default: "identity") {
        case "half": .halfIdentity
        case "none": .none
        default: .identityRenormalized
        }
        options.discardRatio = try p.double("discard", default: 0, in: 0 ... 0.999_999)
        options.discardMode = try p.choice("discard_mode", ["per-row", "global"], default: "per-row") == "global" ? .global : .perRow
        let first = try e.input.layerIndex(try p.int("first_layer", default: 0), option: "first_layer")
        let last = try e.input.layerIndex(try p.int("last_layer", default: -1), option: "last_layer")
        guard first <= last else { throw ExplorerError.badRequest("first_layer \(first) is after last_layer \(last)") }
        (options.firstLayer, options.lastLayer) = (first, last)
        let choice = try QueryChoice(p["query"])
        options.readout = choice == .meanOfPatches ? .meanOfPatches : .query(try choice.token(in: e.layout, input: e.name))
        let computed: RolloutResult?
        var recomputed = false
        if e.attention.mode == .full {
            var rollout = try Rollout(options)
            try e.attention.replay(into: &rollout, layout: e.layout)
            computed = rollout.result
        } else {
            let session = e.model.session, input = e.input, chosen = options
            computed = try await forwards.run { () throws -> RolloutResult? in
                var r = try Rollout(chosen)
                try session.run(input, observer: &r)
                return r.result
            }
            recomputed = true
        }
        guard let result = computed else { throw ExplorerError.badRequest("rollout produced no result") }
        var answer = ArrayAnswer(shape: result.map.shape, values: result.map.values)
        answer.add("layers", [result.layers.lowerBound, result.layers.upperBound])
        answer.add("cls_mass", result.clsMass.map(Double.init))
        answer.add("prefix_mass", Double(result.prefixMass))
        answer.recomputed = recomputed
        return answer
    }

    /// `GET /api/inputs/ID/masks`.
    func masks(_ e: CachedInput, _ p: QueryParameters) async throws -> ArrayAnswer {
        guard let grid = e.layout.grid else { throw ExplorerError.badRequest("masks need an image input") }
        let l = try e.input.layerIndex(try p.int("layer", default: -1), option: "layer")
        let threshold = try p.double("threshold", default: DINOMasks.defaultThreshold, in: 0 ... 1)
        guard threshold > 0 else { throw ExplorerError.badRequest("threshold must be in (0, 1], got 0") }
        let q = try QueryChoice(p["query"]).indices(in: e.layout, input: e.name, layer: l)[0]
        let (rows, recomputed) = try await rows(e, layers: [l], queries: [q])
        guard let r = rows[l]?[q] else { throw ExplorerError.badRequest("no attention for layer \(l)") }
        let n = e.attention.tokens, heads = e.attention.heads, range = e.layout.patchRange
        var maps = [Float]()
        for h in 0 ..< heads { maps += r[(h * n + range.lowerBound) ..< (h * n + range.upperBound)] }
        let masks = try DINOMasks.masks(Tensor(shape: [heads, grid.rows, grid.columns], values: maps), threshold: threshold)
        var answer = ArrayAnswer(shape: masks.shape, values: masks.values.map(Float.init))
        answer.add("layer", l)
        answer.add("threshold", threshold)
        answer.add("kept_mass", masks.keptMass)
        answer.recomputed = recomputed
        return answer
    }

    /// `GET /api/inputs/ID/distance`.
    func distance(_ e: CachedInput, _ p: QueryParameters) throws -> ArrayAnswer {
        let renormalize = try p.bool("renormalize")
        guard let values = renormalize ? e.distanceRenormalized : e.distance else {
            throw ExplorerError.badRequest("mean attention distance needs an image input")
        }
        var answer = ArrayAnswer(shape: [e.attention.layers, e.attention.heads], values: values)
        answer.add("unit", "pixels")
        answer.add("renormalize", renormalize)
        return answer
    }

    static func fusion(_ name: String, allowStd: Bool) throws -> HeadFusion {
        switch name {
        case "mean": return .mean
        case "max": return .max
        case "min": return .min
        case "std" where allowStd: return .std
        default: throw ExplorerError.badRequest("fusion must be mean, max, min\(allowStd ? " or std" : ""), got '\(QueryParameters.clip(name))'")
        }
    }

    /// Reorders `[layers, queries, heads, width]` to `[layers, heads, queries, width]`.
    static func swapHeadQuery(_ v: [Float], layers: Int, queries: Int, heads: Int, width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for l in 0 ..< layers {
            for q in 0 ..< queries {
                for h in 0 ..< heads {
                    let src = ((l * queries + q) * heads + h) * width, dst = ((l * heads + h) * queries + q) * width
                    for k in 0 ..< width { out[dst + k] = v[src + k] }
                }
            }
        }
        return out
    }
}

/// The `query` field of an attention answer.
struct QueryLabel: Encodable {
    var index: Int
    var label: String
}

/// The `prefix` field: attention to each prefix token, `shape` = leading shape + `[prefix tokens]`.
struct PrefixAnswer: Encodable {
    var shape: [Int]
    var tokens: [String]
    var values: [Float]
}
