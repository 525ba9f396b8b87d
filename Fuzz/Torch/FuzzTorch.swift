import Foundation
import FuzzSupport
import ViTLensCheckpoint

/// libFuzzer target: a `torch.save` file (zip or legacy pickle), read by `TorchCheckpoint` (zip
/// directory, pickle machine, storage bounds), then every tensor converted to floats; a DINO
/// training checkpoint's `student` is read too when present.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzScratch.write("model.pth", FuzzInput.data(input, size))
    for key in [nil, "student"] as [String?] {
        guard let file = try? TorchCheckpoint(url: url, key: key) else { continue }
        for name in file.names {
            _ = file.shape(of: name)
            _ = try? file.floats(name, requireFinite: true)
        }
    }
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
