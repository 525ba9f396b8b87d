import ViTLensCore

/// An opaque 8-bit sRGB colour.
public struct RGBColor: Sendable, Hashable, CustomStringConvertible {
    /// Red, 0...255.
    public var red: UInt8
    /// Green, 0...255.
    public var green: UInt8
    /// Blue, 0...255.
    public var blue: UInt8

    /// A colour from its three channels.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    /// Pure white.
    public static let white = RGBColor(255, 255, 255)
    /// Pure black.
    public static let black = RGBColor(0, 0, 0)

    /// `#rrggbb`, lower case (the form SVG and HTML take).
    public var hexString: String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for v in [red, green, blue] {
            s.append(digits[Int(v >> 4)])
            s.append(digits[Int(v & 0xF)])
        }
        return s
    }

    public var description: String { hexString }

    /// Relative luminance proxy `0.299 R + 0.587 G + 0.114 B` in 0...255 (ITU-R BT.601 weights).
    ///
    /// Used only to choose black or white text over a background.
    public var luma: Double { 0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue) }

    /// Black or white, whichever reads better on this colour (luma above 128 gets black).
    public var contrastingText: RGBColor { luma > 128 ? .black : .white }

    /// The colour a fraction `t` of the way from `self` to `other`, each channel rounded half up.
    ///
    /// `t` is clamped to `[0, 1]`: `c = round((1 - t) * self + t * other)`.
    public func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        let t = min(max(t, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(((1 - t) * Double(a) + t * Double(b) + 0.5).rounded(.down))
        }
        return RGBColor(mix(red, other.red), mix(green, other.green), mix(blue, other.blue))
    }
}

extension RGBImage {
    /// An image filled with one colour.
    public init(width: Int, height: Int, color: RGBColor) {
        guard color.red != color.green || color.green != color.blue else {
            self.init(width: width, height: height, pixels: [UInt8](repeating: color.red, count: width * height * 3))
            return
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let row = width * 3
        pixels.withUnsafeMutableBufferPointer { px in
            guard let base = px.baseAddress, row > 0, height > 0 else { return }
            // The first row pixel by pixel, then copies of it (fast in debug builds too).
            for o in stride(from: 0, to: row, by: 3) {
                base[o] = color.red
                base[o + 1] = color.green
                base[o + 2] = color.blue
            }
            for y in 1 ..< height { (base + y * row).update(from: base, count: row) }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The colour at column `x`, row `y` (both must be in range).
    public func color(x: Int, y: Int) -> RGBColor {
        let o = (y * width + x) * 3
        return RGBColor(pixels[o], pixels[o + 1], pixels[o + 2])
    }
}
