import Foundation
@testable import ViTLensCheckpoint
import ViTLensCore
import ViTLensTestSupport

/// A fresh temporary folder, removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let url: URL

    init() throws {
        url = try temporaryFolder("checkpoint-tests")
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// `url/relative`.
    func path(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    /// Writes `data` to `relative`, creating folders.
    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> URL {
        let target = path(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: target)
        return target
    }

    /// Writes UTF-8 `text` to `relative`.
    @discardableResult
    func write(_ relative: String, text: String) throws -> URL { try write(relative, Data(text.utf8)) }
}

/// Builds `.safetensors` bytes by hand, so tests can make every defect.
enum RawSafeTensors {
    /// An 8-byte little-endian `headerLength` (default: the header's size), the header, then `data`.
    static func bytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
        let json = Array(header.utf8)
        var out = Data()
        var n = (headerLength ?? UInt64(json.count)).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        out.append(contentsOf: data)
        return out
    }

    /// A header entry `"name": {...}`.
    static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    /// Little-endian bytes of 16-bit patterns.
    static func le16(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] } }

    /// Little-endian bytes of 32-bit floats.
    static func le32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            let b = v.bitPattern
            return [UInt8(b & 0xff), UInt8((b >> 8) & 0xff), UInt8((b >> 16) & 0xff), UInt8(b >> 24)]
        }
    }

    /// Little-endian bytes of 64-bit integers.
    static func le64(_ values: [UInt64]) -> [UInt8] { values.flatMap { v in (0 ..< 8).map { UInt8((v >> (8 * $0)) & 0xff) } } }
}

/// Deterministic test values that depend on position, so a transposed or shifted read shows.
func ramp(_ count: Int, scale: Float = 0.25, offset: Float = 0) -> [Float] {
    (0 ..< count).map { Float($0) * scale + offset }
}

/// Writes a float32 safetensors file of `tensors` (name -> (shape, values)).
@discardableResult
func writeF32(_ tensors: [String: ([Int], [Float])], to url: URL) throws -> URL {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try SafeTensorsWriter.write(tensors.mapValues { Tensor(shape: $0.0, values: $0.1) }, to: url)
    return url
}

/// Catches the error `body` throws (nil if none).
func thrownError<T>(_ body: () throws -> T) -> (any Error)? {
    do { _ = try body(); return nil } catch { return error }
}
