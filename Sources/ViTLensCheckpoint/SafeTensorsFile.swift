import Foundation
import ViTLensCore

/// A memory-mapped `.safetensors` file whose header has been checked in full.
///
/// Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the data section; offsets are relative to its start.
///
/// The initialiser maps the file (no read) and validates every entry before returning: the header
/// length lies inside the file, the header is a JSON object, each dtype is known, each shape is a
/// list of non-negative integers, `begin <= end <= data section size`,
/// `end - begin == product(shape) * dtype size`, and no two non-empty byte ranges overlap
/// (zero-size tensors may share an offset; gaps between tensors are allowed). A bad entry is never
/// skipped: the first defect, in sorted key order, is thrown. A header longer than
/// ``maxHeaderLength`` and a key given twice (at any level) are refused.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this was read from.
    public let url: URL
    /// Tensor names, sorted.
    public let names: [String]
    /// The header's `__metadata__` strings (empty when absent).
    public let metadata: [String: String]

    private let mapping: MappedFile
    private let entries: [String: SafeTensorInfo]

    /// Maps and validates the file at `url`.
    /// - Throws: ``CheckpointError`` naming the file: `fileNotFound`, `headerTooLarge`, `headerPastEnd`,
    ///   `badHeader`, `duplicateKey`,
    ///   `unknownDType`, `offsetsOutOfRange`, `byteCountMismatch` or `overlappingOffsets`.
    public init(contentsOf url: URL) throws {
        self.url = url
        let file = url.path
        mapping = try MappedFile(path: file)
        let bytes = mapping.bytes
        guard bytes.count >= 8 else {
            throw CheckpointError.badHeader(file: file, reason: "file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw CheckpointError.headerPastEnd(file: file, headerLength: headerLength, fileSize: bytes.count)
        }
        guard headerLength <= UInt64(Self.maxHeaderLength) else {
            throw CheckpointError.headerTooLarge(file: file, headerLength: headerLength, limit: Self.maxHeaderLength)
        }
        let dataStart = 8 + Int(headerLength)
        let header = Data(bytes[8 ..< dataStart])
        let parsed = try Self.parseHeader(header, dataSize: bytes.count - dataStart, dataStart: dataStart, file: file)
        entries = parsed.entries
        metadata = parsed.metadata
        names = parsed.entries.keys.sorted()
    }

    /// The largest JSON header accepted, in bytes: 100,000,000, the limit of the reference
    /// `safetensors` reader (`MAX_HEADER_SIZE`).
    public static let maxHeaderLength = 100_000_000

    /// The header entry for `name`, or `nil` when the file has no such tensor.
    public func info(_ name: String) -> SafeTensorInfo? { entries[name] }

    /// The tensor's values as `Float`, row-major.
    ///
    /// F32 is copied; F16 and BF16 are widened exactly (NaN and infinities included); F64 is
    /// rounded to the nearest `Float`.
    /// - Throws: ``CheckpointError/missingWeight(key:file:)`` when there is no such tensor,
    ///   ``CheckpointError/unknownDType(file:key:dtype:)`` for integer and bool tensors.
    public func floats(_ name: String) throws -> [Float] {
        try floats(name, requireFinite: false)
    }

    /// The tensor's values as `Float`, like ``floats(_:)``, optionally requiring every value to be
    /// finite (the model weights' contract).
    ///
    /// The conversion runs in chunks of ``scanChunk`` elements; with `requireFinite` each chunk is
    /// checked for NaN and infinities right after widening, while it is still in cache (an F64
    /// beyond the `Float` range counts as infinite).
    /// - Throws: as ``floats(_:)``, and ``CheckpointError/nonFiniteWeight(key:file:index:value:)``
    ///   naming the first bad element when `requireFinite` is set.
    public func floats(_ name: String, requireFinite: Bool) throws -> [Float] {
        guard let info = entries[name] else { throw CheckpointError.missingWeight(key: name, file: url.path) }
        guard info.dtype.isFloatingPoint else {
            throw CheckpointError.unknownDType(file: url.path, key: name, dtype: info.dtype.rawValue)
        }
        guard info.count > 0, mapping.base != nil else { return [] }
        var failure: (any Error)?
        let values = [Float](unsafeUninitializedCapacity: info.count) { dst, initialized in
            do {
                try floats(name, requireFinite: requireFinite, into: dst)
                initialized = info.count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return values
    }

    /// Writes the tensor's values as `Float` into `out` (which must hold exactly its element
    /// count), with the same conversion and checks as ``floats(_:requireFinite:)``: the way to
    /// fill a model's own buffer without an intermediate array (one copy out of the mapping
    /// instead of two, and half the fresh pages at load).
    /// - Throws: as ``floats(_:requireFinite:)``; on a throw `out` is partly written.
    public func floats(_ name: String, requireFinite: Bool, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let info = entries[name] else { throw CheckpointError.missingWeight(key: name, file: url.path) }
        guard info.dtype.isFloatingPoint else {
            throw CheckpointError.unknownDType(file: url.path, key: name, dtype: info.dtype.rawValue)
        }
        let n = info.count
        precondition(out.count == n, "floats(into:) needs a buffer of exactly \(n) elements")
        guard n > 0, let base = mapping.base, let dst = out.baseAddress else { return }
        let src = base + info.byteRange.lowerBound
        var start = 0
        while start < n {
            let m = min(Self.scanChunk, n - start)
            Self.widen(info.dtype, from: src + start * info.dtype.size, to: dst + start, count: m)
            if requireFinite, let i = Finite.firstNonFinite(dst + start, count: m) {
                throw CheckpointError.nonFiniteWeight(key: name, file: url.path, index: start + i, value: Finite.describe(dst[start + i]))
            }
            start += m
        }
    }

    /// Elements converted and checked per step of ``floats(_:)`` (64 KiB of `Float`: the chunk is
    /// still in L2 when the finiteness scan reads it).
    public static let scanChunk = 16_384

    /// The tensor as a ``Tensor`` with its header shape (see ``floats(_:)``).
    public func tensor(_ name: String) throws -> Tensor {
        let values = try floats(name)
        // floats(_:) returned product(shape) values, so the shape holds them.
        return Tensor(shape: entries[name]?.shape ?? [values.count], values: values)
    }

    // MARK: - Conversion

    /// Converts `count` little-endian elements at `src` (any alignment) to `Float` at `dst`.
    static func widen(_ dtype: SafeTensorsDType, from src: UnsafeRawPointer, to dst: UnsafeMutablePointer<Float>, count n: Int) {
        switch dtype {
        case .F32:
            #if _endian(little)
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
            #else
            for i in 0 ..< n { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
            #endif
        case .BF16:
            for i in 0 ..< n {
                let b = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                dst[i] = Float(bitPattern: UInt32(b) << 16)
            }
        case .F16:
            halfTable.withUnsafeBufferPointer { table in
                let t = table.baseAddress.unsafelyUnwrapped
                for i in 0 ..< n {
                    dst[i] = t[Int(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))]
                }
            }
        case .F64:
            for i in 0 ..< n {
                dst[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        case .I64, .I32, .I16, .I8, .U8, .BOOL:
            preconditionFailure("integer dtypes are rejected before conversion")
        }
    }

    /// `Float(halfBits:)` for all 65,536 half-precision bit patterns (256 KiB, built on first use),
    /// so widening F16 is one table load per element.
    private static let halfTable: [Float] = (0 ... 0xFFFF).map { Float(halfBits: UInt16($0)) }

    // MARK: - Header validation

    private struct ParsedHeader {
        var entries: [String: SafeTensorInfo]
        var metadata: [String: String]
    }

    private static func parseHeader(_ header: Data, dataSize: Int, dataStart: Int, file: String) throws -> ParsedHeader {
        let root: [String: JSONValue]
        do {
            let value = try JSONReader.parseDictionaryKeyed(header)
            guard let object = value.dictionary else {
                throw CheckpointError.badHeader(file: file, reason: "header is not a JSON object")
            }
            root = object
        } catch let error as JSONReadError {
            if let duplicate = error.duplicateKey {
                throw CheckpointError.duplicateKey(file: file, key: duplicate.key, object: duplicate.object)
            }
            throw CheckpointError.badHeader(file: file, reason: "header is not valid JSON (\(error))")
        }

        var metadata: [String: String] = [:]
        if let meta = root["__metadata__"] {
            guard let object = meta.members else {
                throw CheckpointError.badHeader(file: file, reason: "__metadata__ is not an object of strings")
            }
            for (k, v) in object {
                guard let s = v.string else {
                    throw CheckpointError.badHeader(file: file, reason: "__metadata__ entry '\(k)' is not a string")
                }
                metadata[k] = s
            }
        }

        var entries: [String: SafeTensorInfo] = [:]
        entries.reserveCapacity(root.count)
        for key in root.keys.sorted() where key != "__metadata__" {
            entries[key] = try parseEntry(key, root[key].unsafelyUnwrapped, dataSize: dataSize, dataStart: dataStart, file: file)
        }
        try checkOverlaps(entries, file: file)
        return ParsedHeader(entries: entries, metadata: metadata)
    }

    private static func parseEntry(_ key: String, _ value: JSONValue, dataSize: Int, dataStart: Int, file: String) throws -> SafeTensorInfo {
        guard case .object = value else {
            throw CheckpointError.badHeader(file: file, reason: "entry '\(key)' is not an object")
        }
        guard let dtypeName = value["dtype"]?.string else {
            throw CheckpointError.badHeader(file: file, reason: "tensor '\(key)' has no \"dtype\" string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw CheckpointError.unknownDType(file: file, key: key, dtype: dtypeName)
        }
        guard let shape = value["shape"]?.naturals else {
            throw CheckpointError.badHeader(file: file, reason: "tensor '\(key)' needs \"shape\" as a list of non-negative integers")
        }
        guard let offsets = value["data_offsets"]?.naturals, offsets.count == 2 else {
            throw CheckpointError.badHeader(file: file, reason: "tensor '\(key)' needs \"data_offsets\" as [begin, end] of non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataSize else {
            throw CheckpointError.offsetsOutOfRange(file: file, key: key)
        }
        var expected = dtype.size
        for d in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw CheckpointError.badHeader(file: file, reason: "tensor '\(key)' shape \(shape) is too large")
            }
            expected = product
        }
        guard end - begin == expected else {
            throw CheckpointError.byteCountMismatch(file: file, key: key, expected: expected, found: end - begin)
        }
        return SafeTensorInfo(name: key, dtype: dtype, shape: shape, byteRange: (dataStart + begin) ..< (dataStart + end))
    }

    /// Throws for the first pair of non-empty tensors whose byte ranges intersect.
    private static func checkOverlaps(_ entries: [String: SafeTensorInfo], file: String) throws {
        let ranges = entries.values.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        var furthest: SafeTensorInfo?
        for info in ranges {
            if let previous = furthest, info.byteRange.lowerBound < previous.byteRange.upperBound {
                throw CheckpointError.overlappingOffsets(file: file, key: info.name, other: previous.name)
            }
            if furthest == nil || info.byteRange.upperBound > furthest.unsafelyUnwrapped.byteRange.upperBound {
                furthest = info
            }
        }
    }
}
