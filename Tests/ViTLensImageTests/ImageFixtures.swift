import Foundation
import Testing
import ViTLensCore
import ViTLensImage
import ViTLensTestSupport

/// The manifest written by `tools/make_image_fixtures.py` (`Tests/Fixtures/images/manifest.json`).
struct ImageManifest: Decodable {
    struct Digest: Decodable, Sendable {
        var shape: [Int]
        var fnv1a64: String
        /// Per-row `(sum, weighted sum)` file when the array is not stored in full.
        var rows: String?
        /// The full array's file, when small.
        var full: String?
    }
    struct DecodeCase: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var pillow_mode: String
        var expected: String
        var note: String
        var testDescription: String { "\(file) (Pillow \(pillow_mode))" }
    }
    struct PhotoCase: Decodable, Sendable, CustomTestStringConvertible {
        var photo: String
        var shape: [Int]
        var fnv1a64: String
        var rows: String
        var testDescription: String { photo }
    }
    struct Decode: Decodable { var cases: [DecodeCase]; var photos: [PhotoCase] }
    struct ErrorCase: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var expected: String
        var pillow: String
        var testDescription: String { file }
    }
    struct ResizeCase: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var source: String
        var crop: [Int]?
        var width: Int
        var height: Int
        var filter: String
        var filter_code: Int
        var shape: [Int]
        var fnv1a64: String
        var full: String?
        var rows: String?
        var testDescription: String { name }
    }
    struct PixelSummary: Decodable, Sendable {
        var shape: [Int]
        var fnv1a64: String
        var sum: Double
        var min: Double
        var max: Double
    }
    struct ProcessorPhotoCase: Decodable, Sendable, CustomTestStringConvertible {
        var config: String
        var processor_class: String
        var photo: String
        var levels: String
        var prepared: Digest
        var pixel_values: PixelSummary
        var testDescription: String { "\(config) on \(photo)" }
    }
    struct Override: Decodable, Sendable { var height: Int; var width: Int }
    struct ProcessorCropCase: Decodable, Sendable, CustomTestStringConvertible {
        var config: String
        var processor_class: String
        var photo: String
        var crop: [Int]
        var size_override: Override?
        var prepared: String
        var pixel_values: String
        var testDescription: String {
            "\(config) on \(photo) crop \(crop)" + (size_override.map { " size \($0.height)x\($0.width)" } ?? "")
        }
    }
    struct Processors: Decodable { var photos: [ProcessorPhotoCase]; var crops: [ProcessorCropCase] }

    var format_version: Int
    var decode: Decode
    var errors: [ErrorCase]
    var resize: [ResizeCase]
    var processors: Processors

    static let formatVersion = 1

    /// Loaded once; an unreadable manifest gives an empty one so the dedicated test reports it.
    static let shared: ImageManifest = {
        let url = Fixtures.url("images/manifest.json")
        if let data = try? Data(contentsOf: url), let m = try? JSONDecoder().decode(ImageManifest.self, from: data) {
            return m
        }
        return ImageManifest(format_version: 0, decode: Decode(cases: [], photos: []), errors: [], resize: [],
                             processors: Processors(photos: [], crops: []))
    }()
}

/// Shared test helpers: fixture paths, photo cache, digests.
enum ImageTestSupport {
    static func fixture(_ relative: String) -> URL { Fixtures.url("images/" + relative) }

    /// A path relative to the repository root (photos live in `photos/`).
    static func repositoryFile(_ relative: String) -> URL {
        Fixtures.repositoryRoot.appendingPathComponent(relative)
    }

    /// Decodes a repository file with ``ImageIO`` (the decode tests check it equals Pillow's).
    static func load(_ relative: String) throws -> RGBImage {
        try ImageIO.load(repositoryFile(relative))
    }

    /// A rectangular crop `[x, y, w, h]`.
    static func crop(_ image: RGBImage, _ box: [Int]) -> RGBImage {
        let (x, y, w, h) = (box[0], box[1], box[2], box[3])
        var pixels = [UInt8]()
        pixels.reserveCapacity(w * h * 3)
        for row in y ..< y + h {
            let start = (row * image.width + x) * 3
            pixels.append(contentsOf: image.pixels[start ..< start + w * 3])
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }

    /// FNV-1a 64 of bytes, as lowercase hex (same as the generator's).
    static func fnv1a64<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// FNV-1a 64 of float32 values' little-endian bytes.
    static func fnv1a64(floats: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(floats.count * 4)
        for f in floats {
            let b = f.bitPattern.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: b))
            bytes.append(UInt8(truncatingIfNeeded: b >> 8))
            bytes.append(UInt8(truncatingIfNeeded: b >> 16))
            bytes.append(UInt8(truncatingIfNeeded: b >> 24))
        }
        return fnv1a64(bytes)
    }

    /// Per row: `(sum, sum((i + 1) * byte))`, as the generator's `row_digest`.
    static func rowDigest(_ bytes: [UInt8], rows: Int) -> [Int64] {
        let perRow = bytes.count / max(rows, 1)
        var out = [Int64]()
        out.reserveCapacity(rows * 2)
        for r in 0 ..< rows {
            var s: Int64 = 0, w: Int64 = 0
            for i in 0 ..< perRow {
                let v = Int64(bytes[r * perRow + i])
                s += v
                w += Int64(i + 1) * v
            }
            out.append(s)
            out.append(w)
        }
        return out
    }

    /// Expects `bytes` (an `[H, ...]` uint8 array) to equal a digest: names the first differing row.
    static func expectDigest(
        _ bytes: [UInt8], rows: Int, fnv: String, rowsFile: String, folder: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let actual = fnv1a64(bytes)
        if actual == fnv { return }
        let expected = try NPY.read(fixture(folder + "/" + rowsFile)).integers
        let mine = rowDigest(bytes, rows: rows)
        var firstRow = "none (same row sums)"
        for r in 0 ..< min(rows, expected.count / 2) where mine[2 * r] != expected[2 * r] || mine[2 * r + 1] != expected[2 * r + 1] {
            firstRow = String(r)
            break
        }
        let message: String = "digest " + actual + " != expected " + fnv + "; first differing row: " + firstRow
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }

    /// Expects an RGB image to equal a stored uint8 `[H, W, 3]` array exactly; reports the first differences.
    static func expectEqual(
        _ image: RGBImage, _ npy: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = try NPY.read(npy)
        #expect(expected.shape == [image.height, image.width, 3], "shape", sourceLocation: sourceLocation)
        guard expected.shape == [image.height, image.width, 3] else { return }
        var mismatches = 0, maxDiff = 0
        var first: [String] = []
        for i in 0 ..< image.pixels.count {
            let e = Int(expected.integers[i]), a = Int(image.pixels[i])
            if e != a {
                mismatches += 1
                maxDiff = max(maxDiff, abs(e - a))
                if first.count < 5 {
                    let p = i / 3
                    first.append("(x \(p % image.width), y \(p / image.width), c \(i % 3)): \(a) vs \(e)")
                }
            }
        }
        let summary: String = "\(mismatches) bytes differ (max abs diff \(maxDiff)); first: " + first.joined(separator: ", ")
        #expect(mismatches == 0, Comment(rawValue: summary), sourceLocation: sourceLocation)
    }
}
