/// The entries of a zip archive as `torch.save` writes it: every entry stored (no compression), found
/// through the central directory (zip64 end records accepted), each entry's bytes a range of the file.
///
/// Nothing is decompressed or copied. Refused with one line: no end-of-central-directory record
/// (a truncated file), a central directory or entry outside the file or overlapping the directory,
/// more entries than the directory can hold, compressed or encrypted entries, a stored entry whose
/// sizes disagree, duplicate names, and multi-disk archives.
struct StoredZip {
    /// Entry name -> byte range of its data in the file.
    let entries: [String: Range<Int>]

    private static let eocdSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64RecordSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    /// Reads the directory of the archive in `bytes`; `file` is named in errors.
    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        let reader = ByteReader(bytes: bytes, file: file)
        func fail(_ reason: String) -> TorchCheckpointError { TorchCheckpointError(file: file, reason: "bad zip archive: \(reason)") }
        let size = bytes.count
        guard size >= 22 else { throw fail("\(size) bytes, too short for a zip archive (truncated?)") }
        var eocd = -1
        var p = size - 22
        let lowest = max(0, size - 22 - 0xFFFF)
        while p >= lowest {
            if reader.u32(p) == Self.eocdSignature { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (truncated file?)") }
        guard reader.u16(eocd + 4) == 0, reader.u16(eocd + 6) == 0 else { throw fail("multi-disk archives are not supported") }
        var count = Int(reader.u16(eocd + 10))
        var directorySize = Int(reader.u32(eocd + 12))
        var directoryOffset = Int(reader.u32(eocd + 16))
        var directoryLimit = eocd
        if eocd >= 20, reader.u32(eocd - 20) == Self.zip64LocatorSignature {
            let record = try reader.offset(reader.u64(eocd - 12), "zip64 end record offset")
            guard record <= eocd - 20 - 56, reader.u32(record) == Self.zip64RecordSignature else {
                throw fail("zip64 locator points to no zip64 end record")
            }
            guard reader.u32(record + 16) == 0, reader.u32(record + 20) == 0 else { throw fail("multi-disk archives are not supported") }
            let count64 = try reader.offset(reader.u64(record + 32), "zip64 entry count")
            let size64 = try reader.offset(reader.u64(record + 40), "zip64 directory size")
            let offset64 = try reader.offset(reader.u64(record + 48), "zip64 directory offset")
            // The classic record either repeats the zip64 values or holds the 0xFFFF... markers.
            guard count == 0xFFFF || count == count64, directorySize == 0xFFFF_FFFF || directorySize == size64,
                  directoryOffset == 0xFFFF_FFFF || directoryOffset == offset64 else {
                throw fail("zip64 end record disagrees with the end-of-central-directory record")
            }
            (count, directorySize, directoryOffset, directoryLimit) = (count64, size64, offset64, record)
        }
        guard directoryOffset <= directoryLimit, directorySize <= directoryLimit - directoryOffset else {
            throw fail("central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file")
        }
        guard count <= directorySize / 46 else {
            throw fail("\(count) entries cannot fit in a \(directorySize)-byte central directory")
        }
        var entries: [String: Range<Int>] = [:]
        var q = directoryOffset
        let end = directoryOffset + directorySize
        for _ in 0 ..< count {
            guard q <= end - 46, reader.u32(q) == Self.centralSignature else { throw fail("central directory entry at \(q) is malformed") }
            let flags = reader.u16(q + 8), method = reader.u16(q + 10)
            var compressed = Int(reader.u32(q + 20)), uncompressed = Int(reader.u32(q + 24))
            let nameLength = Int(reader.u16(q + 28)), extraLength = Int(reader.u16(q + 30)), commentLength = Int(reader.u16(q + 32))
            var local = Int(reader.u32(q + 42))
            let next = q + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw fail("central directory entry at \(q) runs past the directory") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(q + 46) ..< (q + 46 + nameLength)]), as: UTF8.self)
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
                (uncompressed, compressed, local) = try Self.zip64Extra(reader, at: q + 46 + nameLength, length: extraLength,
                                                                        uncompressed: uncompressed, compressed: compressed, local: local,
                                                                        fail: { fail("entry '\(name)': \($0)") })
            }
            guard flags & 1 == 0 else { throw fail("entry '\(name)' is encrypted") }
            guard method == 0 else { throw fail("entry '\(name)' is compressed (method \(method)); torch.save stores entries uncompressed") }
            guard compressed == uncompressed else { throw fail("stored entry '\(name)' declares \(compressed) bytes stored but \(uncompressed) bytes of data") }
            guard local <= directoryOffset - 30, reader.u32(local) == Self.localSignature else {
                throw fail("entry '\(name)' has no local header at offset \(local)")
            }
            let start = local + 30 + Int(reader.u16(local + 26)) + Int(reader.u16(local + 28))
            guard start <= directoryOffset, uncompressed <= directoryOffset - start else {
                throw fail("entry '\(name)' (\(uncompressed) bytes at \(start)) runs past the end of the data")
            }
            guard entries[name] == nil else { throw fail("entry '\(name)' appears twice") }
            entries[name] = start ..< (start + uncompressed)
            q = next
        }
        self.entries = entries
    }

    /// The sizes and offset a zip64 extra field (id 1) gives for the fields marked 0xFFFFFFFF, in order.
    private static func zip64Extra(_ reader: ByteReader, at start: Int, length: Int, uncompressed: Int, compressed: Int, local: Int,
                                   fail: (String) -> TorchCheckpointError) throws -> (Int, Int, Int) {
        var p = start
        let end = start + length
        while p + 4 <= end {
            let id = reader.u16(p), size = Int(reader.u16(p + 2))
            guard p + 4 + size <= end else { break }
            if id == 1 {
                var values = [uncompressed, compressed, local]
                var field = p + 4
                for i in 0 ..< 3 where values[i] == 0xFFFF_FFFF {
                    guard field + 8 <= p + 4 + size else { throw fail("zip64 extra field is too short") }
                    values[i] = try reader.offset(reader.u64(field), "zip64 size")
                    field += 8
                }
                return (values[0], values[1], values[2])
            }
            p += 4 + size
        }
        throw fail("sizes marked zip64 but no zip64 extra field")
    }
}

/// Little-endian loads from a byte buffer; callers check bounds first (loads past the end read 0).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String

    func u16(_ at: Int) -> UInt16 {
        guard at >= 0, at <= bytes.count - 2 else { return 0 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    func u32(_ at: Int) -> UInt32 {
        guard at >= 0, at <= bytes.count - 4 else { return 0 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    func u64(_ at: Int) -> UInt64 {
        guard at >= 0, at <= bytes.count - 8 else { return 0 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// `value` as an offset or size inside the file, or an error naming `what`.
    func offset(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(bytes.count) else {
            throw TorchCheckpointError(file: file, reason: "bad zip archive: \(what) \(value) is past the end of the \(bytes.count)-byte file")
        }
        return Int(value)
    }
}
