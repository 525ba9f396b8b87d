import Foundation
import ViTLensCore

/// Writes float32 tensors to a `.safetensors` file.
///
/// Format: 8-byte little-endian header length, a JSON header (`{"name": {"dtype": "F32",
/// "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`) padded with spaces to a
/// multiple of 8 bytes, then the tensors' bytes back to back in header order (names sorted).
/// The file is written to a temporary name and renamed, so a reader never sees half a file.
public enum SafeTensorsWriter {
    /// Encodes `tensors` (name -> tensor) with optional string `metadata`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        let names = tensors.keys.sorted()
        var header: [(key: String, value: JSONValue)] = []
        var offset = 0
        for name in names {
            let t = tensors[name] ?? Tensor(shape: [0], values: [])
            let bytes = t.count * 4
            header.append((name, .object(["dtype": .string("F32"), "shape": .integers(t.shape),
                                          "data_offsets": .integers([offset, offset + bytes])])))
            offset += bytes
        }
        if !metadata.isEmpty { header.append(("__metadata__", .strings(metadata))) }
        var json = Data(JSONWriter(pretty: false, sortedKeys: true).text(.object(header)).utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(json)
        data.reserveCapacity(data.count + offset)
        for name in names {
            let le = (tensors[name]?.values ?? []).map { $0.bitPattern.littleEndian }
            le.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes `tensors` to `url` atomically.
    /// - Throws: ``CheckpointWriteError`` naming the file when it cannot be written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        do { try encode(tensors, metadata: metadata).write(to: url, options: .atomic) } catch {
            throw CheckpointWriteError(file: url.path, reason: error.localizedDescription)
        }
    }
}

/// A checkpoint file could not be written.
public struct CheckpointWriteError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): cannot write: \(reason)" }
}
