import Foundation

/// A protobuf wire type (the low three bits of a field key).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A bounds-checked cursor over protobuf wire-format bytes (proto2/proto3 encoding).
///
/// Wire format: a message is a sequence of fields; each field is a varint key
/// `fieldNumber << 3 | wireType` followed by a varint, 8 or 4 little-endian bytes, or a varint
/// length and that many bytes (strings, bytes, sub-messages, packed repeated scalars).
///
/// Every read is checked: a varint longer than 10 bytes or overflowing 64 bits, an unknown or group
/// wire type and a length past the enclosing message are ``ONNXError/malformed(file:reason:)``;
/// anything running past the end of the whole buffer is ``ONNXError/truncated(file:offset:)`` with
/// the offset where the item that does not fit starts. Offsets count from the start of the buffer.
/// The reader never copies: callers turn ranges into `Data` slices of the (mapped) file.
struct ProtobufReader {
    /// Start of the whole buffer.
    let base: UnsafeRawPointer
    /// Size of the whole buffer in bytes.
    let bufferEnd: Int
    /// End of the message being read (exclusive, absolute).
    let end: Int
    /// Current absolute offset.
    private(set) var offset: Int
    /// File name for error messages.
    let file: String

    /// A reader over `buffer[range]`.
    init(base: UnsafeRawPointer, bufferEnd: Int, range: Range<Int>, file: String) {
        self.base = base
        self.bufferEnd = bufferEnd
        self.end = range.upperBound
        self.offset = range.lowerBound
        self.file = file
    }

    /// True when the whole message has been read.
    var isAtEnd: Bool { offset >= end }

    /// A reader over a sub-message's bytes.
    func subReader(_ range: Range<Int>) -> ProtobufReader {
        ProtobufReader(base: base, bufferEnd: bufferEnd, range: range, file: file)
    }

    private func overrun(_ start: Int, _ what: String) -> ONNXError {
        // Running past the end of the file is a truncation; past a nested message's end, corruption.
        if end >= bufferEnd { return .truncated(file: file, offset: start) }
        return .malformed(file: file, reason: "\(what) at byte \(start) runs past the end of its enclosing message (byte \(end))")
    }

    /// Reads a base-128 varint (at most 10 bytes, at most 64 bits).
    mutating func readVarint() throws -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw overrun(start, "varint") }
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            if shift == 63 && byte > 1 {
                throw ONNXError.malformed(file: file, reason: "varint at byte \(start) overflows 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a field key; returns nil at the end of the message.
    mutating func readKey() throws -> (field: Int, wire: WireType)? {
        guard !isAtEnd else { return nil }
        let start = offset
        let key = try readVarint()
        let field = key >> 3
        guard field > 0, field <= 536_870_911 else {
            throw ONNXError.malformed(file: file, reason: "invalid field number \(field) at byte \(start)")
        }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw ONNXError.malformed(file: file, reason: "invalid wire type \(key & 7) at byte \(start)")
        }
        return (Int(field), wire)
    }

    /// Reads 4 little-endian bytes.
    mutating func readFixed32() throws -> UInt32 {
        guard end - offset >= 4 else { throw overrun(offset, "32-bit value") }
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: v)
    }

    /// Reads 8 little-endian bytes.
    mutating func readFixed64() throws -> UInt64 {
        guard end - offset >= 8 else { throw overrun(offset, "64-bit value") }
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: v)
    }

    /// Reads a length prefix and returns the absolute byte range of the payload, skipping it.
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = offset
        let length = try readVarint()
        let available = end - offset
        guard length <= UInt64(available) else {
            if UInt64(bufferEnd - offset) < length { throw ONNXError.truncated(file: file, offset: start) }
            throw ONNXError.malformed(file: file, reason: "field of \(length) bytes at byte \(start) runs past the end of its enclosing message (byte \(end))")
        }
        let range = offset ..< offset + Int(length)
        offset = range.upperBound
        return range
    }

    /// Reads a UTF-8 string field (invalid sequences are replaced, as protobuf runtimes do).
    mutating func readString() throws -> String {
        let r = try readLengthDelimited()
        return string(r)
    }

    /// The UTF-8 text in an absolute byte range.
    func string(_ r: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(start: base + r.lowerBound, count: r.count), as: UTF8.self)
    }

    /// Skips a field's value of the given wire type.
    mutating func skip(_ wire: WireType) throws {
        switch wire {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup:
            throw ONNXError.malformed(file: file, reason: "protobuf groups (wire type \(wire.rawValue)) at byte \(offset) are not used by ONNX")
        }
    }

    /// Reads a repeated varint field, packed (one length-delimited run) or not (one value).
    mutating func readVarints(_ wire: WireType, into values: inout [UInt64]) throws {
        switch wire {
        case .varint: values.append(try readVarint())
        case .lengthDelimited:
            var sub = subReader(try readLengthDelimited())
            while !sub.isAtEnd { values.append(try sub.readVarint()) }
        default: throw wrongWire(wire, expected: "varint")
        }
    }

    /// Reads a repeated fixed32 field, packed or not.
    mutating func readFixed32s(_ wire: WireType, into values: inout [UInt32]) throws {
        switch wire {
        case .fixed32: values.append(try readFixed32())
        case .lengthDelimited:
            let r = try readLengthDelimited()
            guard r.count % 4 == 0 else {
                throw ONNXError.malformed(file: file, reason: "packed 32-bit field at byte \(r.lowerBound) has \(r.count) bytes, not a multiple of 4")
            }
            var sub = subReader(r)
            values.reserveCapacity(values.count + r.count / 4)
            while !sub.isAtEnd { values.append(try sub.readFixed32()) }
        default: throw wrongWire(wire, expected: "32-bit")
        }
    }

    /// Reads a repeated fixed64 field, packed or not.
    mutating func readFixed64s(_ wire: WireType, into values: inout [UInt64]) throws {
        switch wire {
        case .fixed64: values.append(try readFixed64())
        case .lengthDelimited:
            let r = try readLengthDelimited()
            guard r.count % 8 == 0 else {
                throw ONNXError.malformed(file: file, reason: "packed 64-bit field at byte \(r.lowerBound) has \(r.count) bytes, not a multiple of 8")
            }
            var sub = subReader(r)
            values.reserveCapacity(values.count + r.count / 8)
            while !sub.isAtEnd { values.append(try sub.readFixed64()) }
        default: throw wrongWire(wire, expected: "64-bit")
        }
    }

    /// The error for a field whose wire type does not match its declared type.
    func wrongWire(_ wire: WireType, expected: String) -> ONNXError {
        .malformed(file: file, reason: "field at byte \(offset) has wire type \(wire.rawValue), expected \(expected)")
    }

    /// Checks the wire type of a singular field.
    func expect(_ wire: WireType, _ expected: WireType) throws {
        guard wire == expected else { throw wrongWire(wire, expected: "\(expected)") }
    }
}
