import CPNG
import CViTLensPNG
import Foundation
import ViTLensCore

extension ImageIO {
    /// Decodes a PNG to RGB the way Pillow's `Image.open(f).convert("RGB")` does (see ``ImageIO``).
    static func decodePNG(_ data: Data, file: String, maxPixels: Int) throws -> RGBImage {
        var png = vl_png_image()
        let status = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> vl_png_status in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return VL_PNG_TRUNCATED }
            return vl_png_decode(base, raw.count, maxPixels, &png)
        }
        defer { vl_png_free(&png) }
        let message = withUnsafeBytes(of: png.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch status {
        case VL_PNG_OK: break
        case VL_PNG_TRUNCATED: throw ImageError.truncated(file: file)
        case VL_PNG_TOO_LARGE: throw ImageError.unsupported(file: file, reason: "PNG: \(message)")
        case VL_PNG_NO_MEMORY: throw ImageError.unsupported(file: file, reason: "PNG: out of memory")
        default: throw ImageError.corrupt(file: file, reason: "PNG: \(message)")
        }
        guard let samples = png.pixels else { throw ImageError.corrupt(file: file, reason: "PNG: no pixel data") }
        let palette = withUnsafeBytes(of: png.palette) { [UInt8]($0) }
        let pixels = pillowRGB(
            samples: UnsafePointer(samples), width: Int(png.width), height: Int(png.height),
            rowBytes: png.row_bytes, depth: Int(png.bit_depth), colorType: Int(png.color_type),
            palette: palette, paletteCount: Int(png.palette_count))
        return RGBImage(width: Int(png.width), height: Int(png.height), pixels: pixels)
    }

    /// Converts raw PNG samples (unpacked below 8 bits, big-endian at 16 bits) to RGB8 with Pillow's rules.
    private static func pillowRGB(
        samples: UnsafePointer<UInt8>, width: Int, height: Int, rowBytes: Int, depth: Int,
        colorType: Int, palette: [UInt8], paletteCount: Int
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        // Full 256-entry palette: indices past the PNG palette are black, as in Pillow.
        var table = [UInt8](repeating: 0, count: 256 * 3)
        for i in 0 ..< min(paletteCount, 256) * 3 { table[i] = palette[i] }
        let wide = depth == 16
        let grayScale: Int = depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1
        out.withUnsafeMutableBufferPointer { dst in
            guard let base = dst.baseAddress else { return }
            for y in 0 ..< height {
                let row = samples + y * rowBytes
                let o = base + y * width * 3
                switch colorType {
                case 0:  // gray
                    for x in 0 ..< width {
                        let v: UInt8
                        if wide {
                            // Pillow opens 16-bit gray as "I;16"; I;16 -> RGB clips at 255.
                            v = UInt8(min(Int(row[2 * x]) << 8 | Int(row[2 * x + 1]), 255))
                        } else {
                            v = UInt8(truncatingIfNeeded: Int(row[x]) * grayScale)
                        }
                        o[3 * x] = v
                        o[3 * x + 1] = v
                        o[3 * x + 2] = v
                    }
                case 2, 6:  // RGB, RGBA: drop alpha, keep the high byte of 16-bit samples
                    let channels = colorType == 2 ? 3 : 4
                    let step = wide ? 2 : 1
                    for x in 0 ..< width {
                        let p = row + x * channels * step
                        o[3 * x] = p[0]
                        o[3 * x + 1] = p[step]
                        o[3 * x + 2] = p[2 * step]
                    }
                case 3:  // palette
                    for x in 0 ..< width {
                        let index = Int(row[x]) * 3
                        o[3 * x] = table[index]
                        o[3 * x + 1] = table[index + 1]
                        o[3 * x + 2] = table[index + 2]
                    }
                default:  // 4: gray + alpha
                    let step = wide ? 4 : 2
                    for x in 0 ..< width {
                        let v = row[x * step]
                        o[3 * x] = v
                        o[3 * x + 1] = v
                        o[3 * x + 2] = v
                    }
                }
            }
        }
        return out
    }

    /// Encodes RGB8 as PNG through libpng's simplified API with `PNG_IMAGE_FLAG_FAST`.
    ///
    /// One pass into a buffer sized for incompressible data; if libpng reports it too small, a
    /// second pass into a buffer of the size it asked for.
    static func encodePNG(_ image: RGBImage, file: String) throws -> Data {
        guard image.width > 0, image.height > 0 else {
            throw ImageError.writeFailed(file: file, reason: "cannot encode an empty \(image.width) x \(image.height) image")
        }
        let stride = Int32(image.width * 3)
        let raw = image.height * (image.width * 3 + 1)
        var capacity = raw + raw / 64 + 4096  // stored deflate blocks plus chunk overhead
        for _ in 0 ..< 2 {
            var descriptor = png_image()
            descriptor.version = png_uint_32(PNG_IMAGE_VERSION)
            descriptor.width = png_uint_32(image.width)
            descriptor.height = png_uint_32(image.height)
            descriptor.format = png_uint_32(PNG_FORMAT_RGB)
            descriptor.flags = png_uint_32(PNG_IMAGE_FLAG_FAST)
            var data = Data(count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = data.withUnsafeMutableBytes { out in
                image.pixels.withUnsafeBytes { pixels in
                    png_image_write_to_memory(&descriptor, out.baseAddress, &size, 0, pixels.baseAddress, stride, nil)
                }
            }
            let message = pngMessage(&descriptor)
            png_image_free(&descriptor)
            if ok != 0 {
                data.count = Int(size)
                return data
            }
            guard Int(size) > capacity else {
                throw ImageError.writeFailed(file: file, reason: "PNG: \(message)")
            }
            capacity = Int(size)
        }
        throw ImageError.writeFailed(file: file, reason: "PNG: the encoder's output size changed between passes")
    }

    private static func pngMessage(_ descriptor: inout png_image) -> String {
        withUnsafeBytes(of: descriptor.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
