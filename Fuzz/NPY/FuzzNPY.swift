import Foundation
import FuzzSupport
import ViTLensCore

/// libFuzzer target: `.npy` bytes through `NPY.decode` (magic, version, header dict, shape, data).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let array = try? NPY.decode(FuzzInput.data(input, size), file: "fuzz.npy") else { return 0 }
    // A decoded array must be self-consistent.
    let count = array.shape.reduce(1, *)
    if array.floats.count != count || (!array.integers.isEmpty && array.integers.count != count) {
        fatalError("decoded \(array.floats.count) floats for shape \(array.shape)")
    }
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
