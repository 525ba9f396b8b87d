import CTurboJPEG
import Foundation
import ViTLensCore

extension ImageIO {
    /// Decodes a JPEG like Pillow: accurate DCT, fancy upsampling, gray replicated, CMYK via Pillow's formula.
    ///
    /// Truncation (Pillow: "image file is truncated") is found by walking the file's segments to the
    /// EOI marker before decoding, and by libjpeg's "Premature end of JPEG file" warning (libjpeg
    /// would otherwise pad the missing data and return a partly gray image). Other libjpeg warnings
    /// (e.g. extraneous bytes before a marker) are ignored, as Pillow ignores them.
    static func decodeJPEG(_ data: Data, file: String, maxPixels: Int) throws -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw ImageError.unsupported(file: file, reason: "cannot start the TurboJPEG decompressor")
        }
        defer { tjDestroy(handle) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> RGBImage in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { throw ImageError.truncated(file: file) }
            guard jpegIsComplete(raw) else { throw ImageError.truncated(file: file) }
            let size = UInt(raw.count)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            if tjDecompressHeader3(handle, base, size, &width, &height, &subsampling, &colorspace) != 0 {
                throw failure(handle, file: file)
            }
            let w = Int(width), h = Int(height)
            guard w > 0, h > 0 else { throw ImageError.corrupt(file: file, reason: "JPEG has size \(w) x \(h)") }
            guard w * h <= maxPixels else {
                throw ImageError.unsupported(file: file, reason: "\(w) x \(h) pixels exceeds the limit of \(maxPixels)")
            }
            let flags = Int32(TJFLAG_ACCURATEDCT)
            switch colorspace {
            case Int32(TJCS_GRAY.rawValue):
                var gray = [UInt8](repeating: 0, count: w * h)
                try decompress(handle, base, size, into: &gray, width: w, height: h,
                               format: Int32(TJPF_GRAY.rawValue), channels: 1, flags: flags, file: file)
                var pixels = [UInt8](repeating: 0, count: w * h * 3)
                pixels.withUnsafeMutableBufferPointer { out in
                    for i in 0 ..< w * h {
                        let v = gray[i]
                        out[3 * i] = v
                        out[3 * i + 1] = v
                        out[3 * i + 2] = v
                    }
                }
                return RGBImage(width: w, height: h, pixels: pixels)
            case Int32(TJCS_CMYK.rawValue), Int32(TJCS_YCCK.rawValue):
                var cmyk = [UInt8](repeating: 0, count: w * h * 4)
                try decompress(handle, base, size, into: &cmyk, width: w, height: h,
                               format: Int32(TJPF_CMYK.rawValue), channels: 4, flags: flags, file: file)
                return RGBImage(width: w, height: h, pixels: pillowCMYKToRGB(cmyk, count: w * h))
            default:
                var pixels = [UInt8](repeating: 0, count: w * h * 3)
                try decompress(handle, base, size, into: &pixels, width: w, height: h,
                               format: Int32(TJPF_RGB.rawValue), channels: 3, flags: flags, file: file)
                return RGBImage(width: w, height: h, pixels: pixels)
            }
        }
    }

    private static func decompress(
        _ handle: tjhandle, _ base: UnsafePointer<UInt8>, _ size: UInt, into buffer: inout [UInt8],
        width: Int, height: Int, format: Int32, channels: Int, flags: Int32, file: String
    ) throws {
        let status = buffer.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, base, size, out.baseAddress, Int32(width), Int32(width * channels),
                          Int32(height), format, flags)
        }
        guard status != 0 else { return }
        let message = String(cString: tjGetErrorStr2(handle))
        if message.contains("Premature end") { throw ImageError.truncated(file: file) }
        // A warning leaves a fully decoded image; Pillow accepts such files.
        if tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) { return }
        throw ImageError.corrupt(file: file, reason: "JPEG: \(message)")
    }

    private static func failure(_ handle: tjhandle, file: String) -> ImageError {
        let message = String(cString: tjGetErrorStr2(handle))
        if message.contains("Premature end") { return .truncated(file: file) }
        if message.contains("Unsupported JPEG data precision") || message.contains("Unsupported color conversion") {
            return .unsupported(file: file, reason: "JPEG: \(message)")
        }
        return .corrupt(file: file, reason: "JPEG: \(message)")
    }

    /// Walks the file's structure from SOI to EOI: marker segments by their lengths, entropy-coded
    /// data after each start-of-scan up to the next marker (skipping stuffed `FF 00`, fill bytes and
    /// restart markers).
    ///
    /// - Returns: `false` when the data ends before an EOI marker, inside a segment or inside scan
    ///   data: the file is truncated. (Pillow also calls a file without EOI truncated; bytes after
    ///   EOI are ignored by both.)
    static func jpegIsComplete(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 2
        var inScan = false
        while true {
            if inScan {
                // Entropy-coded data: stop at a 0xFF that starts a real marker.
                while i + 1 < n {
                    if bytes[i] == 0xFF {
                        let next = bytes[i + 1]
                        if next == 0x00 || (0xD0 ... 0xD7).contains(next) || next == 0xFF {
                            i += next == 0xFF ? 1 : 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                inScan = false
            }
            while i < n, bytes[i] != 0xFF { i += 1 }  // junk between segments (Pillow skips it too)
            while i < n, bytes[i] == 0xFF { i += 1 }  // fill bytes
            guard i < n else { return false }
            let marker = bytes[i]
            i += 1
            switch marker {
            case 0xD9:
                return true
            case 0x00, 0x01, 0xD0 ... 0xD8:
                continue  // stray stuffing, TEM, RSTn, SOI: no length
            default:
                guard i + 2 <= n else { return false }
                let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                guard length >= 2, i + length <= n else { return false }
                i += length
                inScan = marker == 0xDA
            }
        }
    }

    /// Pillow's CMYK JPEG path: samples are read as Adobe-inverted (`CMYK;I`), then `cmyk2rgb`
    /// computes `clip8(nk - muldiv255(c, nk))` with `nk = 255 - k` and
    /// `muldiv255(a, b) = ((a*b + 128) >> 8 + a*b + 128) >> 8`.
    static func pillowCMYKToRGB(_ cmyk: [UInt8], count: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: count * 3)
        cmyk.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< count {
                    let nk = Int(src[4 * i + 3])  // 255 - (255 - raw k)
                    for c in 0 ..< 3 {
                        let ink = 255 - Int(src[4 * i + c])
                        let t = ink * nk + 128
                        let product = ((t >> 8) + t) >> 8
                        dst[3 * i + c] = UInt8(clamping: nk - product)
                    }
                }
            }
        }
        return rgb
    }
}
