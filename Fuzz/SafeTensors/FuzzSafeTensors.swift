import Foundation
import FuzzSupport
import ViTLensCheckpoint

/// libFuzzer target: a `.safetensors` file (header length, JSON header, data section), mapped and
/// validated by `SafeTensorsFile`, then every tensor converted to floats.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzScratch.write("model.safetensors", FuzzInput.data(input, size))
    guard let file = try? SafeTensorsFile(contentsOf: url) else { return 0 }
    for name in file.names {
        _ = try? file.floats(name)
        _ = file.info(name)
    }
    _ = file.metadata
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
