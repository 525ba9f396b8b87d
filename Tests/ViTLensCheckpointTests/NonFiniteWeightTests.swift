import Foundation
import Testing
@testable import ViTLensCheckpoint
import ViTLensCore

/// Model weights must be finite: ``WeightStore`` refuses NaN and infinities at load, in every
/// float dtype, naming the key, the file and the first bad index; raw reads still see them.
@Suite("Non-finite weights")
struct NonFiniteWeightTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    /// One tensor `w` of `dtype` holding `data`, loaded into a store.
    func store(_ dtype: String, count: Int, data: [UInt8]) throws -> (WeightStore, String) {
        let url = try dir.write("m.safetensors", RawSafeTensors.bytes(
            header: "{" + RawSafeTensors.entry("w", dtype, [count], 0, data.count) + "}", data: data))
        return (WeightStore(archive: try SafeTensorsArchive(url: url)), url.path)
    }

    @Test(arguments: [
        ("F32", RawSafeTensors.le32([1, 2, .nan, 4, .infinity]), "NaN", 2),
        ("F16", RawSafeTensors.le16([0x3C00, 0x3C00, 0x3C00, 0x7C00, 0x3C00]), "inf", 3),
        ("F16", RawSafeTensors.le16([0xFE00, 0x3C00, 0x3C00, 0x3C00, 0x3C00]), "NaN", 0),
        ("BF16", RawSafeTensors.le16([0x3F80, 0x3F80, 0x3F80, 0x3F80, 0xFF80]), "-inf", 4),
        ("F64", RawSafeTensors.le64([1, 1e300, 1, 1, 1].map { Double($0).bitPattern }), "inf", 1),
    ])
    func refusedAtLoadWithKeyFileAndIndex(_ dtype: String, _ data: [UInt8], _ reads: String, _ index: Int) throws {
        let (store, file) = try store(dtype, count: 5, data: data)
        #expect(throws: CheckpointError.nonFiniteWeight(key: "w", file: file, index: index, value: reads)) {
            try store.take("w", shape: [5])
        }
        // The raw reader still widens exactly, special values included.
        #expect(try store.archive.floats("w").count == 5)
    }

    /// The direct path (the model's own buffer, no intermediate array) refuses the same values
    /// with the same message and widens the same bits as the array path.
    @Test(arguments: [
        ("F32", RawSafeTensors.le32([1, 2, .nan, 4, .infinity]), "NaN", 2),
        ("F16", RawSafeTensors.le16([0x3C00, 0x3C00, 0x3C00, 0x7C00, 0x3C00]), "inf", 3),
        ("BF16", RawSafeTensors.le16([0x3F80, 0x3F80, 0x3F80, 0x3F80, 0xFF80]), "-inf", 4),
    ])
    func directFillRefusesAndWidensAlike(_ dtype: String, _ data: [UInt8], _ reads: String, _ index: Int) throws {
        let (store, file) = try store(dtype, count: 5, data: data)
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5)
        defer { buffer.deallocate() }
        #expect(throws: CheckpointError.nonFiniteWeight(key: "w", file: file, index: index, value: reads)) {
            _ = try store.takeOptional("w", shape: [5]) { _ in buffer }
        }
        try store.archive.floats("w", requireFinite: false, into: buffer)
        let viaArray = try store.archive.floats("w")
        #expect(zip(buffer, viaArray).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(try store.takeOptional("absent", shape: [5]) { _ in buffer } == false)
    }

    /// A source whose values disagree with the shape it reports is refused with one line, not a crash.
    @Test func directFillRefusesASourceWhoseValuesDisagreeWithItsShape() throws {
        final class Lying: TensorSource, @unchecked Sendable {
            var names: [String] { ["w"] }
            var description: String { "lying.pth" }
            func shape(of name: String) -> [Int]? { name == "w" ? [4] : nil }
            func floats(_ name: String, requireFinite: Bool) throws -> [Float] { [1, 2, 3] }
            func fileName(for name: String) -> String? { "lying.pth" }
        }
        let store = WeightStore(archive: Lying())
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
        defer { buffer.deallocate() }
        #expect(throws: CheckpointError.shapeMismatch(key: "w", expected: [4], found: [3], file: "lying.pth")) {
            _ = try store.takeOptional("w", shape: [4]) { _ in buffer }
        }
    }

    @Test func firstBadIndexInALaterChunk() throws {
        var values = [Float](repeating: 0.5, count: 3 * SafeTensorsFile.scanChunk + 5)
        values[2 * SafeTensorsFile.scanChunk + 7] = -.infinity
        values[values.count - 1] = .nan
        let (store, file) = try store("F32", count: values.count, data: RawSafeTensors.le32(values))
        #expect(throws: CheckpointError.nonFiniteWeight(key: "w", file: file, index: 2 * SafeTensorsFile.scanChunk + 7, value: "-inf")) {
            try store.take("w", shape: [values.count])
        }
        #expect("\(CheckpointError.nonFiniteWeight(key: "w", file: file, index: 9, value: "NaN"))"
            == "\(file): weight 'w' holds NaN at index 9; the checkpoint is corrupt (every weight must be finite)")
    }

    @Test func extremeButFiniteValuesPass() throws {
        let values: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, 0]
        let (store, _) = try store("F32", count: 5, data: RawSafeTensors.le32(values))
        #expect(try store.take("w", shape: [5]) == values)
    }
}
