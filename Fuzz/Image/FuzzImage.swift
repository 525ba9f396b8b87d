import Foundation
import FuzzSupport
import ViTLensCore
import ViTLensImage

/// libFuzzer target: JPEG and PNG bytes through `ImageIO.decode` (format chosen by magic bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let image = try? ImageIO.decode(FuzzInput.data(input, size), file: "fuzz-image") else { return 0 }
    if image.pixels.count != image.width * image.height * 3 {
        fatalError("decoded \(image.pixels.count) bytes for \(image.width) x \(image.height)")
    }
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
