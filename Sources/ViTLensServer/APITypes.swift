import Foundation
import ViTLens

/// `Model` in docs/API.md.
struct ModelInfo: Encodable {
    var id: String
    var name: String
    var modelType: String?
    var kind: String
    var layers: Int
    var heads: Int
    var patchSize: Int?
    var defaultSize: [Int]?
    var prefix: [String]
    var classifier: Bool
    /// The classifier's `id2label` names by class index (the index itself where a name is missing).
    var labels: [String]?

    enum CodingKeys: String, CodingKey {
        case id, name, modelType = "model_type", kind, layers, heads, patchSize = "patch_size", defaultSize = "default_size", prefix, classifier
        case labels
    }
}

/// `layout` in docs/API.md.
struct LayoutInfo: Encodable {
    struct Grid: Encodable {
        var rows: Int, columns: Int, patchSize: Int
        enum CodingKeys: String, CodingKey { case rows, columns, patchSize = "patch_size" }
    }
    var prefix: [String]
    var tokens: Int
    var grid: Grid?
    /// SigLIP's attention pooling head layer; absent for other models.
    var poolingHeadLayer: Int?
    enum CodingKeys: String, CodingKey { case prefix, tokens, grid, poolingHeadLayer = "pooling_head_layer" }

    init(_ layout: TokenLayout) {
        prefix = layout.prefix.map(\.rawValue)
        tokens = layout.tokenCount
        grid = layout.grid.map { Grid(rows: $0.rows, columns: $0.columns, patchSize: $0.patchSize) }
        poolingHeadLayer = layout.poolingHeadLayer
    }
}

/// `cache` in docs/API.md.
struct CacheInfo: Encodable {
    var mode: String
    var dtype: String
    var bytes: Int
    var recompute: [String]
}

/// `Input` in docs/API.md.
struct InputInfo: Encodable {
    var id: String
    var model: String
    var kind: String
    var name: String
    var layers: Int
    var heads: Int
    var layout: LayoutInfo
    var width: Int?
    var height: Int?
    var tokens: [String]?
    var prediction: [ClassScore]?
    var cache: CacheInfo
}

/// An array answer: `shape`, flat `values` and extra fields, as JSON or raw float32.
struct ArrayAnswer: Sendable {
    var shape: [Int]
    var values: [Float]
    /// Extra fields, each already JSON-encoded.
    var extra: [(String, String)] = []
    /// Whether a forward pass had to be run again.
    var recomputed = false

    init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// Adds a field `name` with `value` encoded as JSON.
    mutating func add<T: Encodable>(_ name: String, _ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        extra.append((name, String(decoding: data, as: UTF8.self)))
    }

    /// Adds every field of `value`, which must encode as a JSON object, at the top level (the way
    /// `explain.json` carries its provenance).
    mutating func addFields<T: Encodable>(of value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return }
        for key in object.keys.sorted() {
            guard let field = object[key], let one = try? JSONSerialization.data(withJSONObject: field, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            else { continue }
            extra.append((key, String(decoding: one, as: UTF8.self)))
        }
    }

    /// Memory the answer takes, approximately: four bytes a value plus its fields' text.
    var estimatedBytes: Int { values.count * MemoryLayout<Float>.size + extra.reduce(64) { $0 + $1.0.utf8.count + $1.1.utf8.count } }

    /// `{"shape": [...], "values": [...], ...}` with each float in its shortest round-trip form
    /// (a float32 parsed from it is the same float32); non-finite values (never produced) as null.
    var json: String {
        var s = "{\"shape\":[" + shape.map(String.init).joined(separator: ",") + "],\"values\":["
        s.reserveCapacity(s.utf8.count + values.count * 12)
        var first = true
        for v in values {
            if !first { s += "," }
            first = false
            s += v.isFinite ? v.description : "null"
        }
        s += "]"
        for (k, v) in extra { s += ",\"\(k)\":\(v)" }
        return s + "}"
    }

    /// The values as little-endian float32 bytes.
    var float32Bytes: Data {
        values.withUnsafeBufferPointer { b in
            var d = Data(capacity: b.count * 4)
            for v in b { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            return d
        }
    }
}
