import Foundation
import FuzzSupport
import ViTLensCheckpoint
import ViTLensImage
import ViTLensModels

/// libFuzzer target: `config.json` and `preprocessor_config.json` (split at `\n--8<--\n`).
///
/// `config.json` goes through `ModelLoader.load` with a weight file that holds no tensors, so
/// the `model_type` dispatch and the family's typed config (decoding, checks, `id2label`) run in
/// full, and its config-to-model code as far as it goes without weights (it stops at the first
/// missing weight). `preprocessor_config.json`
/// goes through `ImageProcessorConfig(jsonData:file:)`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let parts = FuzzInput.parts(FuzzInput.data(input, size), count: 2)
    FuzzScratch.write("config.json", parts[0])
    FuzzScratch.write("model.safetensors", emptyCheckpoint)
    if let files = try? ModelFiles(directory: FuzzScratch.folder) {
        _ = try? ModelLoader.load(files)
    }
    _ = try? ImageProcessorConfig(jsonData: parts[1], file: "preprocessor_config.json")
    return 0
}

/// A valid `.safetensors` file with no tensors: header length 2, header `{}`.
private let emptyCheckpoint = Data([2, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8))

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
