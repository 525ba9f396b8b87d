import Foundation
import ViTLensCore

/// A minimal float32 `.safetensors` reader for comparing written checkpoints with fixtures (the
/// product's reader belongs to ViTLensCheckpoint; this one only serves these tests).
enum SafeTensorsTestReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Tensors by name, and the `__metadata__` strings.
    static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw Failure(description: "\(url.path): shorter than 8 bytes") }
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard 8 + n <= data.count,
              let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + n)) as? [String: Any]
        else { throw Failure(description: "\(url.path): bad header") }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32",
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw Failure(description: "\(url.path): entry \(name) is not F32") }
            let begin = 8 + n + offsets[0], end = 8 + n + offsets[1]
            guard begin <= end, end <= data.count, (end - begin) == 4 * shape.reduce(1, *) else {
                throw Failure(description: "\(url.path): entry \(name) has bad offsets")
            }
            let values = data.subdata(in: begin ..< end).withUnsafeBytes { raw in
                (0 ..< (end - begin) / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return (tensors, metadata)
    }
}
