import Foundation
import ViTLensCore

/// A copy of a fixture model folder in a fresh temporary directory, for tests that break one thing
/// (a config value, a weight) and check the error.
///
/// Weights are edited as float32 tensors through a minimal safetensors reader/writer for the F32
/// fixtures (the library's own reader is what is under test).
public struct FixtureModelCopy {
    /// The copy's folder.
    public let url: URL

    /// Copies `Tests/Fixtures/models/<name>`.
    public init(_ name: String) throws {
        let src = Fixtures.url("models/\(name)")
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-fixture-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: src.path) {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: url.appendingPathComponent(f))
        }
    }

    /// `url/name`.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Removes the copy.
    public func remove() { try? FileManager.default.removeItem(at: url) }

    /// Replaces the JSON value of `key` in the text of `name` (first occurrence, any nesting) with
    /// the literal `json` (e.g. `"0.0"`, `"[0.5, 0, 0.5]"`), or adds it at the top when absent.
    public func setJSON(_ name: String, _ key: String, _ json: String) throws {
        let f = file(name)
        let text = try String(contentsOf: f, encoding: .utf8)
        let pattern = "\"\(key)\"\\s*:\\s*(\\[[^\\]]*\\]|[^,}\\n]*)"
        var edited = text
        if let r = text.range(of: pattern, options: .regularExpression) {
            edited.replaceSubrange(r, with: "\"\(key)\": \(json)")
        } else if let brace = text.firstIndex(of: "{") {
            edited.insert(contentsOf: "\"\(key)\": \(json), ", at: text.index(after: brace))
        }
        try edited.write(to: f, atomically: true, encoding: .utf8)
    }

    /// Rewrites `model.safetensors` (all F32) after `edit` changed its tensors (values or new keys).
    public func editWeights(_ edit: (inout [String: Tensor]) throws -> Void) throws {
        let f = file("model.safetensors")
        let data = try Data(contentsOf: f)
        let n = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as? [String: Any] ?? [:]
        var tensors: [String: Tensor] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let e = value as? [String: Any], e["dtype"] as? String == "F32", let shape = e["shape"] as? [Int],
                  let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else { continue }
            let bytes = data.subdata(in: (8 + n + offsets[0]) ..< (8 + n + offsets[1]))
            let values = bytes.withUnsafeBytes { raw in
                (0 ..< bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            tensors[key] = Tensor(shape: shape, values: values)
        }
        try edit(&tensors)
        var entries: [String: Any] = [:]
        var body = Data()
        for key in tensors.keys.sorted() {
            let t = tensors[key] ?? Tensor(shape: [0], values: [])
            entries[key] = ["dtype": "F32", "shape": t.shape, "data_offsets": [body.count, body.count + 4 * t.count]]
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        }
        var json = try JSONSerialization.data(withJSONObject: entries, options: .sortedKeys)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        try (out + json + body).write(to: f)
    }

    /// Applies `f` to every value of weight `key` (no-op when absent).
    public func mapWeight(_ key: String, _ f: @escaping (Float) -> Float) throws {
        try editWeights { w in
            guard var t = w[key] else { return }
            t.values = t.values.map(f)
            w[key] = t
        }
    }
}
