import Foundation
import ViTLensCore

/// Reads JPEG and PNG files into ``RGBImage`` exactly as Pillow's `Image.open(f).convert("RGB")` does,
/// and writes PNG.
///
/// The format is chosen by magic bytes, never by file extension. Decoding facts (checked against
/// Pillow 13 by `tools/make_image_fixtures.py`):
/// - JPEG goes through TurboJPEG with the accurate integer DCT (ISLOW) and fancy upsampling, the
///   defaults Pillow uses with libjpeg-turbo, so pixels are bit-identical. Grayscale is replicated
///   to R = G = B. CMYK/YCCK JPEGs are read as Adobe-inverted CMYK and converted with Pillow's
///   `cmyk2rgb` (`R = K' - K'·C'/255` in Pillow's integer arithmetic).
/// - PNG goes through libpng's low-level API with no gamma or colour-management transform (Pillow
///   ignores `gAMA`, `sRGB`, `iCCP`). Alpha is dropped without compositing; gray is replicated;
///   1/2/4-bit gray is scaled by 255/85/17; palette indices past the palette give black.
///   16-bit RGB, RGBA and gray+alpha keep the high byte of each sample (truncation, no rounding);
///   16-bit gray becomes Pillow mode `I;16`, whose conversion to RGB **clips** to 255
///   (a sample of 1000 gives 255, not 3).
/// - EXIF orientation is not applied (Pillow's `Image.open` does not apply it either).
/// - Images of more than ``maxPixels`` pixels are refused (Pillow's decompression-bomb error limit).
public enum ImageIO {
    /// The largest image accepted, in pixels: `2 * 89_478_485`, Pillow's `DecompressionBombError` limit.
    public static let maxPixels = Limits.maxImagePixels

    /// Reads and decodes a JPEG or PNG file.
    /// - Parameter url: The file to read.
    /// - Returns: The image as 8-bit RGB.
    /// - Throws: ``ImageError`` naming the file: `.fileNotFound`, `.notAnImage`, `.truncated`,
    ///   `.corrupt` or `.unsupported`.
    public static func load(_ url: URL) throws -> RGBImage {
        let file = url.path
        let data: Data
        do { data = try UserFile.read(file, mapped: true) } catch {
            if error == .isDirectory { throw ImageError.unsupported(file: file, reason: "is a directory, not an image file") }
            throw ImageError.file(file, error)
        }
        return try decode(data, file: file)
    }

    /// Decodes JPEG or PNG bytes, chosen by magic bytes.
    /// - Parameters:
    ///   - data: The whole file's bytes.
    ///   - file: A name for error messages.
    ///   - maxPixels: The largest image accepted (at most ``maxPixels``), checked from the header
    ///     before any pixel buffer is allocated (the server lowers it).
    /// - Returns: The image as 8-bit RGB.
    /// - Throws: ``ImageError`` naming `file`.
    public static func decode(_ data: Data, file: String, maxPixels: Int = ImageIO.maxPixels) throws -> RGBImage {
        let limit = min(maxPixels, ImageIO.maxPixels)
        let head = [UInt8](data.prefix(8))
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF {
            return try decodeJPEG(data, file: file, maxPixels: limit)
        }
        if head == pngSignature {
            return try decodePNG(data, file: file, maxPixels: limit)
        }
        throw ImageError.notAnImage(file: file)
    }

    /// The 8 bytes every PNG file starts with.
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Writes `image` to `url` as an 8-bit RGB PNG, atomically (a temporary file in the same folder,
    /// then a rename), so readers never see a partial file.
    /// - Throws: ``ImageError/writeFailed(file:reason:)``.
    public static func writePNG(_ image: RGBImage, to url: URL) throws {
        let data = try encodePNG(image, file: url.path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.globallyUniqueString).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw ImageError.writeFailed(file: url.path, reason: error.localizedDescription)
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ImageError.writeFailed(file: url.path, reason: reason)
        }
    }

    /// Encodes `image` as an 8-bit RGB PNG with libpng's fast settings (no gamma chunk is relied on:
    /// decoding the result gives back the same bytes).
    /// - Throws: ``ImageError/writeFailed(file:reason:)`` naming `<memory>` if libpng fails.
    public static func encodePNG(_ image: RGBImage) throws -> Data {
        try encodePNG(image, file: "<memory>")
    }
}
