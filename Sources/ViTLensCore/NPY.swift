import Foundation

/// Errors reading or writing NumPy `.npy` files; each message names the file.
public enum NPYError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(file: String)
    /// The path exists but is no readable regular file (a FIFO, a device, a directory, a symbolic
    /// link loop, no permission).
    case unreadableFile(file: String, problem: FileProblem)
    case notNPY(file: String)
    case badHeader(file: String, reason: String)
    case unsupportedDType(file: String, dtype: String)
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    case writeFailed(file: String, reason: String)
    /// The header dict names `key` twice (NumPy's reader would silently take the last one).
    case duplicateKey(file: String, key: String)
    /// The data section holds more bytes than the shape and dtype need (`foundBytes > expectedBytes`).
    case trailingData(file: String, expectedBytes: Int, foundBytes: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let f): return "\(f): no such file"
        case .unreadableFile(let f, let p): return "\(f): \(p)"
        case .notNPY(let f): return "\(f): not a NumPy .npy file (bad magic)"
        case .badHeader(let f, let r): return "\(f): bad .npy header: \(r)"
        case .unsupportedDType(let f, let d): return "\(f): unsupported .npy dtype '\(d)' (float32, float64, float16, int64, int32, uint8, bool are read)"
        case .truncated(let f, let e, let n): return "\(f): truncated .npy data: expected \(e) bytes, found \(n)"
        case .writeFailed(let f, let r): return "\(f): cannot write: \(r)"
        case .duplicateKey(let f, let k): return "\(f): bad .npy header: key '\(k)' appears twice"
        case .trailingData(let f, let e, let n):
            return "\(f): .npy data is \(n) bytes but the header's shape and dtype describe \(e) (extra data after the array)"
        }
    }
}

/// A NumPy array as read from a `.npy` file: its shape and values widened to the Swift type.
public struct NPYArray: Sendable {
    /// The dtype string from the header, e.g. `<f4`.
    public var dtype: String
    /// Dimensions, outermost first (C order).
    public var shape: [Int]
    /// Values as `Float` (float and bool/int types converted), row-major.
    public var floats: [Float]
    /// Values as `Int64` when the file holds an integer or bool type, else empty.
    public var integers: [Int64]

    /// The array as a float tensor.
    public var tensor: Tensor { Tensor(shape: shape, values: floats) }
}

/// Reads and writes NumPy `.npy` files (format 1.0/2.0/3.0, little-endian, C order).
public enum NPY {
    /// Reads a `.npy` file.
    /// - Throws: ``NPYError`` naming the file on any defect.
    public static func read(_ url: URL) throws -> NPYArray {
        let file = url.path
        let data: Data
        do { data = try UserFile.read(file, mapped: true) } catch {
            throw error == .noSuchFile ? NPYError.fileNotFound(file: file) : NPYError.unreadableFile(file: file, problem: error)
        }
        return try decode(data, file: file)
    }

    /// Decodes `.npy` bytes; `file` is used in error messages.
    public static func decode(_ data: Data, file: String) throws -> NPYArray {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1 ... 5]) == Array("NUMPY".utf8) else {
            throw NPYError.notNPY(file: file)
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw NPYError.badHeader(file: file, reason: "short header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        } else {
            throw NPYError.badHeader(file: file, reason: "format version \(major)")
        }
        guard headerStart + headerLength <= data.count else {
            throw NPYError.badHeader(file: file, reason: "header past the end of the file")
        }
        // NumPy writes the header as latin-1 (format 1.0 and 2.0) or UTF-8 (3.0).
        let headerBytes = data.subdata(in: (data.startIndex + headerStart) ..< (data.startIndex + headerStart + headerLength))
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw NPYError.badHeader(file: file, reason: "header is not UTF-8 text")
        }
        let dict = try NPYHeaderDict(header, file: file)
        let dtype = dict.descr
        guard !dict.fortranOrder else { throw NPYError.badHeader(file: file, reason: "Fortran order is not supported") }
        let shape = dict.shape
        let size: Int
        switch dtype {
        case "<f4", "<i4", "<u4": size = 4
        case "<f8", "<i8", "<u8": size = 8
        case "<f2", "<i2", "<u2": size = 2
        case "|u1", "|i1", "|b1", "<u1", "<i1": size = 1
        default: throw NPYError.unsupportedDType(file: file, dtype: dtype)
        }
        // Checked products: a shape whose element or byte count overflows is refused, never trapped on.
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NPYError.badHeader(file: file, reason: "shape \(shape) has more elements than fit in memory") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw NPYError.badHeader(file: file, reason: "shape \(shape) of \(dtype) has more bytes than fit in memory") }
        let payloadStart = headerStart + headerLength
        let available = data.count - payloadStart
        guard available >= byteCount else {
            throw NPYError.truncated(file: file, expectedBytes: byteCount, foundBytes: available)
        }
        guard available == byteCount else {
            throw NPYError.trailingData(file: file, expectedBytes: byteCount, foundBytes: available)
        }
        var floats = [Float](repeating: 0, count: count)
        var ints: [Int64] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard count > 0, let base = raw.baseAddress else { return }
            let p = base.advanced(by: payloadStart)
            func load<T>(_: T.Type, _ i: Int) -> T { p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self) }
            switch dtype {
            case "<f4": for i in 0 ..< count { floats[i] = Float(bitPattern: UInt32(littleEndian: load(UInt32.self, i))) }
            case "<f8": for i in 0 ..< count { floats[i] = Float(Double(bitPattern: UInt64(littleEndian: load(UInt64.self, i)))) }
            case "<f2": for i in 0 ..< count { floats[i] = Float(halfBits: UInt16(littleEndian: load(UInt16.self, i))) }
            default:
                ints = [Int64](repeating: 0, count: count)
                for i in 0 ..< count {
                    let v: Int64
                    switch dtype {
                    case "<i8": v = Int64(littleEndian: load(Int64.self, i))
                    case "<u8": v = Int64(truncatingIfNeeded: UInt64(littleEndian: load(UInt64.self, i)))
                    case "<i4": v = Int64(Int32(littleEndian: load(Int32.self, i)))
                    case "<u4": v = Int64(UInt32(littleEndian: load(UInt32.self, i)))
                    case "<i2": v = Int64(Int16(littleEndian: load(Int16.self, i)))
                    case "<u2": v = Int64(UInt16(littleEndian: load(UInt16.self, i)))
                    case "|i1", "<i1": v = Int64(load(Int8.self, i))
                    default: v = Int64(load(UInt8.self, i))
                    }
                    ints[i] = v
                    floats[i] = Float(v)
                }
            }
        }
        return NPYArray(dtype: dtype, shape: shape, floats: floats, integers: ints)
    }

    /// Encodes a float32 array (`<f4`) with the given shape.
    public static func encode(float32 values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match value count")
        var data = header(descr: "<f4", shape: shape)
        values.withUnsafeBufferPointer { b in
            var le = [UInt32](repeating: 0, count: b.count)
            for i in 0 ..< b.count { le[i] = b[i].bitPattern.littleEndian }
            le.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Encodes an int64 array (`<i8`).
    public static func encode(int64 values: [Int64], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match value count")
        var data = header(descr: "<i8", shape: shape)
        let le = values.map { $0.littleEndian }
        le.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Encodes a uint8 array (`|u1`).
    public static func encode(uint8 values: [UInt8], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape does not match value count")
        var data = header(descr: "|u1", shape: shape)
        data.append(contentsOf: values)
        return data
    }

    /// Writes a float tensor as `<f4`, atomically (temporary file, then rename).
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try writeData(encode(float32: tensor.values, shape: tensor.shape), to: url)
    }

    /// Writes encoded `.npy` bytes atomically.
    public static func writeData(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw NPYError.writeFailed(file: url.path, reason: "\(error.localizedDescription)")
        }
    }

    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that magic(6) + version(2) + length(2) + header is a multiple of 64, ending in '\n'.
        let unpadded = 10 + dict.utf8.count + 1
        let pad = (64 - unpadded % 64) % 64
        dict += String(repeating: " ", count: pad) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}

extension Float {
    /// Widens IEEE 754 half-precision bits to `Float` (exact for every half value).
    public init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1f)
        let mant = UInt32(h & 0x3ff)
        if exp == 0 {
            // Zero or subnormal: mant * 2^-24.
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -v : v
        } else if exp == 31 {
            self = Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
        } else {
            self = Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
        }
    }

    /// Widens bfloat16 bits to `Float` (exact).
    public init(bfloat16Bits b: UInt16) {
        self = Float(bitPattern: UInt32(b) << 16)
    }
}
