import Foundation
import Testing
@testable import ViTLensCheckpoint
import ViTLensCore

@Suite("SafeTensorsFile")
struct SafeTensorsFileTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    /// Writes hand-made bytes and returns the file's URL.
    func file(_ header: String, data: [UInt8] = [], headerLength: UInt64? = nil) throws -> URL {
        try dir.write("t.safetensors", RawSafeTensors.bytes(header: header, data: data, headerLength: headerLength))
    }

    @Test func float32RoundTripThroughWriter() throws {
        let url = try writeF32(["b.weight": ([2, 3], ramp(6, offset: -1)), "a.bias": ([3], [1.5, -0.0, .infinity])],
                               to: dir.path("w.safetensors"))
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.names == ["a.bias", "b.weight"])
        #expect(file.info("b.weight")?.shape == [2, 3])
        #expect(file.info("b.weight")?.dtype == .F32)
        #expect(try file.floats("b.weight") == [-1, -0.75, -0.5, -0.25, 0, 0.25])
        let bias = try file.floats("a.bias")
        #expect(bias[0] == 1.5 && bias[1].sign == .minus && bias[1] == 0 && bias[2] == .infinity)
        #expect(try file.tensor("b.weight") == Tensor(shape: [2, 3], values: [-1, -0.75, -0.5, -0.25, 0, 0.25]))
        // Byte ranges are absolute and follow the header in sorted name order.
        let headerEnd = 8 + Int(try Data(contentsOf: url).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(file.info("a.bias")?.byteRange == headerEnd ..< headerEnd + 12)
        #expect(file.info("b.weight")?.byteRange == headerEnd + 12 ..< headerEnd + 36)
    }

    @Test func metadataIsRead() throws {
        let url = dir.path("m.safetensors")
        try SafeTensorsWriter.write(["x": Tensor(shape: [1], values: [2])], metadata: ["format": "pt"], to: url)
        #expect(try SafeTensorsFile(contentsOf: url).metadata == ["format": "pt"])
    }

    @Test func float16WidensExactly() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0xFC00, 0x8000, 0x0400]
        let url = try file("{" + RawSafeTensors.entry("h", "F16", [2, 4], 0, 16) + "}", data: RawSafeTensors.le16(bits))
        let values = try SafeTensorsFile(contentsOf: url).floats("h")
        // numpy: np.array(bits, np.uint16).view(np.float16).astype(np.float32)
        let expected: [Float] = [1, -2, 65504, 5.960464477539063e-08, 0.333251953125, -.infinity, -0.0, 6.103515625e-05]
        #expect(values == expected)
        #expect(values[6].sign == .minus)
    }

    @Test func bfloat16WidensExactly() throws {
        let bits: [UInt16] = [0x3F80, 0xC040, 0x3EAB, 0x7F7F, 0x0001]
        let url = try file("{" + RawSafeTensors.entry("b", "BF16", [5], 0, 10) + "}", data: RawSafeTensors.le16(bits))
        // numpy: (np.array(bits, np.uint32) << 16).view(np.float32)
        let expected: [Float] = [1, -3, 0.333984375, 3.3895313892515355e+38, Float(bitPattern: 0x0001_0000)]  // last: 9.183549615799121e-41
        #expect(try SafeTensorsFile(contentsOf: url).floats("b") == expected)
    }

    @Test func float64RoundsToNearestFloat() throws {
        let url = try file("{" + RawSafeTensors.entry("d", "F64", [3], 0, 24) + "}",
                           data: RawSafeTensors.le64([0.1, -2.5, 1e300].map { $0.bitPattern }))
        let values = try SafeTensorsFile(contentsOf: url).floats("d")
        #expect(values == [Float(0.1), -2.5, .infinity])
        #expect(values[0] == 0.10000000149011612)
    }

    @Test func unalignedDataIsRead() throws {
        // A 3-byte tensor first puts the F32 tensor at an odd offset.
        let header = "{" + RawSafeTensors.entry("a", "U8", [3], 0, 3) + "," + RawSafeTensors.entry("f", "F32", [2], 3, 11) + "}"
        let url = try file(header, data: [7, 8, 9] + RawSafeTensors.le32([3.25, -8]))
        let st = try SafeTensorsFile(contentsOf: url)
        #expect(try st.floats("f") == [3.25, -8])
        #expect(st.info("a")?.dtype == .U8)
    }

    @Test func integerTensorsAreNotReadAsFloats() throws {
        let url = try file("{" + RawSafeTensors.entry("embeddings.position_ids", "I64", [1, 2], 0, 16) + "}",
                           data: RawSafeTensors.le64([0, 1]))
        let st = try SafeTensorsFile(contentsOf: url)
        #expect(st.info("embeddings.position_ids")?.shape == [1, 2])
        #expect(throws: CheckpointError.unknownDType(file: url.path, key: "embeddings.position_ids", dtype: "I64")) {
            try st.floats("embeddings.position_ids")
        }
        let message = "\(CheckpointError.unknownDType(file: url.path, key: "embeddings.position_ids", dtype: "I64"))"
        #expect(message == "\(url.path): tensor 'embeddings.position_ids' has dtype I64, which cannot be read as floats (F64, F32, F16, BF16 can)")
    }

    @Test func zeroSizeTensorsMayShareOffsets() throws {
        let header = "{" + [RawSafeTensors.entry("e1", "F32", [0, 4], 4, 4), RawSafeTensors.entry("e2", "F16", [0], 4, 4),
                            RawSafeTensors.entry("x", "F32", [2], 0, 8), RawSafeTensors.entry("s", "F32", [], 8, 12)].joined(separator: ",") + "}"
        let url = try file(header, data: RawSafeTensors.le32([1, 2, 42]))
        let st = try SafeTensorsFile(contentsOf: url)
        #expect(try st.floats("e1") == [])
        #expect(try st.floats("e2") == [])
        #expect(try st.floats("s") == [42])
        #expect(try st.tensor("s").shape == [])
    }

    @Test func missingTensorNamesTheFile() throws {
        let url = try writeF32(["a": ([1], [1])], to: dir.path("w.safetensors"))
        #expect(throws: CheckpointError.missingWeight(key: "b", file: url.path)) { try SafeTensorsFile(contentsOf: url).floats("b") }
    }

    // MARK: - Defects: each gives exactly its error, naming the file.

    @Test func missingFile() {
        let url = dir.path("absent.safetensors")
        #expect(throws: CheckpointError.fileNotFound(file: url.path)) { try SafeTensorsFile(contentsOf: url) }
        #expect(throws: CheckpointError.unreadableFile(file: dir.url.path, problem: .isDirectory)) { try SafeTensorsFile(contentsOf: dir.url) }
    }

    @Test func headerLengthPastTheEnd() throws {
        let data = RawSafeTensors.bytes(header: "{}", headerLength: 1000)
        let url = try dir.write("t.safetensors", data)
        #expect(throws: CheckpointError.headerPastEnd(file: url.path, headerLength: 1000, fileSize: 10)) {
            try SafeTensorsFile(contentsOf: url)
        }
        let huge = try dir.write("h.safetensors", RawSafeTensors.bytes(header: "{}", headerLength: UInt64.max))
        #expect(throws: CheckpointError.headerPastEnd(file: huge.path, headerLength: UInt64.max, fileSize: 10)) {
            try SafeTensorsFile(contentsOf: huge)
        }
    }

    @Test func fileShorterThanTheLengthField() throws {
        let url = try dir.write("t.safetensors", Data([1, 2, 3]))
        #expect(throws: CheckpointError.badHeader(file: url.path, reason: "file is 3 bytes, too short for the 8-byte header length")) {
            try SafeTensorsFile(contentsOf: url)
        }
        let empty = try dir.write("e.safetensors", Data())
        #expect(throws: CheckpointError.badHeader(file: empty.path, reason: "file is 0 bytes, too short for the 8-byte header length")) {
            try SafeTensorsFile(contentsOf: empty)
        }
    }

    @Test(arguments: ["{\"a\":", "not json", "[1,2]", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} trailing"])
    func malformedHeaderJSON(header: String) throws {
        let url = try file(header, data: [0, 0, 0, 0])
        let error = thrownError { try SafeTensorsFile(contentsOf: url) }
        guard case .badHeader(let f, let reason)? = error as? CheckpointError else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(f == url.path)
        #expect(reason.hasPrefix("header is not"))
        if header == "{\"a\":" { #expect(reason == "header is not valid JSON (Unexpected end of file during JSON parse.)") }
        #expect(!"\(error!)".contains("\n"))
    }

    @Test func headerThatIsNotUTF8() throws {
        var data = RawSafeTensors.bytes(header: "{\"k\":\"__\"}")
        data[14] = 0xFF
        data[15] = 0xFE
        let url = try dir.write("t.safetensors", data)
        let error = thrownError { try SafeTensorsFile(contentsOf: url) }
        guard case .badHeader(let f, let reason)? = error as? CheckpointError else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(f == url.path)
        #expect(reason.hasPrefix("header is not valid JSON"))
    }

    @Test(arguments: [
        ("{\"a\":5}", "entry 'a' is not an object"),
        ("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has no \"dtype\" string"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "tensor 'a' needs \"shape\" as a list of non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "tensor 'a' needs \"shape\" as a list of non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor 'a' needs \"data_offsets\" as [begin, end] of non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "tensor 'a' needs \"data_offsets\" as [begin, end] of non-negative integers"),
        ("{\"__metadata__\":{\"k\":1}}", "__metadata__ entry 'k' is not a string"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", "tensor 'a' shape [4611686018427387904, 4] is too large"),
    ])
    func malformedEntries(header: String, reason: String) throws {
        let url = try file(header, data: [0, 0, 0, 0])
        #expect(throws: CheckpointError.badHeader(file: url.path, reason: reason)) { try SafeTensorsFile(contentsOf: url) }
    }

    @Test func overlappingOffsets() throws {
        let header = "{" + RawSafeTensors.entry("a", "F32", [2], 0, 8) + "," + RawSafeTensors.entry("b", "F32", [2], 4, 12) + "}"
        let url = try file(header, data: [UInt8](repeating: 0, count: 12))
        #expect(throws: CheckpointError.overlappingOffsets(file: url.path, key: "b", other: "a")) { try SafeTensorsFile(contentsOf: url) }
        // A tensor inside a longer one, listed after a third that starts later.
        let nested = "{" + [RawSafeTensors.entry("big", "F32", [4], 0, 16), RawSafeTensors.entry("c", "F32", [1], 20, 24),
                            RawSafeTensors.entry("inner", "F32", [1], 8, 12)].joined(separator: ",") + "}"
        let url2 = try file(nested, data: [UInt8](repeating: 0, count: 24))
        #expect(throws: CheckpointError.overlappingOffsets(file: url2.path, key: "inner", other: "big")) { try SafeTensorsFile(contentsOf: url2) }
    }

    @Test func offsetsOutOfRange() throws {
        let past = try file("{" + RawSafeTensors.entry("a", "F32", [4], 0, 16) + "}", data: [UInt8](repeating: 0, count: 8))
        #expect(throws: CheckpointError.offsetsOutOfRange(file: past.path, key: "a")) { try SafeTensorsFile(contentsOf: past) }
        let reversed = try file("{" + RawSafeTensors.entry("a", "F32", [1], 8, 4) + "}", data: [UInt8](repeating: 0, count: 8))
        #expect(throws: CheckpointError.offsetsOutOfRange(file: reversed.path, key: "a")) { try SafeTensorsFile(contentsOf: reversed) }
    }

    @Test func unknownDType() throws {
        let url = try file("{" + RawSafeTensors.entry("a", "F8_E4M3", [4], 0, 4) + "}", data: [0, 0, 0, 0])
        #expect(throws: CheckpointError.unknownDType(file: url.path, key: "a", dtype: "F8_E4M3")) { try SafeTensorsFile(contentsOf: url) }
        #expect("\(CheckpointError.unknownDType(file: url.path, key: "a", dtype: "F8_E4M3"))" == "\(url.path): tensor 'a' has unknown dtype 'F8_E4M3'")
    }

    @Test func byteCountNotMatchingShape() throws {
        let url = try file("{" + RawSafeTensors.entry("w", "F32", [3], 0, 8) + "}", data: [UInt8](repeating: 0, count: 8))
        #expect(throws: CheckpointError.byteCountMismatch(file: url.path, key: "w", expected: 12, found: 8)) { try SafeTensorsFile(contentsOf: url) }
        let half = try file("{" + RawSafeTensors.entry("w", "BF16", [2, 2], 0, 16) + "}", data: [UInt8](repeating: 0, count: 16))
        #expect(throws: CheckpointError.byteCountMismatch(file: half.path, key: "w", expected: 8, found: 16)) { try SafeTensorsFile(contentsOf: half) }
    }

    @Test func aBadEntryIsNeverSkipped() throws {
        // "a" is fine; "z" is broken: the whole file is refused.
        let header = "{" + RawSafeTensors.entry("a", "F32", [1], 0, 4) + "," + RawSafeTensors.entry("z", "F32", [2], 4, 8) + "}"
        let url = try file(header, data: [UInt8](repeating: 0, count: 8))
        #expect(throws: CheckpointError.byteCountMismatch(file: url.path, key: "z", expected: 8, found: 4)) { try SafeTensorsFile(contentsOf: url) }
    }

    @Test func messagesAreOneLineAndNameTheFile() {
        let errors: [CheckpointError] = [
            .fileNotFound(file: "/m/a.safetensors"), .headerPastEnd(file: "/m/a.safetensors", headerLength: 9, fileSize: 8),
            .badHeader(file: "/m/a.safetensors", reason: "r"), .offsetsOutOfRange(file: "/m/a.safetensors", key: "k"),
            .overlappingOffsets(file: "/m/a.safetensors", key: "k", other: "o"),
            .unknownDType(file: "/m/a.safetensors", key: "k", dtype: "X"),
            .byteCountMismatch(file: "/m/a.safetensors", key: "k", expected: 1, found: 2),
            .badIndex(file: "/m/a.safetensors", reason: "r"), .missingWeight(key: "k", file: "/m/a.safetensors"),
            .unexpectedWeights(keys: ["k"], file: "/m/a.safetensors"),
            .shapeMismatch(key: "k", expected: [1], found: [2], file: "/m/a.safetensors"),
            .configMissingField(file: "/m/a.safetensors", field: "f"), .configInvalid(file: "/m/a.safetensors", reason: "r"),
            .unknownModelType(file: "/m/a.safetensors", type: "t"),
        ]
        for error in errors {
            #expect("\(error)".hasPrefix("/m/a.safetensors: "))
            #expect(!"\(error)".contains("\n"))
        }
        #expect("\(CheckpointError.headerPastEnd(file: "f", headerLength: 1000, fileSize: 10))"
            == "f: safetensors header length 1000 runs past the end of the 10-byte file")
        #expect("\(CheckpointError.shapeMismatch(key: "k", expected: [3, 2], found: [2, 3], file: "f"))" == "f: weight 'k' has shape [2, 3], expected [3, 2]")
    }
}
