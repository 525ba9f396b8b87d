import Foundation
import Testing
@testable import ViTLensONNX

/// The wire-format reader on hand-made bytes: values, and every way a read can fail.
@Suite struct ProtobufReaderTests {
    /// Runs `body` on a reader over `bytes`.
    func withReader<T>(_ bytes: [UInt8], _ body: (inout ProtobufReader) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            var r = ProtobufReader(base: raw.baseAddress!, bufferEnd: raw.count, range: 0 ..< raw.count, file: "t.onnx")
            return try body(&r)
        }
    }

    @Test func varints() throws {
        #expect(try withReader([0x00]) { try $0.readVarint() } == 0)
        #expect(try withReader([0x96, 0x01]) { try $0.readVarint() } == 150)
        // -1 as int64: ten bytes, the last one 0x01.
        let minusOne: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        #expect(try withReader(minusOne) { Int64(bitPattern: try $0.readVarint()) } == -1)
    }

    @Test func varintOverflowIsMalformed() {
        // Ten bytes whose last carries more than the 64th bit.
        let bytes: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]
        #expect(throws: ONNXError.malformed(file: "t.onnx", reason: "varint at byte 0 overflows 64 bits")) {
            try withReader(bytes) { try $0.readVarint() }
        }
        let eleven = [UInt8](repeating: 0xff, count: 11)
        #expect(throws: ONNXError.self) { try withReader(eleven) { try $0.readVarint() } }
    }

    @Test func truncationReportsTheOffset() {
        // A varint cut after its continuation byte.
        #expect(throws: ONNXError.truncated(file: "t.onnx", offset: 1)) {
            try withReader([0x08, 0x96]) { r in
                _ = try r.readKey()
                return try r.readVarint()
            }
        }
        // Field 7 (length-delimited) claims 100 bytes; 2 follow. The length starts at byte 1.
        #expect(throws: ONNXError.truncated(file: "t.onnx", offset: 1)) {
            try withReader([0x3a, 100, 1, 2]) { r in
                _ = try r.readKey()
                return try r.readLengthDelimited()
            }
        }
        #expect(throws: ONNXError.truncated(file: "t.onnx", offset: 0)) {
            try withReader([1, 2, 3]) { try $0.readFixed32() }
        }
    }

    @Test func nestedOverrunIsMalformedNotTruncated() throws {
        // An outer message of 3 bytes holding a field that claims 5 bytes; the file has 8.
        let bytes: [UInt8] = [0x0a, 0x03, 0x12, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let error = try withReader(bytes) { r -> ONNXError? in
            _ = try r.readKey()
            var inner = r.subReader(try r.readLengthDelimited())
            _ = try inner.readKey()
            do { _ = try inner.readLengthDelimited() } catch let e as ONNXError { return e }
            return nil
        }
        guard case .malformed(_, let reason)? = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("runs past the end of its enclosing message"))
    }

    @Test func keysWireTypesAndPackedFields() throws {
        // field 1 varint 5; field 4 packed fixed32 [1.5, -2]; field 8 packed varints [3, 300]; field 2 string "hi".
        var bytes: [UInt8] = [0x08, 0x05, 0x22, 0x08]
        bytes += withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: Float(-2).bitPattern.littleEndian, Array.init)
        bytes += [0x42, 0x03, 0x03, 0xac, 0x02, 0x12, 0x02, 0x68, 0x69]
        try withReader(bytes) { r in
            var key = try r.readKey()
            #expect(key?.field == 1 && key?.wire == .varint)
            #expect(try r.readVarint() == 5)
            key = try r.readKey()
            var floats: [UInt32] = []
            try r.readFixed32s(key!.wire, into: &floats)
            #expect(floats.map(Float.init(bitPattern:)) == [1.5, -2])
            key = try r.readKey()
            var ints: [UInt64] = []
            try r.readVarints(key!.wire, into: &ints)
            #expect(ints == [3, 300])
            key = try r.readKey()
            #expect(key?.field == 2)
            #expect(try r.readString() == "hi")
            #expect(try r.readKey() == nil)
        }
    }

    @Test func invalidWireTypesAndGroupsAreMalformed() {
        // Wire type 7 does not exist; wire type 3 is a (proto2) group, which ONNX never uses.
        #expect(throws: ONNXError.malformed(file: "t.onnx", reason: "invalid wire type 7 at byte 0")) {
            try withReader([0x0f]) { try $0.readKey() }
        }
        #expect(throws: ONNXError.self) {
            try withReader([0x0b, 0x00]) { r in
                let key = try r.readKey()
                try r.skip(key!.wire)
            }
        }
        #expect(throws: ONNXError.malformed(file: "t.onnx", reason: "invalid field number 0 at byte 0")) {
            try withReader([0x00]) { try $0.readKey() }
        }
    }

    @Test func modelWithoutGraphOrEmptyIsMalformed() {
        #expect(throws: ONNXError.malformed(file: "e.onnx", reason: "empty file")) { try ONNXModel(data: Data(), file: "e.onnx") }
        // ir_version 8 and nothing else.
        #expect(throws: ONNXError.malformed(file: "g.onnx", reason: "the model has no graph")) {
            try ONNXModel(data: Data([0x08, 0x08]), file: "g.onnx")
        }
    }
}
